"""Vector math of the core (vexp, vlog, vtanh): accuracy in ulps over a dense sweep
of float32 values on every SIMD path, the C library's results at the edges, and the
argument checks (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest

from pydl import _core

from conftest import num_threads

FUNCS = {"vexp": np.exp, "vlog": np.log, "vtanh": np.tanh}
# Max error in float32 ulps, per function and path (generic = the C library).
MAX_ULP = {
    "generic": {"vexp": 1.0, "vlog": 1.0, "vtanh": 3.0},  # glibc tanhf: 2.07
    "avx2": {"vexp": 1.5, "vlog": 1.5, "vtanh": 2.0},  # measured 1.0, 0.76, 1.26
    "avx512": {"vexp": 1.5, "vlog": 1.5, "vtanh": 2.0},
}


def float32_sweep():
    """~2 million float32 values spread evenly over all bit patterns (both signs,
    subnormals, infinities and NaNs), plus the edges of each function."""
    bits = np.arange(0, 2**32, 2111, dtype=np.uint64).astype(np.uint32)
    edges = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1.0, -1.0, 88.72283, 88.72284, 89.0,
                      -87.33654, -87.34, -103.97, -103.98, -104.0, 1e-45, -1e-45,
                      np.finfo(np.float32).tiny, np.finfo(np.float32).max, 0.625, -0.625,
                      9.0, -9.0, 9.1, -9.1], np.float32)
    return np.concatenate([bits.view(np.float32), edges])


X = float32_sweep()


def ulp_error(out, ref):
    """|out - ref| in float32 ulps at ref; 0 where both are the same non-finite value."""
    quiet_bit = np.uint32(1 << 22)
    assert np.all(out.view(np.uint32)[np.isnan(out)] & quiet_bit), "a signaling NaN came out"
    with np.errstate(all="ignore"):
        out = np.asarray(out, np.float64)
        ref32 = ref.astype(np.float32)
    finite = np.isfinite(out) & np.isfinite(ref32)
    same = (out == ref32) | (np.isnan(out) & np.isnan(ref32))
    err = np.where(same, 0.0, np.inf)
    spacing = np.spacing(np.abs(ref32[finite])).astype(np.float64)
    err[finite] = np.abs(out[finite] - ref[finite]) / spacing
    return err


def reference(name, x):
    with np.errstate(all="ignore"):
        return FUNCS[name](x.astype(np.float64))


def reference32(name, x):
    """The float64 result rounded to float32 (overflowing to inf, as the C library)."""
    with np.errstate(all="ignore"):
        return reference(name, x).astype(np.float32)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float32_ulp_over_the_whole_range(isa, name):
    out = np.empty_like(X)
    getattr(_core, name)(X, out)
    err = ulp_error(out, reference(name, X))
    worst = int(np.argmax(err))
    assert err.max() <= MAX_ULP[isa][name], (name, isa, X[worst], out[worst], err.max())


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_edges_are_the_c_library_results(isa, name):
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, -1.0, 89.0, 1e30, -1e30, -110.0, 1e-45,
                  -1e-45], np.float32)
    out = np.empty_like(x)
    getattr(_core, name)(x, out)
    expected = reference32(name, x)
    np.testing.assert_array_equal(out, expected)
    # Signed zeros keep their sign (tanh(-0) = -0, log(+-0) = -inf).
    assert np.array_equal(np.signbit(out[np.isfinite(out) & (out == 0)]),
                          np.signbit(expected[np.isfinite(expected) & (expected == 0)]))


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_float64_is_the_c_library(name, rng):
    x = rng.uniform(0.01, 50, 1000) * rng.choice([-1.0, 1.0], 1000)
    if name == "vlog":
        x = np.abs(x)
    out = np.empty_like(x)
    getattr(_core, name)(x, out)
    np.testing.assert_allclose(out, reference(name, x), rtol=1e-15)


@pytest.mark.parametrize("name", sorted(FUNCS))
@pytest.mark.parametrize("n", [0, 1, 7, 15, 16, 17, 33, 1000])
def test_in_place_and_every_tail_length(isa, name, n, rng):
    x = rng.uniform(0.1, 5, n).astype(np.float32)
    expected = np.empty_like(x)
    getattr(_core, name)(x, expected)
    for i in range(n):  # one value at a time: the tail of a vector gives the same bits
        one = np.empty(1, np.float32)
        getattr(_core, name)(x[i:i + 1], one)
        assert one[0] == expected[i]
    getattr(_core, name)(x, x)
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_one_and_two_threads_bitwise_equal(name):
    x = np.abs(X[np.isfinite(X)][:200_001]) if name == "vlog" else X[:200_001]
    results = []
    for n in (1, 2):
        out = np.empty_like(x)
        with num_threads(n):
            getattr(_core, name)(x, out)
        results.append(out)
    np.testing.assert_array_equal(results[0], results[1])


def test_any_shape():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10
    out = np.empty_like(x)
    _core.vexp(x, out)
    np.testing.assert_allclose(out, np.exp(x.astype(np.float64)), rtol=3e-7)


def test_bad_arguments():
    x = np.ones((3, 4), np.float32)
    with pytest.raises(TypeError, match="out: expected dtype float32"):
        _core.vexp(x, np.ones((3, 4), np.float64))
    with pytest.raises(ValueError, match=r"out: expected shape \(3, 4\)"):
        _core.vlog(x, np.ones(12, np.float32))
    with pytest.raises(ValueError, match="x: expected a C-contiguous"):
        _core.vtanh(np.ones((3, 8), np.float32)[:, ::2], x)
    read_only = np.ones((3, 4), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out: expected a writeable"):
        _core.vexp(x, read_only)
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64"):
        _core.vexp(np.ones(3, np.int64), np.ones(3, np.int64))
    with pytest.raises(TypeError, match="x: expected a numpy.ndarray"):
        _core.vexp([1.0], np.ones(1, np.float32))
