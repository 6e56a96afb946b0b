"""Dense with bfloat16 operands (`_core.dense_forward/dense_backward(..., bf16=True)`,
nn/dense.h): the three products read x, w and dz rounded to bfloat16, everything else
stays float32; 1 vs 2 threads; the float32 kernels below avx512_bf16 (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest

from pydl import _core

from bf16_reference import bf16_kernels, gemm_bf16
from conftest import bf16_supported, forced_isa, num_threads

needs_bf16 = pytest.mark.skipif(not bf16_supported(), reason="this CPU has no AVX512_BF16")


def dense_case(rng, batch=37, n_in=45, n_out=23):
    x = rng.standard_normal((batch, n_in)).astype(np.float32)
    w = rng.standard_normal((n_in, n_out)).astype(np.float32) * 0.2
    b = rng.standard_normal(n_out).astype(np.float32)
    dy = rng.standard_normal((batch, n_out)).astype(np.float32)
    return x, w, b, dy


def run_dense(x, w, b, dy, activation, bf16):
    batch, n_out = x.shape[0], w.shape[1]
    y = np.empty((batch, n_out), np.float32)
    z = np.empty_like(y)
    _core.dense_forward(x, w, b, activation, y, z=z, bf16=bf16)
    dz, dx, dw, db = np.empty_like(y), np.empty_like(x), np.empty_like(w), np.empty_like(b)
    _core.dense_backward(x, w, z, y, dy, activation, dz, dx, dw, db, bf16=bf16)
    return y, z, dz, dx, dw, db


@needs_bf16
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "gelu", "softmax"])
def test_forward_and_backward_round_only_the_product_operands(rng, activation):
    x, w, b, dy = dense_case(rng)
    with bf16_kernels():  # the float32 kernels of the same path as references
        y, z, dz, dx, dw, db = run_dense(x, w, b, dy, activation, True)
        y_want = np.empty_like(z)
        _core.activation_forward(activation, z, y_want)
        dz_want = np.empty_like(dz)
        _core.activation_backward(activation, z, y, dy, dz_want)
        db_want = np.empty_like(db)
        _core.dense_backward(x, w, z, y, dy, activation, np.empty_like(dz), None,
                             np.empty_like(w), db_want)  # float32 column sums, as without bf16
    np.testing.assert_array_equal(z, gemm_bf16(x, w, c0=b[None, :]))
    np.testing.assert_array_equal(y, y_want)  # the activation on float32 z
    g = dy if activation == "linear" else dz_want  # float32 derivative
    np.testing.assert_array_equal(dw, gemm_bf16(x.T, g))
    np.testing.assert_array_equal(dx, gemm_bf16(g, w.T))
    np.testing.assert_array_equal(db, db_want)


@needs_bf16
def test_bitwise_identical_at_one_and_two_threads(rng):
    x, w, b, dy = dense_case(rng, batch=256, n_in=300, n_out=200)
    with bf16_kernels():
        with num_threads(1):
            one = run_dense(x, w, b, dy, "relu", True)
        with num_threads(2):
            two = run_dense(x, w, b, dy, "relu", True)
    for u, v in zip(one, two):
        np.testing.assert_array_equal(u, v)


def test_below_avx512_bf16_the_float32_kernels_run(rng):
    x, w, b, dy = dense_case(rng)
    with forced_isa("avx512" if "avx512" in _core.build_info()["simd_compiled"] else "generic"):
        mixed = run_dense(x, w, b, dy, "tanh", True)
        f32 = run_dense(x, w, b, dy, "tanh", False)
    for u, v in zip(mixed, f32):
        np.testing.assert_array_equal(u, v)


def test_float64_with_bf16_is_refused(rng):
    x, w, b, _ = dense_case(rng)
    x, w, b = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    y = np.empty((x.shape[0], w.shape[1]))
    with pytest.raises(TypeError, match="bf16"):
        _core.dense_forward(x, w, b, "linear", y, bf16=True)
    with pytest.raises(TypeError, match="bf16"):
        _core.dense_backward(x, w, None, None, y, "linear", np.empty_like(y), None,
                             np.empty_like(w), None, bf16=True)
