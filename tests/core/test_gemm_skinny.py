"""The few-rows GEMM path (csrc/gemm/skinny.h): m <= 4 rows of A, B read in place."""

import numpy as np
import pytest

from pydl import _core

from conftest import num_threads

ACTIVATIONS = ["linear", "relu", "tanh", "gelu", "softmax"]


def reference(a, b, bias, trans_a):
    ref = (a.T if trans_a else a).astype(np.float64) @ b.astype(np.float64)
    return ref if bias is None else ref + bias


@pytest.mark.parametrize("m", [1, 2, 3, 4])
@pytest.mark.parametrize("n", [1, 7, 16, 33, 64, 100, 257])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_skinny_matches_float64_reference(isa, rng, m, n, dtype):
    k = 37
    for trans_a in (False, True):
        a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        bias = rng.standard_normal(n).astype(dtype)
        out = np.full((m, n), np.nan, dtype)
        _core.gemm(a, b, out, trans_a=trans_a, bias=bias)
        tol = (k + 2) * np.finfo(dtype).eps * 8
        np.testing.assert_allclose(out, reference(a, b, bias, trans_a), rtol=tol, atol=tol)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_skinny_epilogue_and_accumulate(isa, rng, activation):
    m, k, n = 3, 50, 90
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    bias = rng.standard_normal(n).astype(np.float32)
    out = np.empty((m, n), np.float32)
    _core.gemm(a, b, out, bias=bias, activation=activation)
    linear = np.empty_like(out)
    _core.gemm(a, b, linear, bias=bias)
    expected = np.empty_like(out)
    _core.activation_forward(activation, linear, expected)
    np.testing.assert_array_equal(out, expected)
    acc = np.ones((m, n), np.float32)
    _core.gemm(a, b, acc, accumulate=True)
    np.testing.assert_allclose(acc, 1 + a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4)


def test_skinny_bitwise_at_one_and_two_threads(rng):
    a = rng.standard_normal((2, 300)).astype(np.float32)
    b = rng.standard_normal((300, 1000)).astype(np.float32)
    outs = []
    for threads in (1, 2):
        with num_threads(threads):
            out = np.empty((2, 1000), np.float32)
            _core.gemm(a, b, out, activation="relu")
            outs.append(out)
    np.testing.assert_array_equal(outs[0], outs[1])
