"""The bfloat16 GEMM (`_core.gemm(..., bf16=True)`, csrc/gemm/bf16.h): the rounding in
the packing, the kernels bit for bit against a NumPy emulation of VDPBF16PS on edge
shapes and every transpose, a float64 reference of the rounded operands, the fused
epilogue, 1 vs 2 threads, the float32 fallback where the kernels are not installed
(PYDL_ISA cap), the peak probe and the argument checks (issue 16)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from pydl import _core

from bf16_reference import bf16_kernels, gemm_bf16, round_bf16
from conftest import bf16_supported, forced_isa, num_threads

needs_bf16 = pytest.mark.skipif(not bf16_supported(), reason="this CPU has no AVX512_BF16")

SIZES = (1, 2, 7, 11, 12, 13, 17, 33, 65)


def operands(rng, m, n, k, trans_a, trans_b):
    a = rng.standard_normal((k, m) if trans_a else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if trans_b else (k, n)).astype(np.float32)
    return a, b


def product(a, b, trans_a=False, trans_b=False, **kwargs):
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    out = np.full((m, n), np.nan, np.float32)
    _core.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b, bf16=True, **kwargs)
    return out


def op(x, trans):
    return np.ascontiguousarray(x.T if trans else x)


@needs_bf16
def test_rounding_in_the_pack_is_round_to_nearest_even():
    """k = 1 against a column of ones: C is A rounded to bfloat16 (the special values:
    NaN, +-inf, subnormals to zero, ties to even, overflow to inf)."""
    f32 = np.float32
    special = np.array([np.nan, np.inf, -np.inf, 1.0, -1.0, 1e-40, -1e-40, 2.0 ** -126,
                        f32(3.4e38), 1.00390625, 1.01171875, 1.0039062, 3.0e38,
                        np.finfo(f32).max, -np.finfo(f32).max], f32)
    bits = np.random.default_rng(3).integers(0, 2 ** 32, 4000, dtype=np.uint64)
    a = np.concatenate([special, bits.astype(np.uint32).view(f32)]).reshape(-1, 1)
    ones = np.ones((1, 1), f32)
    with bf16_kernels():
        for trans_a in (False, True):
            got = product(op(a, trans_a), ones, trans_a=trans_a)[:, 0]
            want = round_bf16(a[:, 0]) + f32(0)  # 0 + x: -0 reads as +0, as the kernel's sum
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
            finite = ~np.isnan(want)
            np.testing.assert_array_equal(got[finite].view(np.uint32),
                                          want[finite].view(np.uint32))


@needs_bf16
@pytest.mark.parametrize("trans_a,trans_b", list(itertools.product((False, True), repeat=2)))
def test_kernels_bit_for_bit_on_edge_shapes(rng, trans_a, trans_b):
    with bf16_kernels():
        for m, n, k in itertools.product(SIZES, SIZES, (1, 2, 3, 17, 32, 33)):
            a, b = operands(rng, m, n, k, trans_a, trans_b)
            got = product(a, b, trans_a, trans_b)
            np.testing.assert_array_equal(got, gemm_bf16(op(a, trans_a), op(b, trans_b)),
                                          err_msg=f"m={m} n={n} k={k}")


@needs_bf16
@pytest.mark.parametrize("m,n,k", [(300, 97, 2049), (40, 520, 1027), (145, 1030, 64)])
def test_several_k_blocks_panels_and_tiles_bit_for_bit(rng, m, n, k):
    """K over several cache blocks (an odd last one), M over several MC blocks, N over NC."""
    with bf16_kernels():
        for trans_a, trans_b in ((False, False), (True, True)):
            a, b = operands(rng, m, n, k, trans_a, trans_b)
            np.testing.assert_array_equal(product(a, b, trans_a, trans_b),
                                          gemm_bf16(op(a, trans_a), op(b, trans_b)))


@needs_bf16
def test_against_float64_of_the_rounded_operands(rng):
    """Within float32 accumulation error of the exact product of the rounded operands, and
    within bfloat16 error of the float32 product."""
    m, n, k = 64, 80, 500
    a, b = operands(rng, m, n, k, False, False)
    with bf16_kernels():
        got = product(a, b).astype(np.float64)
    ra, rb = round_bf16(a).astype(np.float64), round_bf16(b).astype(np.float64)
    mag = np.abs(ra) @ np.abs(rb)
    assert np.all(np.abs(got - ra @ rb) <= (k + 2) * np.finfo(np.float32).eps * mag)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    assert np.all(np.abs(got - exact) <= 2 * 2.0 ** -8 * np.abs(a) @ np.abs(b))
    assert np.abs(got - exact).max() > 0  # the operands were rounded


@needs_bf16
@pytest.mark.parametrize("activation", ["linear", "relu", "tanh", "softmax"])
def test_epilogue_bias_activation_and_accumulate(rng, activation):
    m, n, k = 29, 45, 37
    a, b = operands(rng, m, n, k, False, False)
    bias = rng.standard_normal(n).astype(np.float32)
    with bf16_kernels():  # the activation kernels of the same path as reference
        got = product(a, b, bias=bias, activation=activation)
        z = gemm_bf16(a, b, c0=bias[None, :])
        want = np.empty_like(z)
        _core.activation_forward(activation, z, want)
        np.testing.assert_array_equal(got, want)
        c = rng.standard_normal((m, n)).astype(np.float32)
        acc = c.copy()
        _core.gemm(a, b, acc, accumulate=True, bf16=True)
        np.testing.assert_array_equal(acc, gemm_bf16(a, b, c0=c))


@needs_bf16
def test_bitwise_identical_at_one_and_two_threads(rng):
    for m, n, k in ((512, 384, 300), (256, 1024, 129)):
        for trans_a, trans_b in itertools.product((False, True), repeat=2):
            a, b = operands(rng, m, n, k, trans_a, trans_b)
            with bf16_kernels():
                with num_threads(1):
                    one = product(a, b, trans_a, trans_b)
                with num_threads(2):
                    two = product(a, b, trans_a, trans_b)
                    grid = _core._gemm_tile_grid(m, n, k, 2, dtype="bfloat16")
            np.testing.assert_array_equal(one, two)
            assert grid[2] == 2 and grid[0] * grid[1] >= 2  # both threads had tiles


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_below_avx512_bf16_the_float32_kernels_run(rng, isa):
    """A cap below avx512_bf16 (PYDL_ISA): bf16=True gives the float32 product bit for bit."""
    if isa not in _core.build_info()["simd_compiled"]:
        pytest.skip(f"{isa} not compiled")
    a, b = operands(rng, 37, 41, 53, False, True)
    with forced_isa(isa):
        assert not _core.bf16_kernels()
        assert _core.gemm_kernel_name("bfloat16") == _core.gemm_kernel_name("float32")
        f32 = np.empty((37, 41), np.float32)
        _core.gemm(a, b, f32, trans_b=True)
        np.testing.assert_array_equal(product(a, b, trans_b=True), f32)


@needs_bf16
def test_kernel_names_and_the_cap():
    with bf16_kernels():
        assert _core.gemm_kernel_name("bfloat16").startswith("bf16_f32_gemm_ukernel_")
        assert _core.gemm_kernel_name("bfloat16").endswith("__avx512_bf16")
        assert _core.gemm_kernel_name("float32").endswith("__avx512")
    with forced_isa("avx512"):
        assert not _core.bf16_kernels()


def test_peak_probe():
    for kind in ("float32", "bfloat16"):
        flops, wall, cpu = _core._peak_probe(kind, 1000)
        assert wall >= 0 and cpu >= 0
        expected = 1000 * 24 * (64 if kind == "bfloat16" else 32)
        has = _core.active_isa() in (("avx512", "avx512_bf16") if kind == "float32"
                                     else ("avx512_bf16",))
        assert flops == (expected if has else 0)
    with pytest.raises(ValueError, match="kind"):
        _core._peak_probe("int8", 10)
    with pytest.raises(ValueError, match="rounds"):
        _core._peak_probe("float32", 0)


def test_argument_checks():
    a64 = np.ones((3, 4))
    with pytest.raises(TypeError, match="bf16"):
        _core.gemm(a64, np.ones((4, 2)), np.empty((3, 2)), bf16=True)
    with pytest.raises(ValueError, match="dtype"):
        _core._gemm_tile_grid(4, 4, 4, 1, dtype="float16")
    with pytest.raises(ValueError, match="dtype"):
        _core.gemm_kernel_name("float16")
