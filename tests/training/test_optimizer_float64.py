"""float64 optimizers compute in float64: 25 steps against the update rule evaluated in
float64 NumPy (hyperparameters included), through apply_gradients and through fit."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import optimizers


def _rule(kind, w, grads):
    """The Keras 3 rule, in float64, over a list of gradients."""
    w = w.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        if kind == "adam":
            m += (g - m) * (1 - 0.9)
            v += (g * g - v) * (1 - 0.999)
            alpha = 0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
            w -= m * alpha / (np.sqrt(v) + 1e-7)
        elif kind == "sgd":
            m = 0.9 * m - 0.01 * g
            w += m
        elif kind == "nesterov":
            m = 0.9 * m - 0.01 * g
            w += 0.9 * m - 0.01 * g
        elif kind == "rmsprop":
            v = 0.9 * v + (1 - 0.9) * g * g
            w -= 0.01 * g / np.sqrt(v + 1e-7)
        else:  # adagrad from 0.1
            if t == 1:
                v = np.full_like(w, 0.1)
            v += g * g
            w -= 0.01 * g / np.sqrt(v + 1e-7)
    return w


OPTIMIZERS = {
    "adam": lambda: optimizers.Adam(0.01),
    "sgd": lambda: optimizers.SGD(0.01, momentum=0.9),
    "nesterov": lambda: optimizers.SGD(0.01, momentum=0.9, nesterov=True),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "adagrad": lambda: optimizers.Adagrad(0.01),
}


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
@pytest.mark.parametrize("shape", [(), (3,), (40, 40)])
def test_float64_apply_gradients_follows_the_float64_rule(kind, shape):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(shape)
    grads = [rng.standard_normal(shape) for _ in range(25)]
    variable = pydl.Variable(w0.copy())
    opt = OPTIMIZERS[kind]()
    for g in grads:
        opt.apply_gradients([(g, variable)])
    expected = _rule(kind, np.asarray(w0, np.float64), grads)
    assert variable.value.dtype == np.float64
    np.testing.assert_allclose(variable.value, expected, rtol=1e-12, atol=1e-14)


def test_float64_fit_follows_the_float64_rule():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((16, 4)), rng.standard_normal((16, 1))
    model = pydl.Sequential([pydl.Input((4,), dtype="float64"),
                             pydl.layers.Dense(1, dtype="float64")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    w, b = (a.astype(np.float64) for a in model.get_weights())
    for _ in range(25):
        model.train_on_batch(x, y)
    # the same 25 full-batch steps in NumPy
    mw, vw, mb, vb = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    for t in range(1, 26):
        g = 2 * (x @ w + b - y) / len(x)
        gw, gb = x.T @ g, g.sum(0)
        for p, gp, m, v in ((w, gw, mw, vw), (b, gb, mb, vb)):
            m += (gp - m) * (1 - 0.9)
            v += (gp * gp - v) * (1 - 0.999)
            p -= m * (0.01 * np.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)) / (np.sqrt(v) + 1e-7)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-11)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-11)
