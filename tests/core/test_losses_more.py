"""_core.loss for the second-milestone kinds: values against a float64 NumPy mirror of Keras 3's
formulas, gradients against central finite differences (float64), sample weights, 1 vs 2 threads."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import num_threads
from pydl import _core

EPS = 1e-7
KINDS = ("kl_divergence", "poisson", "log_cosh", "hinge", "squared_hinge", "categorical_hinge",
         "cosine_similarity", "msle", "mape")


def _softplus(z):
    return np.logaddexp(0.0, z)


def _normalize(v):
    inv = np.minimum(1 / np.sqrt((v * v).sum(-1, keepdims=True)), 1 / EPS)
    return v * inv


def per_sample(kind, t, x):
    """Keras 3's per-sample loss (keras/src/losses/losses.py) in float64."""
    t, x = np.asarray(t, np.float64), np.asarray(x, np.float64)
    if kind == "kl_divergence":
        tc, xc = np.clip(t, EPS, 1), np.clip(x, EPS, 1)
        return (tc * np.log(tc / xc)).sum(-1)
    if kind == "poisson":
        return (x - t * np.log(x + EPS)).mean(-1)
    if kind == "log_cosh":
        e = x - t
        return (e + _softplus(-2 * e) - np.log(2.0)).mean(-1)
    if kind in ("hinge", "squared_hinge"):
        if np.all((t == 0) | (t == 1)):
            t = 2 * t - 1
        h = np.maximum(1 - t * x, 0)
        return (h if kind == "hinge" else h * h).mean(-1)
    if kind == "categorical_hinge":
        pos = (t * x).sum(-1)
        neg = ((1 - t) * x).max(-1)
        return np.maximum(neg - pos + 1, 0)
    if kind == "cosine_similarity":
        return -(_normalize(t) * _normalize(x)).sum(-1)
    if kind == "msle":
        return ((np.log(np.maximum(x, EPS) + 1) - np.log(np.maximum(t, EPS) + 1)) ** 2).mean(-1)
    if kind == "mape":
        return 100 * np.abs((t - x) / np.maximum(np.abs(t), EPS)).mean(-1)
    raise AssertionError(kind)


def reference(kind, t, x, w=None):
    per = per_sample(kind, t, x)
    if w is not None:
        per = per * np.asarray(w, np.float64).reshape((-1,) + (1,) * (per.ndim - 1))
    return per.sum() / per.size


def data(rng, kind, shape, dtype):
    """Inputs away from the kinks (clip bounds, hinge corners, ties) so that finite
    differences are meaningful."""
    x = rng.uniform(0.05, 0.95, size=shape)
    if kind == "kl_divergence":
        t = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    elif kind in ("poisson", "msle", "mape"):
        t = rng.uniform(0.1, 3.0, size=shape)
        x = rng.uniform(0.1, 3.0, size=shape)
    elif kind in ("hinge", "squared_hinge"):
        t = rng.integers(0, 2, size=shape).astype(np.float64)
        x = rng.uniform(-2, 2, size=shape)
        x[np.abs(1 - (2 * t - 1) * x) < 0.05] += 0.2
    elif kind == "categorical_hinge":
        t = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        x = rng.normal(size=shape)
    else:
        t = rng.normal(size=shape)
        x = rng.normal(size=shape)
    return t.astype(dtype), x.astype(dtype)


def loss_and_grad(kind, t, x, w=None):
    g = np.empty_like(x)
    value = _core.loss(kind, t, x, grad=g, sample_weight=w)
    return value, g


# categorical_hinge needs at least two classes (a right one and a wrong one).
SHAPES = [(kind, shape) for kind in KINDS for shape in [(1, 1), (2, 7), (17, 33), (3, 4, 5)]
          if not (kind == "categorical_hinge" and shape[-1] == 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind,shape", SHAPES)
def test_values_match_keras_formulas(rng, kind, shape, dtype):
    t, x = data(rng, kind, shape, dtype)
    w = rng.uniform(0, 2, size=shape[0]).astype(dtype)
    rtol = 2e-5 if dtype == np.float32 else 1e-11
    for weights in (None, w):
        value, _ = loss_and_grad(kind, t, x, weights)
        np.testing.assert_allclose(value, reference(kind, t, x, weights), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("kind", KINDS)
def test_gradients_match_finite_differences(rng, kind):
    t, x = data(rng, kind, (4, 6), np.float64)
    w = rng.uniform(0.5, 2, size=4)
    _, g = loss_and_grad(kind, t, x, w)
    numeric = np.empty_like(x)
    h = 1e-6
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        numeric[i] = (reference(kind, t, xp, w) - reference(kind, t, xm, w)) / (2 * h)
    np.testing.assert_allclose(g, numeric, rtol=1e-5, atol=1e-7)


def test_hinge_keeps_signed_targets_and_converts_binary_ones():
    x = np.array([[0.3, -0.4]])
    binary = np.array([[1.0, 0.0]])
    assert _core.loss("hinge", binary, x) == pytest.approx(np.mean([0.7, 0.6]))
    signed = np.array([[1.0, -1.0]])
    assert _core.loss("hinge", signed, x) == pytest.approx(np.mean([0.7, 0.6]))
    # One value outside {0, 1} anywhere in the batch: no conversion (as Keras, batch-wide).
    mixed = np.array([[1.0, 0.0], [0.5, 0.0]])
    got = _core.loss("hinge", mixed, np.vstack([x, x]))
    assert got == pytest.approx(reference("hinge", mixed, np.vstack([x, x])))


def test_clip_and_cap_edges_match_keras():
    # kl_divergence: predictions outside [eps, 1] are clipped and pass no gradient.
    t = np.array([[0.5, 0.5]])
    x = np.array([[0.0, 1.5]])
    value, g = loss_and_grad("kl_divergence", t, x)
    assert value == pytest.approx(reference("kl_divergence", t, x))
    np.testing.assert_array_equal(g, 0.0)
    # cosine_similarity of a zero prediction: 1/norm capped at 1/eps, gradient -t_hat / eps.
    value, g = loss_and_grad("cosine_similarity", np.array([[3.0, 4.0]]), np.zeros((1, 2)))
    assert value == 0.0
    np.testing.assert_allclose(g, -np.array([[0.6, 0.8]]) / EPS)
    # mape with zero targets divides by eps.
    value, _ = loss_and_grad("mape", np.zeros((1, 1)), np.array([[1e-3]]))
    assert value == pytest.approx(100 * 1e-3 / EPS)


@pytest.mark.parametrize("kind", KINDS)
def test_bitwise_at_1_and_2_threads(rng, kind):
    t, x = data(rng, kind, (4096, 24), np.float32)
    results = []
    for n in (1, 2):
        with num_threads(n):
            results.append(loss_and_grad(kind, t, x))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_unknown_kind_lists_the_new_names():
    with pytest.raises(ValueError, match="kind: expected one of .*cosine_similarity, msle, mape"):
        _core.loss("logcosh", np.zeros((1, 1)), np.zeros((1, 1)))
