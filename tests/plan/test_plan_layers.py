"""The second milestone's layers on the fused plan against the GradientTape, bit for bit:
BatchNormalization (batch and moving statistics), LayerNormalization, UnitNormalization,
Embedding (masked pooling too), global poolings, Rescaling, Normalization,
CategoryEncoding, the noise layers and Identity, in Sequential and Functional models, at
1 and 2 threads, the last batch partial; the DLwP IMDB model and the Embedding text
classifier learn on the plan."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers, optimizers
from pydl.models import plan as _plan

from conftest import num_threads
from .test_fit_plan import assert_same_training, fit_both, fused_plan, mlp

N = 45  # batches of 8: the last one has 5 rows


def _tokens(rng, n, steps, vocab, pad_from=None):
    t = rng.integers(1, vocab, (n, steps)).astype(np.float32)
    if pad_from is not None:  # padding (token 0) after a random length per sample
        lengths = rng.integers(1, steps + 1, n)
        lengths[0] = pad_from
        t[np.arange(steps)[None, :] >= lengths[:, None]] = 0
    return t


def _norm_adapted(rng):
    layer = layers.Normalization()
    layer.adapt(rng.standard_normal((30, 6)).astype(np.float32) * 3 + 1)
    return layer


CASES = {
    # name: (layers (makers), per-sample input shape, input kind, loss, optimizer)
    "dense-bn-relu": (lambda rng: [lambda: layers.Dense(9), lambda: layers.BatchNormalization(),
                                   lambda: layers.Activation("relu"), lambda: layers.Dense(3)],
                      (6,), "normal", "mse", lambda: optimizers.SGD(0.05, momentum=0.9)),
    "bn-first-no-center-momentum": (
        lambda rng: [lambda: layers.BatchNormalization(center=False, momentum=0.7, epsilon=0.01),
                     lambda: layers.Dense(3, activation="softmax")],
        (6,), "normal", "categorical_crossentropy", lambda: optimizers.Adam(0.01)),
    "bn-axis-1-of-rank-3-no-scale": (
        lambda rng: [lambda: layers.Dense(4),
                     lambda: layers.BatchNormalization(axis=1, scale=False),
                     lambda: layers.Flatten(), lambda: layers.Dense(3)],
        (5, 6), "normal", "mse", lambda: optimizers.RMSprop(0.01)),
    "bn-frozen-inference": (
        lambda rng: [lambda: layers.Dense(9), lambda: _frozen(layers.BatchNormalization()),
                     lambda: layers.Dense(3)],
        (6,), "normal", "mse", lambda: optimizers.Adam(0.01)),
    "layernorm-and-rms": (
        lambda rng: [lambda: layers.Dense(8), lambda: layers.LayerNormalization(),
                     lambda: layers.Dense(8, activation="tanh"),
                     lambda: layers.LayerNormalization(rms_scaling=True, epsilon=1e-5),
                     lambda: layers.Dense(3)],
        (6,), "normal", "huber", lambda: optimizers.Adam(0.01)),
    "unit-normalization": (
        lambda rng: [lambda: layers.Dense(8), lambda: layers.UnitNormalization(),
                     lambda: layers.Dense(4, activation="relu"),
                     lambda: layers.Reshape((2, 2)), lambda: layers.UnitNormalization(axis=[1, 2]),
                     lambda: layers.Flatten(), lambda: layers.Dense(3)],
        (6,), "normal", "mse", lambda: optimizers.Adam(0.01)),
    "layernorm-last-two-axes-no-center": (
        lambda rng: [lambda: layers.Dense(4), lambda: layers.LayerNormalization(axis=[-2, -1],
                                                                                center=False),
                     lambda: layers.Flatten(), lambda: layers.Dense(3)],
        (5, 6), "normal", "mse", lambda: optimizers.SGD(0.05)),
    "noise-layers": (
        lambda rng: [lambda: layers.Dense(12, activation="selu"), lambda: layers.GaussianNoise(0.3),
                     lambda: layers.GaussianDropout(0.2, seed=3), lambda: layers.AlphaDropout(0.3),
                     lambda: layers.Dense(3)],
        (6,), "normal", "mse", lambda: optimizers.Adam(0.01)),
    "noise-at-the-input": (
        lambda rng: [lambda: layers.GaussianNoise(0.5, seed=1), lambda: layers.Dense(3)],
        (6,), "normal", "mae", lambda: optimizers.SGD(0.05)),
    "rescaling-normalization-identity": (
        lambda rng: [lambda: layers.Rescaling(0.5, offset=-0.25),
                     lambda: layers.Normalization(mean=np.arange(6.0),
                                                  variance=[0, 1, 2, 3, 4, 1e-20]),
                     lambda: layers.Identity(), lambda: layers.Dense(3)],
        (6,), "normal", "mse", lambda: optimizers.Adam(0.01)),
    "adapted-normalization-inverted-rescaling-mid-model": (
        lambda rng: [(lambda n=_norm_adapted(rng): n), lambda: layers.Dense(6),
                     lambda: layers.Rescaling(np.linspace(0.5, 2, 6).astype(np.float32)),
                     lambda: layers.Normalization(mean=1.0, variance=4.0, invert=True),
                     lambda: layers.Dense(3)],
        (6,), "normal", "mse", lambda: optimizers.Adam(0.01)),
    "embedding-average": (
        lambda rng: [lambda: layers.Embedding(30, 4), lambda: layers.GlobalAveragePooling1D(),
                     lambda: layers.Dense(1, activation="sigmoid")],
        (7,), "tokens", "binary_crossentropy", lambda: optimizers.Adam(0.01)),
    "embedding-mask-zero-dense-average": (  # the mask passes through Dense to the pooling
        lambda rng: [lambda: layers.Embedding(30, 4, mask_zero=True),
                     lambda: layers.Dense(5, activation="relu"),
                     lambda: layers.GlobalAveragePooling1D(),
                     lambda: layers.Dense(1, activation="sigmoid")],
        (7,), "padded", "binary_crossentropy", lambda: optimizers.RMSprop(0.01)),
    "embedding-max-keepdims-channels-first-average": (
        lambda rng: [lambda: layers.Embedding(30, 4, embeddings_regularizer="l2"),
                     lambda: layers.GlobalMaxPooling1D(keepdims=True), lambda: layers.Flatten(),
                     lambda: layers.Dense(3)],
        (7,), "tokens", "mse", lambda: optimizers.SGD(0.1, momentum=0.5)),
    "embedding-channels-first-average": (
        lambda rng: [lambda: layers.Embedding(30, 4),
                     lambda: layers.GlobalAveragePooling1D(data_format="channels_first"),
                     lambda: layers.Dense(3)],
        (7,), "tokens", "mse", lambda: optimizers.Adagrad(0.1)),
    "category-encoding-multi-hot": (
        lambda rng: [lambda: layers.CategoryEncoding(30),
                     lambda: layers.Dense(8, activation="relu"),
                     lambda: layers.Dense(1, activation="sigmoid")],
        (7,), "tokens", "binary_crossentropy", lambda: optimizers.RMSprop(0.01)),
    "category-encoding-count-one-hot": (
        lambda rng: [lambda: layers.CategoryEncoding(30, output_mode="one_hot"),
                     lambda: layers.Flatten(), lambda: layers.Dense(3)],
        (7,), "tokens", "mse", lambda: optimizers.Adam(0.01)),
    "category-encoding-count": (
        lambda rng: [lambda: layers.CategoryEncoding(30, output_mode="count"),
                     lambda: layers.Dense(3, activation="softmax")],
        (7,), "padded", "categorical_crossentropy", lambda: optimizers.Adam(0.01)),
}


def _frozen(layer):
    layer.trainable = False
    return layer


def _case_data(rng, shape, kind, loss, out):
    if kind == "normal":
        x = rng.standard_normal((N,) + shape).astype(np.float32)
    else:
        x = _tokens(rng, N, shape[0], 30, pad_from=3 if kind == "padded" else None)
    if loss == "binary_crossentropy":
        y = (rng.random((N, out)) < 0.5).astype(np.float32)
    elif loss == "categorical_crossentropy":
        y = np.eye(out, dtype=np.float32)[rng.integers(0, out, N)]
    else:
        y = rng.standard_normal((N, out)).astype(np.float32)
    return x, y


def _compare(case, threads=1):
    rng = np.random.default_rng(7)
    makers, shape, kind, loss, optimizer = CASES[case]
    spec = makers(rng)
    out = 1 if loss == "binary_crossentropy" else 3
    x, y = _case_data(rng, shape, kind, loss, out)
    metrics = ["accuracy"] if loss.endswith("crossentropy") else ["mae"]
    with num_threads(threads):
        plan, tape = fit_both(lambda: mlp(spec, shape),
                              lambda: dict(optimizer=optimizer(), loss=loss, metrics=metrics),
                              x, y, batch_size=8, epochs=2)
    assert_same_training(plan, tape)  # every weight: moving statistics and adapted ones too
    for a, b in zip(plan[0].layers, tape[0].layers):  # the same draws, no more
        if hasattr(a, "generator"):
            assert a.generator.bit_generator.state == b.generator.bit_generator.state
    return plan[0]


@pytest.mark.parametrize("case", sorted(CASES))
def test_sequential_plan_matches_tape_bitwise(case):
    _compare(case)


@pytest.mark.parametrize("case", ["dense-bn-relu", "noise-layers",
                                  "embedding-mask-zero-dense-average",
                                  "category-encoding-multi-hot"])
def test_sequential_plan_matches_tape_at_2_threads(case):
    _compare(case, threads=2)


def test_batchnorm_moving_statistics_follow_the_tape_exactly():
    model = _compare("dense-bn-relu")
    bn = model.layers[1]
    assert not np.array_equal(bn.moving_mean.value, np.zeros(9, np.float32))
    assert not np.array_equal(bn.moving_variance.value, np.ones(9, np.float32))


# -- larger shapes: the kernels split across threads -------------------------------------------
def _big(kind):
    if kind == "bn":
        return [lambda: layers.Dense(512), lambda: layers.BatchNormalization(),
                lambda: layers.Activation("relu"), lambda: layers.GaussianNoise(0.1),
                lambda: layers.LayerNormalization(), lambda: layers.UnitNormalization(),
                lambda: layers.AlphaDropout(0.1),
                lambda: layers.Dense(10, activation="softmax")], (40,)
    if kind == "text":
        return [lambda: layers.Embedding(2000, 32, mask_zero=True),
                lambda: layers.GlobalAveragePooling1D(),
                lambda: layers.Dense(1, activation="sigmoid")], (50,)
    return [lambda: layers.CategoryEncoding(3000), lambda: layers.GaussianDropout(0.3),
            lambda: layers.Dense(16, activation="relu"),
            lambda: layers.Dense(1, activation="sigmoid")], (50,)


@pytest.mark.parametrize("kind", ["bn", "text", "multi_hot"])
def test_plan_same_bits_at_1_and_2_threads(kind):
    rng = np.random.default_rng(3)
    spec, shape = _big(kind)
    if kind == "bn":
        x = rng.standard_normal((200,) + shape).astype(np.float32)
        y, loss = rng.integers(0, 10, 200), "sparse_categorical_crossentropy"
    else:
        x = _tokens(rng, 200, shape[0], 2000 if kind == "text" else 3000, pad_from=4)
        y, loss = (rng.random((200, 1)) < 0.5).astype(np.float32), "binary_crossentropy"
    results = []
    for threads in (1, 2):
        model = mlp(spec, shape)
        model.compile(optimizer="adam", loss=loss)
        pydl.utils.set_random_seed(4)
        with num_threads(threads):
            history = model.fit(x, y, batch_size=64, epochs=2, verbose=0).history
        assert fused_plan(model) is not None, _plan.plan_reason(model)
        results.append((history, model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


# -- Functional graphs ------------------------------------------------------------------------
def _text_and_features():
    tokens = pydl.Input((7,), name="tokens")
    features = pydl.Input((5,), name="features")
    e = layers.Embedding(30, 6, mask_zero=True)(tokens)
    pooled = layers.GlobalAveragePooling1D()(e)
    counts = layers.CategoryEncoding(30, output_mode="count")(tokens)  # the same input, twice
    f = layers.BatchNormalization()(layers.Dense(6)(features))
    f = layers.GaussianNoise(0.2)(layers.Activation("relu")(f))
    h = layers.Concatenate()([pooled, layers.Dense(6)(counts), f])
    h = layers.LayerNormalization()(h)
    return pydl.Model([tokens, features], layers.Dense(1, activation="sigmoid")(h))


def _bn_training_false():
    x = pydl.Input((6,))
    h = layers.Dense(8)(x)
    bn = layers.BatchNormalization()
    a = bn(h, training=False)       # recorded in the graph; fit's training=True wins
    b = layers.BatchNormalization()(h)
    h = layers.Add()([a, b])         # h feeds two layers: gradients summed
    h = layers.Dropout(0.3)(layers.GaussianDropout(0.3)(h, training=False))
    return pydl.Model(x, layers.Dense(1, activation="sigmoid")(h))


def _residual_norms():
    x = pydl.Input((8,))
    h = layers.Dense(8, activation="relu")(x)
    r = layers.LayerNormalization()(layers.Dense(8)(h))
    h = layers.Add()([h, r])
    r = layers.BatchNormalization()(layers.Dense(8)(h))
    h = layers.add([h, layers.AlphaDropout(0.2)(r)])
    return pydl.Model(x, layers.Dense(1, activation="sigmoid")(layers.Identity()(h)))


def _shared_embedding():
    """Two token inputs through one Embedding (two gradients into one table) and one
    BatchNormalization called twice (its moving statistics updated twice a step)."""
    a, b = pydl.Input((7,), name="a"), pydl.Input((7,), name="b")
    embed = layers.Embedding(30, 4, mask_zero=True)
    pool = layers.GlobalAveragePooling1D()
    bn = layers.BatchNormalization()
    h = layers.Concatenate()([bn(pool(embed(a))), bn(pool(embed(b)))])
    return pydl.Model([a, b], layers.Dense(1, activation="sigmoid")(h))


FUNCTIONAL = {"text-and-features": _text_and_features, "bn-training-false": _bn_training_false,
              "residual-norms": _residual_norms, "shared-embedding": _shared_embedding}


def _functional_data(name):
    rng = np.random.default_rng(5)
    y = (rng.random((N, 1)) < 0.5).astype(np.float32)
    if name == "text-and-features":
        return [_tokens(rng, N, 7, 30, pad_from=2),
                rng.standard_normal((N, 5)).astype(np.float32)], y
    if name == "shared-embedding":
        return [_tokens(rng, N, 7, 30, pad_from=2), _tokens(rng, N, 7, 30, pad_from=5)], y
    return rng.standard_normal((N, 6 if name == "bn-training-false" else 8)).astype(np.float32), y


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
@pytest.mark.parametrize("threads", [1, 2])
def test_functional_plan_matches_tape_bitwise(name, threads):
    x, y = _functional_data(name)

    def build():
        pydl.utils.set_random_seed(11)
        return FUNCTIONAL[name]()

    with num_threads(threads):
        plan, tape = fit_both(build, lambda: dict(optimizer=optimizers.Adam(0.01),
                                                  loss="binary_crossentropy",
                                                  metrics=["accuracy"]),
                              x, y, batch_size=8, epochs=2)
    assert_same_training(plan, tape)


def test_a_recorded_training_false_is_overridden_in_fit_on_both_paths():
    """fit calls the model with training=True, which overrides a Functional graph's
    recorded training=False (pydl/models/functional.py, as Keras 3): batch statistics,
    moving statistics updated, dropout drawn -- on the tape and on the plan alike."""
    x, y = _functional_data("bn-training-false")
    pydl.utils.set_random_seed(11)
    model = _bn_training_false()
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert model._trained_on == "plan"
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            assert not np.array_equal(layer.moving_mean.value, np.zeros(8, np.float32))


# -- the book's models --------------------------------------------------------------------------
def _imdb_like(rng, n, vocab=1000, length=60):
    """IMDB's shape, smaller: word indices, the label carried by a few marker words."""
    x = rng.integers(2, vocab, (n, length)).astype(np.float32)
    y = (rng.random(n) < 0.5).astype(np.float32)
    markers = np.where(y[:, None] == 1, rng.integers(2, 12, (n, 4)), rng.integers(12, 22, (n, 4)))
    x[:, :4] = markers
    return x, y


def test_dlwp_imdb_model_learns_on_the_plan():
    rng = np.random.default_rng(0)
    x, y = _imdb_like(rng, 600)
    pydl.utils.set_random_seed(1)
    model = pydl.Sequential([pydl.Input((60,)), layers.CategoryEncoding(1000),
                             layers.Dense(16, activation="relu"),
                             layers.Dense(16, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    assert _plan.plan_reason(model) is None
    history = model.fit(x, y, batch_size=128, epochs=6, verbose=0).history
    assert model._trained_on == "plan"
    assert history["accuracy"][-1] > 0.95


def test_embedding_text_classifier_learns_on_the_plan():
    rng = np.random.default_rng(1)
    x, y = _imdb_like(rng, 600)
    x[:, 40:] = 0  # padding
    pydl.utils.set_random_seed(2)
    model = pydl.Sequential([pydl.Input((60,)), layers.Embedding(1000, 16, mask_zero=True),
                             layers.GlobalAveragePooling1D(),
                             layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    assert _plan.plan_reason(model) is None
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0).history
    assert model._trained_on == "plan"
    assert history["accuracy"][-1] > 0.95
