"""Optional: forward values and gradients of the second-milestone layers and losses against
torch.autograd (float64, the same weights and inputs)."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
F = torch.nn.functional


def run_pydl(layer, x, upstream, **call):
    """(output, d x, d weights) of sum(layer(x) * upstream)."""
    xv = pydl.Variable(x, dtype="float64")
    with pydl.GradientTape() as tape:
        y = layer(xv, **call)
        target = pydl.ops.sum(pydl.ops.multiply(y, upstream))
    grads = tape.gradient(target, [xv] + layer.trainable_weights)
    return np.asarray(y), grads[0], grads[1:]


def run_torch(fn, x, upstream, weights):
    tx = torch.tensor(x, requires_grad=True)
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    y = fn(tx, *tw)
    (y * torch.tensor(upstream)).sum().backward()
    return y.detach().numpy(), tx.grad.numpy(), [w.grad.numpy() for w in tw]


def compare(ours, theirs):
    for a, b in zip((ours[0], ours[1]) + tuple(ours[2]), (theirs[0], theirs[1]) + tuple(theirs[2])):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("shape", [(16, 5), (6, 4, 3)])
def test_batch_normalization_training(rng, shape):
    layer = layers.BatchNormalization(axis=1, dtype="float64")
    layer.build(shape)
    gamma, beta = rng.normal(size=shape[1]), rng.normal(size=shape[1])
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    x = rng.normal(1, 2, size=shape)
    up = rng.normal(size=shape)
    compare(run_pydl(layer, x, up, training=True),
            run_torch(lambda t, g, b: F.batch_norm(t, None, None, g, b, training=True, eps=1e-3),
                      x, up, [gamma, beta]))


def test_batch_normalization_inference(rng):
    layer = layers.BatchNormalization(dtype="float64")
    layer.build((8, 4))
    mean, var = rng.normal(size=4), rng.uniform(0.5, 2, size=4)
    layer.moving_mean.assign(mean)
    layer.moving_variance.assign(var)
    x, up = rng.normal(size=(8, 4)), rng.normal(size=(8, 4))
    compare(run_pydl(layer, x, up, training=False),
            run_torch(lambda t, g, b: F.batch_norm(t, torch.tensor(mean), torch.tensor(var), g, b,
                                                   training=False, eps=1e-3),
                      x, up, [np.ones(4), np.zeros(4)]))


@pytest.mark.parametrize("axis,shape", [(-1, (5, 9)), ([1, 2], (3, 4, 6))])
def test_layer_normalization(rng, axis, shape):
    layer = layers.LayerNormalization(axis=axis, dtype="float64")
    layer.build(shape)
    normalized = shape[1:] if isinstance(axis, list) else shape[-1:]
    gamma, beta = rng.normal(size=normalized), rng.normal(size=normalized)
    layer.gamma.assign(gamma)
    layer.beta.assign(beta)
    x, up = rng.normal(1, 2, size=shape), rng.normal(size=shape)
    compare(run_pydl(layer, x, up),
            run_torch(lambda t, g, b: F.layer_norm(t, normalized, g, b, eps=1e-3), x, up,
                      [gamma, beta]))


def test_layer_normalization_rms_scaling(rng):
    layer = layers.LayerNormalization(rms_scaling=True, dtype="float64")
    layer.build((5, 7))
    gamma = rng.normal(size=7)
    layer.gamma.assign(gamma)
    x, up = rng.normal(1, 2, size=(5, 7)), rng.normal(size=(5, 7))
    keras_rms = lambda t, g: t / torch.sqrt(t.var(-1, unbiased=False, keepdim=True) + 1e-3) * g
    compare(run_pydl(layer, x, up), run_torch(keras_rms, x, up, [gamma]))


def test_unit_normalization(rng):
    x, up = rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    compare(run_pydl(layers.UnitNormalization(dtype="float64"), x, up),
            run_torch(lambda t: F.normalize(t, dim=-1), x, up, []))


def test_embedding(rng):
    layer = layers.Embedding(9, 4, dtype="float64")
    layer.build(None)
    table = layer.embeddings.numpy()
    idx = np.array([[1, 2, 2, 8], [0, 1, 1, 1]])
    up = rng.normal(size=(2, 4, 4))
    with pydl.GradientTape() as tape:
        target = pydl.ops.sum(layer(idx) * up)
    ours = tape.gradient(target, layer.embeddings)
    tt = torch.tensor(table, requires_grad=True)
    (F.embedding(torch.tensor(idx), tt) * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(ours, tt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_pools(rng, data_format):
    x = rng.normal(size=(3, 5, 4))
    steps_axis = 1 if data_format == "channels_last" else 2
    out_shape = (3, 4) if data_format == "channels_last" else (3, 5)
    up = rng.normal(size=out_shape)
    compare(run_pydl(layers.GlobalAveragePooling1D(data_format=data_format, dtype="float64"),
                     x, up),
            run_torch(lambda t: t.mean(steps_axis), x, up, []))
    compare(run_pydl(layers.GlobalMaxPooling1D(data_format=data_format, dtype="float64"), x, up),
            run_torch(lambda t: t.amax(steps_axis), x, up, []))


EPS = 1e-7


def _torch_normalize(v):
    return v * torch.clamp(torch.rsqrt((v * v).sum(-1, keepdim=True)), max=1 / EPS)


TORCH_LOSSES = {  # Keras 3's per-sample formulas, written in torch
    "kl_divergence": lambda t, x: (t.clamp(EPS, 1) * torch.log(t.clamp(EPS, 1) / x.clamp(EPS, 1))
                                   ).sum(-1),
    "poisson": lambda t, x: (x - t * torch.log(x + EPS)).mean(-1),
    "log_cosh": lambda t, x: (x - t + F.softplus(-2 * (x - t)) - np.log(2.0)).mean(-1),
    "hinge": lambda t, x: torch.clamp(1 - (2 * t - 1) * x, min=0).mean(-1),
    "squared_hinge": lambda t, x: (torch.clamp(1 - (2 * t - 1) * x, min=0) ** 2).mean(-1),
    "categorical_hinge": lambda t, x: torch.clamp(((1 - t) * x).amax(-1) - (t * x).sum(-1) + 1,
                                                  min=0),
    "cosine_similarity": lambda t, x: -(_torch_normalize(t) * _torch_normalize(x)).sum(-1),
    "mean_squared_logarithmic_error": lambda t, x: (
        (torch.log(torch.clamp(x, min=EPS) + 1) - torch.log(torch.clamp(t, min=EPS) + 1)) ** 2
    ).mean(-1),
    "mean_absolute_percentage_error": lambda t, x: 100 * torch.abs(
        (t - x) / torch.clamp(torch.abs(t), min=EPS)).mean(-1),
}


@pytest.mark.parametrize("name", sorted(TORCH_LOSSES))
def test_loss_values_and_gradients(rng, name):
    t = rng.uniform(0.05, 1, size=(6, 5))
    if name in ("hinge", "squared_hinge"):
        t = rng.integers(0, 2, size=(6, 5)).astype(np.float64)
    if name == "categorical_hinge":
        t = np.eye(5)[rng.integers(0, 5, size=6)]
    x = rng.uniform(0.05, 1.5, size=(6, 5))
    w = rng.uniform(0.5, 2, size=6)
    xv = pydl.Variable(x, dtype="float64")
    with pydl.GradientTape() as tape:
        loss = getattr(pydl.losses, name)(t, xv, sample_weight=w)
    ours = tape.gradient(loss, xv)
    tx = torch.tensor(x, requires_grad=True)
    theirs = (TORCH_LOSSES[name](torch.tensor(t), tx) * torch.tensor(w)).mean()
    theirs.backward()
    assert float(loss) == pytest.approx(float(theirs.detach()), rel=1e-10)
    np.testing.assert_allclose(ours, tx.grad.numpy(), rtol=1e-8, atol=1e-12)
