"""Optional: the second-milestone layers, losses and metrics against Keras 3 itself
(KERAS_BACKEND=numpy), with the same weights and inputs.

Keras' NumPy backend has no autodiff and cannot fit, so gradients are compared with
PyTorch (tests/autodiff/test_torch_beyond_dense.py) and BatchNormalization's moving
statistics after a fit are compared step by step: every batch of a pydl fit is fed,
through the same pre-step weights, to Keras' own BatchNormalization layer with
training=True, whose call runs Keras' update rule.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "numpy")
keras = pytest.importorskip("keras")

import pydl  # noqa: E402
from pydl import layers  # noqa: E402


def k(x):
    """A Keras tensor or variable as a NumPy array."""
    if isinstance(x, keras.Variable):
        x = x.value
    return np.array(x)


def both(pydl_layer, keras_layer, x, weights=None, **call):
    """Outputs of both layers on x (Keras gets pydl's weights when `weights`)."""
    keras_layer.build(np.shape(x))
    if weights:  # before either call: BatchNormalization's call updates its statistics
        for theirs, ours in zip(keras_layer.weights, pydl_layer.weights):
            theirs.assign(ours.numpy())
    return np.asarray(pydl_layer(x, **call)), k(keras_layer(x, **call))


@pytest.mark.parametrize("axis,shape", [(-1, (16, 5)), (1, (6, 4, 3))])
def test_batch_normalization_training_and_inference(rng, axis, shape):
    ours = layers.BatchNormalization(axis=axis, momentum=0.8)
    theirs = keras.layers.BatchNormalization(axis=axis, momentum=0.8)
    x = rng.normal(2, 3, size=shape).astype(np.float32)
    ours.build(shape)
    ours.gamma.assign(rng.normal(size=shape[axis]))
    ours.beta.assign(rng.normal(size=shape[axis]))
    got, want = both(ours, theirs, x, weights=True, training=True)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.weights, theirs.weights):  # moving statistics updated
        np.testing.assert_allclose(a.numpy(), k(b), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(ours(x)), k(theirs(x)), rtol=1e-5, atol=1e-5)
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]


@pytest.mark.parametrize("kwargs,shape", [({}, (5, 8)), ({"axis": [1, 2]}, (4, 3, 6)),
                                          ({"axis": 1, "center": False}, (4, 3, 6)),
                                          ({"rms_scaling": True}, (5, 8))])
def test_layer_normalization(rng, kwargs, shape):
    ours = layers.LayerNormalization(**kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras 3.15 deprecates rms_scaling (same math)
        theirs = keras.layers.LayerNormalization(**kwargs)
        x = rng.normal(1, 2, size=shape).astype(np.float32)
        ours.build(shape)
        for w in ours.weights:
            w.assign(rng.normal(size=w.value.shape))
        got, want = both(ours, theirs, x, weights=True)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_unit_normalization_embedding_and_pools(rng):
    x = rng.normal(size=(4, 6, 5)).astype(np.float32)
    for axis in (-1, [1, 2]):
        got, want = both(layers.UnitNormalization(axis=axis),
                         keras.layers.UnitNormalization(axis=axis), x)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    tokens = np.array([[3, 1, 0, 0], [2, 0, 5, 0]])
    ours, theirs = layers.Embedding(7, 5, mask_zero=True), keras.layers.Embedding(7, 5,
                                                                                  mask_zero=True)
    ours.build(tokens.shape)
    got, want = both(ours, theirs, tokens, weights=True)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ours.compute_mask(tokens), k(theirs.compute_mask(tokens)))
    mask = tokens != 0
    for data_format, keepdims in (("channels_last", False), ("channels_first", True)):
        kw = dict(data_format=data_format, keepdims=keepdims)
        got, want = both(layers.GlobalAveragePooling1D(**kw),
                         keras.layers.GlobalAveragePooling1D(**kw), x)
        np.testing.assert_allclose(got, want, rtol=1e-6)
        got, want = both(layers.GlobalMaxPooling1D(**kw), keras.layers.GlobalMaxPooling1D(**kw), x)
        np.testing.assert_array_equal(got, want)
    got, want = both(layers.GlobalAveragePooling1D(), keras.layers.GlobalAveragePooling1D(),
                     x[:2, :4], mask=mask)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_preprocessing_layers(rng):
    data = rng.normal([1.0, 5.0, -2.0], [1.0, 3.0, 0.5], size=(64, 3)).astype(np.float32)
    ours, theirs = layers.Normalization(), keras.layers.Normalization()
    ours.adapt(data)
    theirs.adapt(data)
    np.testing.assert_allclose(np.asarray(ours(data)), k(theirs(data)), rtol=1e-4, atol=1e-5)
    # (Keras' adapt over an iterable of batches needs TensorFlow; pydl's streaming adapt is
    # checked against NumPy in test_layers_beyond_dense.py.)
    got, want = both(layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 9.0],
                                          invert=True),
                     keras.layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 9.0],
                                                invert=True), data)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    got, want = both(layers.Rescaling(1 / 127.5, offset=-1), keras.layers.Rescaling(1 / 127.5,
                                                                                   offset=-1),
                     data)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    tokens = rng.integers(0, 9, size=(5, 7))
    for mode in ("multi_hot", "count"):
        got, want = both(layers.CategoryEncoding(9, output_mode=mode),
                         keras.layers.CategoryEncoding(9, output_mode=mode), tokens)
        np.testing.assert_array_equal(got, want)
    got, want = both(layers.CategoryEncoding(9, output_mode="one_hot"),
                     keras.layers.CategoryEncoding(9, output_mode="one_hot"), tokens[:, :1])
    np.testing.assert_array_equal(got, want)


def test_activity_regularization_loss(rng):
    x = rng.normal(size=(6, 4)).astype(np.float32)
    ours, theirs = layers.ActivityRegularization(0.1, 0.3), keras.layers.ActivityRegularization(
        0.1, 0.3)
    ours(x)
    theirs(x)
    np.testing.assert_allclose(float(ours.losses[0]), float(k(theirs.losses[0])), rtol=1e-5)


def test_dense_activity_regularizer_loss_is_divided_by_the_batch_as_keras(rng):
    x = rng.normal(size=(6, 4)).astype(np.float32)
    ours = layers.Dense(3, activity_regularizer=pydl.regularizers.L1L2(0.1, 0.3))
    theirs = keras.layers.Dense(3, activity_regularizer=keras.regularizers.L1L2(0.1, 0.3))
    ours.build((None, 4))
    theirs.build((None, 4))
    theirs.set_weights(ours.get_weights())
    ours(x)
    theirs(x)
    np.testing.assert_allclose(float(ours.losses[0]), float(k(theirs.losses[0])), rtol=1e-5)


LOSSES = ["KLDivergence", "Poisson", "LogCosh", "Hinge", "SquaredHinge", "CategoricalHinge",
          "CosineSimilarity", "MeanSquaredLogarithmicError", "MeanAbsolutePercentageError"]


@pytest.mark.parametrize("name", LOSSES)
def test_losses_match_keras(rng, name):
    y_true = rng.uniform(0.05, 1, size=(8, 5)).astype(np.float32)
    if name in ("Hinge", "SquaredHinge"):
        y_true = rng.integers(0, 2, size=(8, 5)).astype(np.float32)
    if name == "CategoricalHinge":
        y_true = np.eye(5, dtype=np.float32)[rng.integers(0, 5, size=8)]
    y_pred = rng.uniform(0.05, 1.5, size=(8, 5)).astype(np.float32)
    w = rng.uniform(0, 2, size=8).astype(np.float32)
    ours, theirs = getattr(pydl.losses, name)(), getattr(keras.losses, name)()
    assert ours.name == theirs.name
    for sw in (None, w):
        np.testing.assert_allclose(float(ours(y_true, y_pred, sample_weight=sw)),
                                   float(k(theirs(y_true, y_pred, sample_weight=sw))), rtol=2e-5)


def test_loss_strings_resolve_as_keras():
    for string in ("kld", "kl_divergence", "poisson", "log_cosh", "logcosh", "hinge",
                   "squared_hinge", "categorical_hinge", "cosine_similarity", "msle",
                   "mean_squared_logarithmic_error", "mape", "mean_absolute_percentage_error"):
        assert isinstance(pydl.losses.get(string), pydl.losses.Loss)


METRICS = [("F1Score", {"average": "macro"}), ("F1Score", {"threshold": 0.5}),
           ("FBetaScore", {"beta": 2.0, "average": "weighted"}),
           ("FBetaScore", {"average": "micro", "threshold": 0.3}),
           ("R2Score", {}), ("R2Score", {"class_aggregation": "variance_weighted_average"}),
           ("RootMeanSquaredError", {}), ("TopKCategoricalAccuracy", {"k": 2}),
           ("SparseTopKCategoricalAccuracy", {"k": 2}), ("MeanAbsolutePercentageError", {})]


@pytest.mark.parametrize("name,kwargs", METRICS)
def test_metrics_match_keras_over_batches(rng, name, kwargs):
    ours, theirs = getattr(pydl.metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for _ in range(3):
        y_pred = rng.uniform(0, 1, size=(10, 4)).astype(np.float32)
        if name in ("F1Score", "FBetaScore", "TopKCategoricalAccuracy"):
            y_true = np.eye(4, dtype=np.float32)[rng.integers(0, 4, size=10)]
        elif name == "SparseTopKCategoricalAccuracy":
            y_true = rng.integers(0, 4, size=10)
        else:
            y_true = rng.uniform(0.5, 2, size=(10, 4)).astype(np.float32)
        w = rng.uniform(0, 2, size=10).astype(np.float32)
        ours.update_state(y_true, y_pred, sample_weight=w)
        theirs.update_state(y_true, y_pred, sample_weight=w)
    np.testing.assert_allclose(np.asarray(ours.result(), np.float64), k(theirs.result()),
                               rtol=1e-4, atol=1e-6)
    assert ours.name == theirs.name
    ours.reset_state()
    theirs.reset_state()
    for a, b in zip(ours.variables, theirs.variables):
        np.testing.assert_array_equal(a.numpy(), k(b))


def test_batch_normalization_moving_statistics_after_a_fit_match_keras(rng):
    """A pydl fit (Dense -> BatchNormalization -> Dense, SGD, shuffle=False) records each
    batch's pre-step Dense weights; Keras' own BatchNormalization, called with training=True on
    the Dense outputs of those weights, runs Keras' update rule batch by batch."""
    pydl.utils.set_random_seed(3)
    model = pydl.Sequential([pydl.Input((6,)), layers.Dense(5), layers.BatchNormalization(),
                             layers.Dense(1)])
    model.compile(pydl.optimizers.SGD(learning_rate=0.1), "mse")
    x = rng.normal(1, 2, size=(96, 6)).astype(np.float32)
    y = rng.normal(size=(96, 1)).astype(np.float32)
    dense = model.layers[0]
    pre_step = []

    class Record(pydl.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            pre_step.append([w.numpy() for w in dense.weights])

    keras_bn = keras.layers.BatchNormalization()
    keras_bn.build((None, 5))
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[Record()])
    batches = [x[i:i + 16] for i in range(0, 96, 16)] * 2
    assert len(pre_step) == len(batches)
    for (kernel, bias), xb in zip(pre_step, batches):
        keras_bn(xb @ kernel + bias, training=True)
    bn = model.layers[1]
    np.testing.assert_allclose(bn.moving_mean.numpy(), k(keras_bn.moving_mean), atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), k(keras_bn.moving_variance), atol=1e-5)
    assert not np.allclose(bn.moving_mean.numpy(), 0)  # the statistics did move
