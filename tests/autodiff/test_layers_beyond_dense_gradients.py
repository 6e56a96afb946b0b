"""Float64 gradient checks (central finite differences) of the second-milestone ops and layers,
and the tape's bits at 1 vs 2 threads."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from conftest import num_threads
from pydl import layers, ops
from pydl.ops.normalization import batch_norm_training
from pydl.testing import gradcheck


@pytest.fixture
def x64(rng):
    return rng.normal(size=(6, 5)) * 2 + 0.5


@pytest.mark.parametrize("axis", [-1, 0])
def test_batch_norm_training_op(rng, x64, axis):
    c = x64.shape[axis]
    gamma, beta = rng.normal(size=c), rng.normal(size=c)
    gradcheck(lambda x, g, b: batch_norm_training(x, g, b, axis=axis)[0] * x64,
              [x64, gamma, beta])


def test_batch_norm_training_op_3d_channel_axis_and_no_affine(rng):
    x = rng.normal(size=(3, 4, 5))
    gradcheck(lambda x: batch_norm_training(x, None, None, axis=1)[0] ** 2, [x])


def test_batch_normalization_op_given_statistics(rng, x64):
    mean, var = rng.normal(size=5), rng.uniform(0.5, 2, size=5)
    scale, offset = rng.normal(size=5), rng.normal(size=5)
    gradcheck(lambda x, s, o: ops.batch_normalization(x, mean, var, -1, offset=o, scale=s) ** 2,
              [x64, scale, offset])


@pytest.mark.parametrize("axis,rms", [(-1, False), (-1, True), ((1, 2), False), (1, False),
                                      ((0, 2), True)])
def test_layer_normalization_op(rng, axis, rms):
    x = rng.normal(size=(3, 4, 5)) + 0.3
    shape = tuple(x.shape[a] for a in sorted(np.atleast_1d(axis) % 3))
    gamma, beta = rng.normal(size=shape), rng.normal(size=shape)
    weights = rng.normal(size=x.shape)
    if rms:
        gradcheck(lambda x, g: ops.layer_normalization(x, g, None, axis, 1e-3, True) * weights,
                  [x, gamma])
    else:
        gradcheck(lambda x, g, b: ops.layer_normalization(x, g, b, axis, 1e-3) * weights,
                  [x, gamma, beta])


def test_normalize_op(rng, x64):
    weights = rng.normal(size=x64.shape)
    gradcheck(lambda x: ops.normalize(x, axis=-1) * weights, [x64])
    gradcheck(lambda x: ops.normalize(x, axis=(0, 1)) * weights, [x64])


def test_embedding_lookup_with_repeated_indices(rng):
    table = rng.normal(size=(7, 3))
    idx = np.array([[0, 3, 3], [6, 0, 3]])
    weights = rng.normal(size=(2, 3, 3))
    gradcheck(lambda t: ops.embedding_lookup(t, idx) * weights, [table])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pools(rng, data_format):
    x = rng.normal(size=(3, 4, 5))
    steps = 4 if data_format == "channels_last" else 5
    mask = rng.uniform(size=(3, steps)) < 0.6
    mask[:, 0] = True
    features = 5 if data_format == "channels_last" else 4
    weights = rng.normal(size=(3, features))
    gradcheck(lambda x: ops.global_average_pool1d(x, data_format=data_format) * weights, [x])
    gradcheck(lambda x: ops.global_average_pool1d(x, mask=mask, data_format=data_format)
              * weights, [x])
    gradcheck(lambda x: ops.global_max_pool1d(x, data_format=data_format) * weights, [x])


@pytest.mark.parametrize("make", [
    lambda: layers.BatchNormalization(dtype="float64"),
    lambda: layers.BatchNormalization(center=False, dtype="float64"),
    lambda: layers.LayerNormalization(dtype="float64"),
    lambda: layers.LayerNormalization(rms_scaling=True, dtype="float64"),
    lambda: layers.UnitNormalization(dtype="float64"),
    lambda: layers.Rescaling(0.5, 2.0, dtype="float64"),
], ids=["bn", "bn_no_center", "ln", "ln_rms", "unit", "rescaling"])
def test_layers_in_training_mode(rng, x64, make):
    layer = make()
    layer.build(x64.shape)
    weights = rng.normal(size=x64.shape)
    variables = list(layer.trainable_weights)
    gradcheck(lambda x, *w: layer(x, training=True) * weights, [x64] + variables)


def test_embedding_layer_weights(rng):
    layer = layers.Embedding(9, 4, dtype="float64")
    layer.build((None, 3))
    idx = np.array([[1, 2, 2], [8, 1, 0]])
    weights = rng.normal(size=(2, 3, 4))
    gradcheck(lambda e: layer(idx) * weights, [layer.embeddings])


@pytest.mark.parametrize("make", [
    lambda: layers.GaussianNoise(0.3, seed=3, dtype="float64"),
    lambda: layers.GaussianDropout(0.3, seed=3, dtype="float64"),
    lambda: layers.AlphaDropout(0.3, seed=3, dtype="float64"),
], ids=["gaussian_noise", "gaussian_dropout", "alpha_dropout"])
def test_noise_layers_with_fixed_noise(rng, x64, make):
    weights = rng.normal(size=x64.shape)
    # A fresh layer per call: the same seeded draw every time, so differences are meaningful.
    gradcheck(lambda x: make()(x, training=True) * weights, [x64])


def test_activity_regularization_penalty_gradient(rng, x64):
    layer = layers.ActivityRegularization(l1=0.1, l2=0.2)

    def penalty(x):
        layer(x)
        return layer.losses[0]

    gradcheck(penalty, [x64 + 0.1])


def test_tape_gradients_bitwise_at_1_and_2_threads(rng):
    pydl.utils.set_random_seed(5)
    model = pydl.Sequential([
        pydl.Input((40,)), layers.Embedding(500, 64), layers.LayerNormalization(),
        layers.GlobalAveragePooling1D(), layers.Dense(256), layers.BatchNormalization(),
        layers.Dense(1)])
    x = rng.integers(0, 500, size=(128, 40))
    results = []
    for n in (1, 2):
        with num_threads(n):
            with pydl.GradientTape() as tape:
                loss = ops.mean_squared_error(np.ones((128, 1)), model(x, training=True))
            results.append(tape.gradient(loss, model.trainable_weights))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
