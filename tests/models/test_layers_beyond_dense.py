"""The second-milestone layers: Keras 3 semantics, argument errors, configs, saving, shapes,
masking, and the two book models (IMDB multi-hot, Embedding text classifier) learning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import pydl
from pydl import layers


# ---------------------------------------------------------------- argument errors
@pytest.mark.parametrize("make,error,match", [
    (lambda: layers.BatchNormalization(axis=1.5), TypeError, "expected axis to be an int"),
    (lambda: layers.BatchNormalization(momentum=1.5), ValueError, "momentum=1.5"),
    (lambda: layers.BatchNormalization(epsilon=0), ValueError, "epsilon=0"),
    (lambda: layers.BatchNormalization(center="yes"), TypeError, "center="),
    (lambda: layers.BatchNormalization(synchronized=True), ValueError, "synchronized=True"),
    (lambda: layers.LayerNormalization(axis="last"), TypeError, "axis="),
    (lambda: layers.LayerNormalization(epsilon=-1.0), ValueError, "epsilon=-1.0"),
    (lambda: layers.LayerNormalization(rms_scaling=1), TypeError, "rms_scaling=1"),
    (lambda: layers.UnitNormalization(axis=None), TypeError, "axis=None"),
    (lambda: layers.Embedding(0, 4), ValueError, "input_dim=0"),
    (lambda: layers.Embedding(10, 2.5), ValueError, "output_dim=2.5"),
    (lambda: layers.Embedding(10, 4, mask_zero=None), TypeError, "mask_zero=None"),
    (lambda: layers.GlobalAveragePooling1D(data_format="nwc"), ValueError, "data_format='nwc'"),
    (lambda: layers.GlobalMaxPooling1D(keepdims=1), TypeError, "keepdims=1"),
    (lambda: layers.Normalization(axis="x"), TypeError, "axis='x'"),
    (lambda: layers.Normalization(mean=1.0), ValueError, "both `mean` and `variance`"),
    (lambda: layers.Normalization(mean=[1.0, 2.0], variance=[1.0]), ValueError, "same shape"),
    (lambda: layers.Rescaling("half"), ValueError, "scale='half'"),
    (lambda: layers.CategoryEncoding(), ValueError, "num_tokens=None"),
    (lambda: layers.CategoryEncoding(0), ValueError, "num_tokens=0"),
    (lambda: layers.CategoryEncoding(5, output_mode="tf_idf"), ValueError, "output_mode='tf_idf'"),
    (lambda: layers.CategoryEncoding(5, sparse=True), ValueError, "sparse=True"),
    (lambda: layers.GaussianNoise(1.5), ValueError, "stddev=1.5"),
    (lambda: layers.GaussianNoise(0.1, seed=-1), ValueError, "seed=-1"),
    (lambda: layers.GaussianDropout(1.0), ValueError, "rate=1.0"),
    (lambda: layers.AlphaDropout(-0.1), ValueError, "rate=-0.1"),
    (lambda: layers.ActivityRegularization(l1=-1), ValueError, "l1=-1"),
])
def test_bad_arguments_name_the_argument(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_build_errors_name_the_shape():
    with pytest.raises(ValueError, match="axis 2 is out of bounds"):
        layers.BatchNormalization(axis=2).build((None, 3))
    with pytest.raises(ValueError, match="expected inputs of rank 3"):
        layers.GlobalAveragePooling1D().build((None, 3))
    with pytest.raises(ValueError, match="axis 3 is out of bounds"):
        layers.LayerNormalization(axis=(1, 3)).build((None, 3, 4))


# ---------------------------------------------------------------- configs, shapes, saving
LAYERS = [
    (lambda: layers.BatchNormalization(momentum=0.9, epsilon=1e-2, center=False), (4, 6)),
    (lambda: layers.BatchNormalization(axis=1), (4, 3, 5)),
    (lambda: layers.LayerNormalization(axis=[1, 2], scale=False), (4, 3, 5)),
    (lambda: layers.LayerNormalization(rms_scaling=True), (4, 6)),
    (lambda: layers.UnitNormalization(axis=[1, 2]), (4, 3, 5)),
    (lambda: layers.Embedding(20, 4, mask_zero=True), (4, 7)),
    (lambda: layers.GlobalAveragePooling1D(keepdims=True), (4, 7, 3)),
    (lambda: layers.GlobalMaxPooling1D(data_format="channels_first"), (4, 7, 3)),
    (lambda: layers.Normalization(axis=None, mean=2.0, variance=4.0), (4, 6)),
    (lambda: layers.Rescaling(1 / 255, offset=-0.5), (4, 6)),
    (lambda: layers.CategoryEncoding(20, output_mode="count"), (4, 7)),
    (lambda: layers.CategoryEncoding(20, output_mode="one_hot"), (4, 1)),
    (lambda: layers.GaussianNoise(0.2, seed=1), (4, 6)),
    (lambda: layers.GaussianDropout(0.2, seed=1), (4, 6)),
    (lambda: layers.AlphaDropout(0.2, noise_shape=(None, 1), seed=1), (4, 6)),
    (lambda: layers.ActivityRegularization(l1=0.01, l2=0.02), (4, 6)),
    (lambda: layers.Identity(), (4, 6)),
]


def _inputs(layer, shape, rng):
    if isinstance(layer, (layers.Embedding, layers.CategoryEncoding)):
        return rng.integers(0, 20, size=shape)
    return rng.normal(size=shape).astype(np.float32)


@pytest.mark.parametrize("make,shape", LAYERS)
def test_config_round_trip_and_output_shape(rng, make, shape):
    layer = make()
    x = _inputs(layer, shape, rng)
    y = np.asarray(layer(x))
    assert tuple(layer.compute_output_shape(shape)) == y.shape
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone.build(shape)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(np.asarray(clone(x)), y)


def test_model_save_and_load_keeps_weights_and_statistics(tmp_path, rng):
    norm = layers.Normalization()
    norm.adapt(rng.normal(3, 2, size=(50, 6)))
    model = pydl.Sequential([
        pydl.Input((6,)), norm, layers.Dense(8), layers.BatchNormalization(),
        layers.LayerNormalization(), layers.GaussianNoise(0.1), layers.GaussianDropout(0.1),
        layers.AlphaDropout(0.1), layers.UnitNormalization(), layers.Rescaling(2.0),
        layers.ActivityRegularization(0.01), layers.Identity(), layers.Dense(1)])
    model.compile("adam", "mse")
    x, y = rng.normal(size=(32, 6)), rng.normal(size=(32, 1))
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    path = tmp_path / "m.pydl"
    model.save(path)
    loaded = pydl.models.load_model(path)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    # The noise layers' generators are restored too: the next training step matches.
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    loaded.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_text_models_save_and_load(tmp_path, rng):
    for head in ([layers.Embedding(50, 8, mask_zero=True), layers.GlobalAveragePooling1D()],
                 [layers.CategoryEncoding(50)]):
        model = pydl.Sequential([pydl.Input((12,))] + head + [layers.Dense(1, "sigmoid")])
        x = rng.integers(0, 50, size=(16, 12))
        path = tmp_path / "t.pydl"
        model.save(path)
        loaded = pydl.models.load_model(path)
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# ---------------------------------------------------------------- BatchNormalization
def test_batch_normalization_training_inference_and_moving_statistics(rng):
    layer = layers.BatchNormalization(momentum=0.9)
    x = rng.normal(2, 3, size=(16, 4)).astype(np.float32)
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(0), x.var(0) / (x.var(0) + 1e-3), rtol=1e-4)
    mean, var = x.astype(np.float64).mean(0), x.astype(np.float64).var(0)  # biased, as Keras 3
    want_mean = np.zeros(4, np.float32) * np.float32(0.9) + mean.astype(np.float32) * np.float32(0.1)
    want_var = np.ones(4, np.float32) * np.float32(0.9) + var.astype(np.float32) * np.float32(0.1)
    np.testing.assert_allclose(layer.moving_mean.numpy(), want_mean, rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), want_var, rtol=1e-6)
    # Inference: the moving statistics, and no update.
    before = layer.moving_mean.numpy()
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y, (x - want_mean) / np.sqrt(want_var + 1e-3), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), before)


def test_batch_normalization_trainable_false_runs_in_inference_mode(rng):
    layer = layers.BatchNormalization()
    x = rng.normal(2, 3, size=(8, 4)).astype(np.float32)
    layer.build(x.shape)
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), 0)


def test_batch_normalization_weights_order_and_fit_updates_statistics(rng):
    model = pydl.Sequential([pydl.Input((5,)), layers.Dense(4), layers.BatchNormalization(),
                             layers.Dense(1)])
    bn = model.layers[1]
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(64, 5)), rng.normal(size=(64, 1))
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert not np.allclose(bn.moving_mean.numpy(), 0)
    after_fit = bn.moving_mean.numpy()
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), after_fit)


# ---------------------------------------------------------------- masking
def test_embedding_mask_reaches_global_average_pooling(rng):
    emb = layers.Embedding(30, 4, mask_zero=True)
    pool = layers.GlobalAveragePooling1D()
    tokens = np.array([[3, 5, 0, 0], [7, 0, 0, 0], [1, 2, 3, 4]])
    vectors = emb(tokens)
    np.testing.assert_array_equal(vectors._keras_mask, tokens != 0)
    np.testing.assert_array_equal(emb.compute_mask(tokens), tokens != 0)
    pooled = np.asarray(pool(vectors))
    table = emb.embeddings.numpy()
    want = [table[[3, 5]].mean(0), table[[7]].mean(0), table[[1, 2, 3, 4]].mean(0)]
    np.testing.assert_allclose(pooled, want, rtol=1e-6)
    assert pool(vectors)._keras_mask is None  # the mask stops at the pooling


def test_mask_passes_through_dense_and_is_dropped_with_a_warning(rng):
    tokens = np.array([[3, 0], [1, 2]])
    emb = layers.Embedding(5, 3, mask_zero=True)
    dense_out = layers.Dense(2)(emb(tokens))
    np.testing.assert_array_equal(dense_out._keras_mask, tokens != 0)
    with pytest.warns(UserWarning, match="does not support masking"):
        layers.GlobalMaxPooling1D()(dense_out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layers.Embedding(5, 3)(tokens)  # no mask: no warning


def test_explicit_mask_argument_and_masked_batch_normalization(rng):
    x = rng.normal(size=(2, 3, 4)).astype(np.float32)
    mask = np.array([[True, True, False], [True, False, False]])
    pooled = np.asarray(layers.GlobalAveragePooling1D()(x, mask=mask))
    np.testing.assert_allclose(pooled, [x[0, :2].mean(0), x[1, 0]], rtol=1e-6)
    bn = layers.BatchNormalization(momentum=0.0)
    bn(x, training=True, mask=mask)
    kept = x[mask]
    np.testing.assert_allclose(bn.moving_mean.numpy(), kept.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), kept.var(0), rtol=1e-4, atol=1e-6)


def test_embedding_index_errors_and_integer_inputs():
    layer = layers.Embedding(10, 2)
    with pytest.raises(ValueError, match=r"received 10 at position \(1, 0\)"):
        layer(np.array([[1, 2], [10, 3]]))
    with pytest.raises(ValueError, match=r"received -2 at position \(0, 1\)"):
        layer(np.array([[1, -2]]))
    np.testing.assert_array_equal(np.asarray(layer(np.array([[1.0, 9.0]]))),
                                  layer.embeddings.numpy()[[[1, 9]]])


# ---------------------------------------------------------------- Normalization.adapt
def _batches(x, size):
    for i in range(0, len(x), size):
        yield x[i:i + size]


@pytest.mark.parametrize("feed", ["array", "batch_size", "steps", "generator", "list", "tuples"])
def test_normalization_adapt_streams_over_batches(rng, feed):
    x = rng.normal([1.0, -2.0, 5.0], [0.5, 2.0, 3.0], size=(103, 3))
    layer = layers.Normalization()
    used = x
    if feed == "array":
        layer.adapt(x)
    elif feed == "batch_size":
        layer.adapt(x, batch_size=10)
    elif feed == "steps":
        layer.adapt(x, batch_size=10, steps=4)
        used = x[:40]
    elif feed == "generator":
        layer.adapt(_batches(x, 17))
    elif feed == "list":
        layer.adapt(list(_batches(x, 30)))
    else:
        layer.adapt(((b, np.zeros(len(b))) for b in _batches(x, 25)))
    np.testing.assert_allclose(layer.adapt_mean.numpy(), used.mean(0), rtol=1e-6)
    np.testing.assert_allclose(layer.adapt_variance.numpy(), used.var(0), rtol=1e-5)
    assert int(layer.count.numpy()) == len(used)
    y = np.asarray(layer(used))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, rtol=1e-4)


def test_normalization_axes_invert_and_given_statistics(rng):
    x = rng.normal(2, 3, size=(10, 4, 3))
    layer = layers.Normalization(axis=(1, 2))
    layer.adapt(x)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), x.mean(0), rtol=1e-6)
    whole = layers.Normalization(axis=None)
    whole.adapt(x)
    np.testing.assert_allclose(whole.adapt_mean.numpy(), x.mean(), rtol=1e-6)
    inverse = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.25], invert=True)
    z = rng.normal(size=(5, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(inverse(z)), z * [2.0, 1.0, 0.5] + [1.0, 2.0, 3.0],
                               rtol=1e-6)


def test_normalization_adapt_errors():
    layer = layers.Normalization()
    with pytest.raises(ValueError, match="no data"):
        layer.adapt(iter([]))
    with pytest.raises(ValueError, match="batch_size applies to array data"):
        layer.adapt([np.zeros((2, 3))], batch_size=2)
    layer.adapt(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"built for inputs of shape \(4, 3\)"):
        layer.adapt(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="steps=0"):
        layer.adapt(np.zeros((4, 3)), steps=0)
    with pytest.raises(ValueError, match="given mean and variance"):
        layers.Normalization(mean=0.0, variance=1.0).adapt(np.zeros((4, 3)))


# ---------------------------------------------------------------- CategoryEncoding
def test_category_encoding_modes(rng):
    tokens = np.array([[1, 3, 3, 0], [2, 2, 2, 2]])
    multi = np.asarray(layers.CategoryEncoding(5)(tokens))
    np.testing.assert_array_equal(multi, [[1, 1, 0, 1, 0], [0, 0, 1, 0, 0]])
    count = np.asarray(layers.CategoryEncoding(5, output_mode="count")(tokens))
    np.testing.assert_array_equal(count, [[1, 1, 0, 2, 0], [0, 0, 4, 0, 0]])
    weights = np.array([[1, 2, 3, 4], [0.5, 0.5, 0.5, 0.5]])
    weighted = np.asarray(layers.CategoryEncoding(5, output_mode="count")(
        tokens, count_weights=weights))
    np.testing.assert_array_equal(weighted, [[4, 1, 0, 5, 0], [0, 0, 2, 0, 0]])
    one_hot = np.asarray(layers.CategoryEncoding(4, output_mode="one_hot")(np.array([3, 0, 1])))
    np.testing.assert_array_equal(one_hot, np.eye(4)[[3, 0, 1]])
    column = np.asarray(layers.CategoryEncoding(4, output_mode="one_hot")(np.array([[3], [1]])))
    np.testing.assert_array_equal(column, np.eye(4)[[3, 1]])
    single = np.asarray(layers.CategoryEncoding(4)(np.array([3, 3, 1])))  # one sample
    np.testing.assert_array_equal(single, [0, 1, 0, 1])
    assert multi.dtype == np.float32


def test_category_encoding_errors_name_the_token_and_position():
    with pytest.raises(ValueError, match=r"num_tokens=5\), received 5 at position \(1, 2\)"):
        layers.CategoryEncoding(5)(np.array([[0, 1, 2], [3, 4, 5]]))
    with pytest.raises(ValueError, match=r"received -1 at position \(0,\)"):
        layers.CategoryEncoding(5, output_mode="one_hot")(np.array([-1, 2]))
    with pytest.raises(ValueError, match="count_weights is only used"):
        layers.CategoryEncoding(5)(np.array([[1]]), count_weights=np.ones((1, 1)))
    with pytest.raises(ValueError, match="rank <= 2"):
        layers.CategoryEncoding(5)(np.zeros((2, 2, 2), np.int64))


# ---------------------------------------------------------------- noise and regularization
@pytest.mark.parametrize("make", [lambda s: layers.GaussianNoise(0.5, seed=s),
                                  lambda s: layers.GaussianDropout(0.5, seed=s),
                                  lambda s: layers.AlphaDropout(0.5, seed=s)])
def test_noise_layers_act_only_in_training_and_repeat_with_a_seed(rng, make):
    x = rng.normal(size=(200, 50)).astype(np.float32)
    layer = make(7)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    first = np.asarray(layer(x, training=True))
    assert first.dtype == np.float32 and not np.array_equal(first, x)
    assert not np.array_equal(np.asarray(layer(x, training=True)), first)  # a fresh draw
    np.testing.assert_array_equal(np.asarray(make(7)(x, training=True)), first)


def test_noise_statistics():
    x = np.ones((400, 500), np.float32)
    noisy = np.asarray(layers.GaussianNoise(0.3, seed=0)(x, training=True)) - 1
    assert abs(noisy.mean()) < 0.01 and abs(noisy.std() - 0.3) < 0.01
    dropped = np.asarray(layers.GaussianDropout(0.2, seed=0)(x, training=True))
    assert abs(dropped.mean() - 1) < 0.01 and abs(dropped.std() - 0.5) < 0.01
    # AlphaDropout keeps a standard normal input's mean 0 and variance 1.
    z = np.random.default_rng(1).normal(size=(400, 500)).astype(np.float32)
    alpha = np.asarray(layers.AlphaDropout(0.3, seed=0)(z, training=True))
    assert abs(alpha.mean()) < 0.02 and abs(alpha.std() - 1) < 0.02


def test_alpha_dropout_formula_and_noise_shape(rng):
    x = rng.normal(size=(6, 5)).astype(np.float32)
    layer = layers.AlphaDropout(0.4, noise_shape=(None, 1), seed=3)
    y = np.asarray(layer(x, training=True))
    kept = (np.random.default_rng(3).random((6, 1), dtype=np.float32) >= 0.4).astype(np.float32)
    alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = ((1 - 0.4) * (1 + 0.4 * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * 0.4
    np.testing.assert_allclose(y, a * (x * kept + alpha_p * (1 - kept)) + b, rtol=1e-6, atol=1e-6)


def test_activity_regularization_adds_penalty_per_sample(rng):
    x = rng.normal(size=(8, 3)).astype(np.float32)
    layer = layers.ActivityRegularization(l1=0.1, l2=0.2)
    assert np.asarray(layer(x)) is x or np.array_equal(np.asarray(layer(x)), x)
    want = (0.1 * np.abs(x).sum() + 0.2 * (x.astype(np.float64) ** 2).sum()) / 8
    assert float(layer.losses[0]) == pytest.approx(want, rel=1e-5)


# ---------------------------------------------------------------- the book's models learn
def _imdb_like(rng, n, length=120, vocab=2000):
    """Synthetic reviews of IMDB's shape: integer sequences; label 1 when more words come from
    the 'positive' half of a planted vocabulary subset."""
    seqs = rng.integers(1, vocab, size=(n, length))
    labels = rng.integers(0, 2, size=n)
    signal = np.where(labels[:, None] == 1, rng.integers(10, 60, size=(n, 8)),
                      rng.integers(60, 110, size=(n, 8)))
    seqs[:, :8] = signal
    return seqs, labels.astype(np.float32)


def test_dlwp_imdb_multi_hot_model_trains(rng):
    pydl.utils.set_random_seed(0)
    x, y = _imdb_like(rng, 700, length=100, vocab=1000)
    model = pydl.Sequential([
        pydl.Input((x.shape[1],)),
        layers.CategoryEncoding(num_tokens=1000, output_mode="multi_hot"),
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:560], y[:560], epochs=5, batch_size=64, verbose=0,
                        validation_data=(x[560:], y[560:]))
    assert history.history["loss"][-1] < history.history["loss"][0] - 0.3
    assert history.history["val_accuracy"][-1] > 0.8


def test_embedding_pooling_text_classifier_learns_a_planted_signal(rng):
    pydl.utils.set_random_seed(0)
    x, y = _imdb_like(rng, 600, length=40, vocab=500)
    x[:, 30:] = 0  # padding
    model = pydl.Sequential([
        pydl.Input((40,)),
        layers.Embedding(500, 16, mask_zero=True),
        layers.GlobalAveragePooling1D(),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=pydl.optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x[:500], y[:500], epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] - 0.3
    assert model.evaluate(x[500:], y[500:], verbose=0)[1] > 0.9


def test_auto_names_follow_keras_snake_case():
    pydl.backend.clear_session()
    assert layers.GlobalAveragePooling1D().name == "global_average_pooling1d"
    assert layers.BatchNormalization().name == "batch_normalization"
    assert layers.UnitNormalization().name == "unit_normalization"
