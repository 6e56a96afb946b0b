"""GEMM of the core (`_core.gemm`, `_core.matmul`): every SIMD path against a float64
NumPy reference on edge shapes, the fused bias + activation epilogue, accumulate mode,
thread-count determinism and argument checks (issue 3)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from pydl import _core

from conftest import num_threads

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu",
               "gelu", "softplus", "silu")
ALPHA = {"leaky_relu": 0.2, "elu": 1.0}
DTYPES = (np.float32, np.float64)


def tile_shape(dtype) -> tuple[int, int]:
    """(MR, NR) of the microkernel installed for dtype, read from its name."""
    name = _core.gemm_kernel_name(np.dtype(dtype).name)
    mr, nr = re.search(r"_(\d+)x(\d+)__", name).groups()
    return int(mr), int(nr)


def operands(rng, m, n, k, trans_a, trans_b, dtype):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(dtype)
    return a, b


def op(x, trans):
    return (x.T if trans else x).astype(np.float64)


def product_bound(a64, b64, k, dtype, bias=None):
    """Rigorous forward-error bound of a k-term dot product: (k + 2) u sum |a_i b_i|."""
    mag = np.abs(a64) @ np.abs(b64)
    if bias is not None:
        mag = mag + np.abs(bias.astype(np.float64))
    return (k + 2) * np.finfo(dtype).eps * mag + np.finfo(dtype).tiny


def activate64(name, z64):
    """The activation in float64 by the core's (separately tested) activation kernel."""
    y = np.empty_like(z64)
    _core.activation_forward(name, z64, y, ALPHA.get(name, 0.0))
    return y


def check_gemm(rng, m, n, k, trans_a, trans_b, dtype):
    a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
    out = np.full((m, n), np.nan, dtype)
    _core.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b)
    a64, b64 = op(a, trans_a), op(b, trans_b)
    err = np.abs(out - a64 @ b64)
    bound = product_bound(a64, b64, k, dtype)
    assert np.all(err <= bound), (m, n, k, trans_a, trans_b, float((err / bound).max()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_edge_shapes_all_transposes(isa, dtype, rng):
    mr, nr = tile_shape(dtype)
    ms = (1, mr - 1, mr, mr + 1, 2 * mr + 1)
    ns = (1, nr // 2, nr // 2 + 1, nr - 1, nr, nr + 1, nr + nr // 2)  # narrow and main tails
    for m, n, k in itertools.product(ms, ns, (1, 17)):
        for trans_a, trans_b in itertools.product((False, True), repeat=2):
            check_gemm(rng, m, n, k, trans_a, trans_b, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_short_rows_kernels(isa, dtype, rng):
    """Small products whose M is a multiple of 8 (4 on AVX2) but not of the tall MR take
    the short-rows kernels (gemm/ukernel.h): checked on every transpose, with the bias
    and activation epilogue and in accumulate mode."""
    _, nr = tile_shape(dtype)
    for m, n, k in itertools.product((8, 16, 32, 40, 64), (1, nr // 2 + 1, nr, nr + 3), (1, 17)):
        for trans_a, trans_b in itertools.product((False, True), repeat=2):
            check_gemm(rng, m, n, k, trans_a, trans_b, dtype)
        a, b = operands(rng, m, n, k, False, False, dtype)
        bias = rng.standard_normal(n).astype(dtype)
        out = np.empty((m, n), dtype)
        _core.gemm(a, b, out, bias=bias, activation="relu")
        a64, b64 = op(a, False), op(b, False)
        exact = a64 @ b64 + bias
        assert np.all(np.abs(out - np.maximum(exact, 0)) <= product_bound(a64, b64, k, dtype, bias))
        c0 = rng.standard_normal((m, n)).astype(dtype)
        out = c0.copy()
        _core.gemm(a, b, out, accumulate=True)
        bound = product_bound(a64, b64, k, dtype) + 2 * np.finfo(dtype).eps * np.abs(c0)
        assert np.all(np.abs(out - (c0 + a64 @ b64)) <= bound)


def test_kernel_choice_does_not_change_results(isa, rng):
    """32 rows run on the short-rows kernels, 36 on the tall ones: the shared rows
    are the same chains of multiply-adds, so bitwise equal."""
    for trans_a in (False, True):
        a, b = operands(rng, 36, 45, 50, trans_a, False, np.float32)
        full = np.empty((36, 45), np.float32)
        _core.gemm(a, b, full, trans_a=trans_a)
        part = np.empty((32, 45), np.float32)
        _core.gemm(a[:, :32].copy() if trans_a else a[:32], b, part, trans_a=trans_a)
        np.testing.assert_array_equal(part, full[:32])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,n,k", [
    (7, 33, 65),        # primes around the tile sizes
    (45, 250, 101),     # A packed (too large to read in place), edge tiles in M and N
    (140, 40, 900),     # several K blocks of uneven size, several M blocks
    (3, 4200, 5),       # N wider than one column block
    (1201, 2, 3),       # tall and skinny
    (2, 3, 1301),       # long K, tiny output
    (64, 96, 1),        # k = 1
])
def test_block_boundaries(isa, dtype, rng, m, n, k):
    for trans_a, trans_b in itertools.product((False, True), repeat=2):
        check_gemm(rng, m, n, k, trans_a, trans_b, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_bias_and_activation_epilogue(isa, dtype, activation, rng):
    # k larger than one K block: the activation must run once, after the last block.
    m, n, k = 29, 45, 700
    mr, nr = tile_shape(dtype)
    for trans_a, trans_b in ((False, False), (True, True)):
        a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
        a *= 0.05  # keep pre-activations O(1) so every branch of the activation is hit
        bias = rng.standard_normal(n).astype(dtype)
        out = np.empty((m, n), dtype)
        _core.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b, bias=bias,
                   activation=activation, alpha=ALPHA.get(activation, 0.0))
        a64, b64 = op(a, trans_a), op(b, trans_b)
        expected = activate64(activation, a64 @ b64 + bias.astype(np.float64))
        # Activation Lipschitz constants are <= 2 (selu); the activation adds a few ulp.
        eps = np.finfo(dtype).eps
        tol = 2 * product_bound(a64, b64, k, dtype, bias) + 16 * eps * (np.abs(expected) + eps)
        if activation == "softmax":  # each output depends on its whole row
            tol = tol.max(axis=1, keepdims=True) * 2
        assert np.all(np.abs(out - expected) <= tol), (trans_a, trans_b)


def test_bias_without_activation_and_k_zero(rng):
    bias = rng.standard_normal(5)
    out = np.full((3, 5), np.nan)
    _core.gemm(np.empty((3, 0)), np.empty((0, 5)), out, bias=bias, activation="relu")
    np.testing.assert_array_equal(out, np.tile(np.maximum(bias, 0), (3, 1)))
    a, b = rng.standard_normal((4, 6)), rng.standard_normal((6, 5))
    _core.gemm(a, b, out := np.empty((4, 5)), bias=bias)
    np.testing.assert_allclose(out, a @ b + bias, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
def test_accumulate(isa, dtype, rng):
    for m, n, k in ((13, 37, 300), (1, 1, 1), (40, 3, 900)):
        for trans_a, trans_b in itertools.product((False, True), repeat=2):
            a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
            c0 = rng.standard_normal((m, n)).astype(dtype)
            out = c0.copy()
            _core.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b, accumulate=True)
            a64, b64 = op(a, trans_a), op(b, trans_b)
            bound = product_bound(a64, b64, k, dtype, c0[0] * 0) + 2 * np.finfo(dtype).eps * np.abs(c0)
            assert np.all(np.abs(out - (c0 + a64 @ b64)) <= bound)


def test_kernel_blocking_does_not_change_results(rng):
    """The k-sum of each element is one chain whatever the blocking: a product is
    bitwise equal to the same rows computed alone (other M/N blocks and edge tiles)."""
    a = rng.standard_normal((150, 777)).astype(np.float32)
    b = rng.standard_normal((777, 90)).astype(np.float32)
    full = _core.matmul(a, b)
    for rows in (slice(0, 1), slice(37, 38), slice(149, 150), slice(5, 70)):
        np.testing.assert_array_equal(_core.matmul(a[rows].copy(), b), full[rows])


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_bitwise_equal(dtype, rng):
    for m, n, k, trans_a, trans_b in ((257, 190, 301, False, False), (64, 700, 129, True, True),
                                      (1000, 33, 80, False, True)):
        a, b = operands(rng, m, n, k, trans_a, trans_b, dtype)
        bias = rng.standard_normal(n).astype(dtype)
        results = []
        for threads in (1, 2):
            out = np.empty((m, n), dtype)
            with num_threads(threads):
                _core.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b, bias=bias,
                           activation="gelu")
            results.append(out)
        np.testing.assert_array_equal(results[0], results[1])


def test_matmul(isa, rng):
    for dtype in DTYPES:
        a = rng.standard_normal((31, 70)).astype(dtype)
        b = rng.standard_normal((70, 19)).astype(dtype)
        out = _core.matmul(a, b)
        assert out.dtype == dtype and out.shape == (31, 19)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        assert np.all(np.abs(out - a64 @ b64) <= product_bound(a64, b64, 70, dtype))


# ---- argument checks ----------------------------------------------------------------

def _args(**over):
    args = dict(a=np.ones((4, 3), np.float32), b=np.ones((3, 5), np.float32),
                out=np.empty((4, 5), np.float32))
    args.update(over)
    return args


@pytest.mark.parametrize("over,error,words", [
    (dict(a=np.ones((4, 3), np.int32)), TypeError, ["a", "int32"]),
    (dict(a=[[1.0]]), TypeError, ["a", "list"]),
    (dict(b=np.ones((3, 5), np.float64)), TypeError, ["b", "float32", "float64"]),
    (dict(out=np.empty((4, 5), np.float64)), TypeError, ["out", "float64"]),
    (dict(a=np.ones((3, 4), np.float32).T), ValueError, ["a", "C-contiguous"]),
    (dict(a=np.ones(12, np.float32)), ValueError, ["a", "2-D", "(12,)"]),
    (dict(b=np.ones((4, 5), np.float32)), ValueError, ["b", "(4, 5)"]),
    (dict(out=np.empty((5, 4), np.float32)), ValueError, ["out", "(4, 5)", "(5, 4)"]),
    (dict(bias=np.ones(4, np.float32)), ValueError, ["bias", "(5,)", "(4,)"]),
    (dict(bias=np.ones(5, np.float64)), TypeError, ["bias", "float64"]),
    (dict(activation="swish"), ValueError, ["activation", "swish"]),
    (dict(accumulate=True, activation="relu"), ValueError, ["accumulate", "relu"]),
    (dict(accumulate=True, bias=np.ones(5, np.float32)), ValueError, ["accumulate", "bias"]),
])
def test_bad_arguments(over, error, words):
    with pytest.raises(error) as info:
        _core.gemm(**_args(**over))
    for word in words:
        assert word in str(info.value)


def test_bad_outputs():
    out = np.empty((4, 5), np.float32)
    out.flags.writeable = False
    with pytest.raises(ValueError, match="out.*read-only"):
        _core.gemm(**_args(out=out))
    buf = np.ones((4, 5), np.float32)
    a_view = buf.reshape(-1)[:12].reshape(4, 3)  # shares memory with out
    with pytest.raises(ValueError, match="out and a"):
        _core.gemm(a_view, np.ones((3, 5), np.float32), buf)
    square = np.ones((4, 4), np.float32)
    with pytest.raises(ValueError, match="out and b"):
        _core.gemm(np.ones((4, 4), np.float32), square, square)
    with pytest.raises(ValueError, match="a.*C-contiguous"):
        _core.matmul(np.ones((3, 4), np.float32).T, np.ones((3, 2), np.float32))
    with pytest.raises(ValueError, match="b"):
        _core.matmul(np.ones((3, 4)), np.ones((3, 2)))
