"""_core.unit_normalize_*: L2 normalization of rows against float64 NumPy, the 1/epsilon
cap, 1 vs 2 threads, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import num_threads
from pydl import _core

TOL = {np.float32: dict(rtol=2e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}


def _run(x, g, epsilon=1e-12):
    y, inv, dx = np.empty_like(x), np.empty(x.shape[0], x.dtype), np.empty_like(x)
    _core.unit_normalize_forward(x, y, inv, epsilon=epsilon)
    _core.unit_normalize_backward(y, inv, g, dx, epsilon=epsilon)
    return y, inv, dx


def _reference(x, g, epsilon=1e-12):
    x, g = x.astype(np.float64), g.astype(np.float64)
    with np.errstate(divide="ignore"):
        inv = 1 / np.sqrt((x * x).sum(axis=1, keepdims=True))
    through = inv <= 1 / epsilon
    scale = np.where(through, inv, 1 / epsilon)
    y = x * scale
    along = (g * y).sum(axis=1, keepdims=True)
    return y, scale * (g - np.where(through, y * along, 0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows, cols", [(1, 1), (2, 7), (3, 8), (17, 33), (5, 1000)])
def test_unit_normalize_against_float64(rng, dtype, rows, cols):
    x = (rng.standard_normal((rows, cols)) * 3 + 0.5).astype(dtype)
    g = rng.standard_normal((rows, cols)).astype(dtype)
    y, inv, dx = _run(x, g)
    want_y, want_dx = _reference(x, g)
    np.testing.assert_allclose(y, want_y, **TOL[dtype])
    np.testing.assert_allclose(dx, want_dx, rtol=TOL[dtype]["rtol"] * 10,
                               atol=TOL[dtype]["atol"] * 10 * np.abs(want_dx).max())
    assert inv.dtype == dtype


def test_unit_normalize_cap_and_zero_rows():
    """A row of zeros (inv = inf) and a tiny row take the cap: y = x / epsilon, no
    gradient through the norm."""
    x = np.array([[0.0, 0.0], [1e-4, 0.0], [3.0, 4.0]], np.float32)
    g = np.ones_like(x)
    y, inv, dx = _run(x, g, epsilon=1e-2)
    np.testing.assert_array_equal(y[0], [0.0, 0.0])
    np.testing.assert_array_equal(y[1], x[1] * np.float32(100.0))
    np.testing.assert_array_equal(dx[:2], np.full((2, 2), 100.0, np.float32))
    np.testing.assert_allclose(y[2], [0.6, 0.8], rtol=1e-6)
    assert np.isinf(inv[0])


def test_unit_normalize_same_bits_at_1_and_2_threads(rng):
    x = rng.standard_normal((300, 129)).astype(np.float32)
    g = rng.standard_normal((300, 129)).astype(np.float32)
    results = []
    for threads in (1, 2):
        with num_threads(threads):
            results.append(_run(x, g))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_unit_normalize_bad_arguments_name_the_argument():
    x = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match="x: expected 2 dimensions|x: expected a 2-D"):
        _core.unit_normalize_forward(x.ravel(), x.ravel(), np.empty(3, np.float32))
    with pytest.raises(ValueError, match=r"inv: expected shape \(3,\)"):
        _core.unit_normalize_forward(x, np.empty_like(x), np.empty(4, np.float32))
    with pytest.raises(ValueError, match="epsilon: expected a positive number"):
        _core.unit_normalize_forward(x, np.empty_like(x), np.empty(3, np.float32), epsilon=0.0)
    with pytest.raises(TypeError, match="dtype"):
        _core.unit_normalize_backward(x, np.empty(3, np.float64), x, np.empty_like(x))
