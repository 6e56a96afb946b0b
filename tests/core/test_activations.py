"""Activation kernels of the core: forward and backward on every SIMD path, checked
against float64 NumPy references and central finite differences (issue 3)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pydl import _core

from conftest import num_threads

NAMES = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu",
         "gelu", "softplus", "silu")
ALPHA = {"leaky_relu": 0.2, "elu": 1.0}  # Keras defaults, passed from Python
SELU_SCALE = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


# ---- float64 references -------------------------------------------------------------

def ref_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


def ref_forward(name, x, alpha=0.0):
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        if name == "linear":
            return x.copy()
        if name == "relu":
            return np.where(x < 0, 0.0, x)
        if name == "sigmoid":
            return ref_sigmoid(x)
        if name == "tanh":
            return np.tanh(x)
        if name == "softmax":
            e = np.exp(x - x.max(axis=-1, keepdims=True))
            return e / e.sum(axis=-1, keepdims=True)
        if name == "leaky_relu":
            return np.where(x < 0, alpha * x, x)
        if name == "elu":
            return np.where(x > 0, x, alpha * np.expm1(x))
        if name == "selu":
            return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))
        if name == "gelu":
            return 0.5 * x * _erfc(-x / math.sqrt(2.0))
        if name == "softplus":
            return np.logaddexp(0.0, x)
        if name == "silu":
            return x * ref_sigmoid(x)
    raise AssertionError(name)


def ref_backward(name, z, y, dy, alpha=0.0):
    """dx from the same inputs the kernel reads (z for gelu/silu, else y), in float64."""
    z = None if z is None else np.asarray(z, np.float64)
    y = None if y is None else np.asarray(y, np.float64)
    dy = np.asarray(dy, np.float64)
    if name == "linear":
        return dy
    if name == "relu":
        return np.where(y > 0, dy, 0.0)
    if name == "sigmoid":
        return dy * y * (1 - y)
    if name == "tanh":
        return dy * (1 - y * y)
    if name == "softmax":
        return y * (dy - (dy * y).sum(axis=-1, keepdims=True))
    if name == "leaky_relu":
        return dy * np.where(y > 0, 1.0, alpha)
    if name == "elu":
        return dy * np.where(y > 0, 1.0, y + alpha)
    if name == "selu":
        return dy * np.where(y > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA)
    if name == "softplus":
        return dy * -np.expm1(-y)
    if name == "gelu":
        pdf = np.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
        return dy * (0.5 * _erfc(-z / math.sqrt(2.0)) + z * pdf)
    if name == "silu":
        s = ref_sigmoid(z)
        return dy * s * (1 + z * (1 - s))
    raise AssertionError(name)


# ---- helpers --------------------------------------------------------------------------

def forward(name, x, alpha=None):
    out = np.empty_like(x)
    _core.activation_forward(name, x, out, alpha=ALPHA.get(name, 0.0) if alpha is None else alpha)
    return out


def backward(name, z, y, dy, alpha=None):
    dx = np.empty_like(dy)
    _core.activation_backward(name, z, y, dy, dx,
                              alpha=ALPHA.get(name, 0.0) if alpha is None else alpha)
    return dx


def ulp_error(out, ref):
    """|out - ref| in units of the float32 spacing at ref; 0 where both are the same
    non-finite value, inf where only one is finite."""
    out = np.asarray(out, np.float64)
    with np.errstate(all="ignore"):
        ref32 = ref.astype(np.float32)
    finite = np.isfinite(out) & np.isfinite(ref32)
    same = (out == ref32) | (np.isnan(out) & np.isnan(ref32))
    err = np.where(same, 0.0, np.inf)
    spacing = np.spacing(np.abs(ref32[finite])).astype(np.float64)
    err[finite] = np.abs(out[finite] - ref[finite]) / spacing
    return err


def sweep_inputs(rng, n=3000, lo=-30.0, hi=30.0):
    """Dense values on [lo, hi], random ones, and values near the kinks and edges."""
    specials = [0.0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 1.0, -1.0, 9.0, -9.0, 16.0,
                -16.0, 17.5, -17.5, 88.0, -88.0, 90.0, -90.0, 104.0, -104.0, 1e30, -1e30]
    return np.concatenate([np.linspace(lo, hi, n), rng.uniform(-6, 6, n), specials])


# Max ulp of float32 forward vs the float64 reference. The generic path computes
# in double (half an ulp, 0.6 for leaky_relu: alpha is rounded to float); the SIMD
# paths measured over all float32 in (-200, 200) (step 397 in the bit patterns):
# sigmoid 2.25, tanh 1.3, elu 0.84, selu 1.93, gelu 3.46, softplus 1.82, silu 2.71.
SIMD_MAX_ULP = {"gelu": 4.0}


def forward_max_ulp(isa, name):
    return 1.0 if isa == "generic" else SIMD_MAX_ULP.get(name, 3.0)


# ---- forward ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", [n for n in NAMES if n != "softmax"])
def test_forward_float32_matches_float64_reference(isa, name, rng):
    x = sweep_inputs(rng).astype(np.float32)
    out = forward(name, x)
    err = ulp_error(out, ref_forward(name, x.astype(np.float64), ALPHA.get(name, 0.0)))
    worst = int(np.argmax(err))
    assert err.max() <= forward_max_ulp(isa, name), (name, isa, x[worst], out[worst], err.max())


@pytest.mark.parametrize("name", [n for n in NAMES if n != "softmax"])
def test_forward_float64(name, rng):
    x = sweep_inputs(rng)
    # gelu's far tail (erfc(30/sqrt 2) ~ 1e-196) magnifies the rounding of x/sqrt(2).
    rtol = 1e-12 if name == "gelu" else 1e-14
    np.testing.assert_allclose(forward(name, x), ref_forward(name, x, ALPHA.get(name, 0.0)),
                               rtol=rtol, atol=1e-300)


@pytest.mark.parametrize("name", [n for n in NAMES if n != "softmax"])
def test_forward_special_values_follow_the_c_library(isa, name):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, 200.0, -200.0], np.float32)
    out = forward(name, x)
    ref = ref_forward(name, x.astype(np.float64), ALPHA.get(name, 0.0)).astype(np.float32)
    np.testing.assert_array_equal(out, ref)


def test_sigmoid_saturates_without_overflow(isa):
    x = np.array([-1e4, -200.0, -104.0, -88.0, -20.0, 17.0, 20.0, 200.0, 1e4], np.float32)
    out = forward("sigmoid", x)
    assert out[0] == 0.0 and out[1] == 0.0 and out[2] == 0.0
    assert 0.0 < out[3] < np.finfo(np.float32).tiny  # a subnormal, as exp(-88) is
    assert out[5] < 1.0
    assert np.all(out[6:] == 1.0)


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (5, 33), (2, 3, 16), (4, 1000)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_rows(isa, shape, dtype, rng):
    x = (rng.standard_normal(shape) * 10).astype(dtype)
    out = forward("softmax", x)
    ref = ref_forward("softmax", x.astype(np.float64))
    # Relative error: a few eps, plus eps * |x - max| from rounding x - max in dtype,
    # plus the rounding of the sum.
    eps = np.finfo(dtype).eps
    shift = np.abs(x - x.max(axis=-1, keepdims=True)).astype(np.float64)
    assert np.all(np.abs(out - ref) <= ref * eps * (8 + shift + 2 * np.sqrt(shape[-1])))
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=8 * eps * np.sqrt(shape[-1]))


def test_softmax_is_shift_invariant_and_stable(isa):
    x = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, -1001.0, -1002.0]], np.float32)
    out = forward("softmax", x)
    ref = ref_forward("softmax", np.array([[0.0, 1.0, 2.0], [0.0, -1.0, -2.0]]))
    np.testing.assert_allclose(out, ref, rtol=2e-6)


def test_softmax_scalar_and_empty(isa):
    np.testing.assert_array_equal(forward("softmax", np.array(3.0, np.float32)), 1.0)
    empty = np.zeros((3, 0), np.float32)
    assert forward("softmax", empty).shape == (3, 0)


@pytest.mark.parametrize("name", NAMES)
def test_forward_in_place(isa, name, rng):
    x = rng.standard_normal((7, 37)).astype(np.float32) * 4
    expected = forward(name, x)
    _core.activation_forward(name, x, x, alpha=ALPHA.get(name, 0.0))
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_alpha_is_used(isa, name):
    x = np.array([-2.0, 3.0], np.float32)
    ref = ref_forward(name, x.astype(np.float64), 0.5)
    np.testing.assert_allclose(forward(name, x, alpha=0.5), ref, rtol=1e-6)


# ---- backward ----------------------------------------------------------------------------

def backward_inputs(name, shape, dtype, rng):
    z = (rng.standard_normal(shape) * 3).astype(dtype)
    y = forward(name, z)
    dy = rng.standard_normal(shape).astype(dtype)
    return z, y, dy


@pytest.mark.parametrize("name", NAMES)
def test_backward_float32_matches_float64_reference(isa, name, rng):
    shape = (9, 131)
    z, y, dy = backward_inputs(name, shape, np.float32, rng)
    needs_z = _core.activation_needs_preactivation(name)
    dx = backward(name, z if needs_z else None, None if needs_z else y, dy)
    ref = ref_backward(name, z, y, dy, ALPHA.get(name, 0.0))
    np.testing.assert_allclose(dx, ref, rtol=4e-6, atol=2e-7)


@pytest.mark.parametrize("name", NAMES)
def test_backward_against_finite_differences(name, rng):
    alpha = ALPHA.get(name, 0.0)
    z = rng.uniform(-4, 4, (3, 6))
    z = np.where(np.abs(z) < 1e-2, 0.5, z)  # keep away from the kinks at 0
    dy = rng.standard_normal(z.shape)
    dx = backward(name, z, forward(name, z), dy)
    h = 1e-6
    fd = np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += h
        zm[idx] -= h
        fd[idx] = np.sum(dy * (forward(name, zp, alpha) - forward(name, zm, alpha))) / (2 * h)
    np.testing.assert_allclose(dx, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_backward_in_place_over_dy(isa, name, rng):
    z, y, dy = backward_inputs(name, (5, 19), np.float32, rng)
    expected = backward(name, z, y, dy)
    _core.activation_backward(name, z, y, dy, dy, alpha=ALPHA.get(name, 0.0))
    np.testing.assert_array_equal(dy, expected)


def test_needs_preactivation():
    needs = {n for n in NAMES if _core.activation_needs_preactivation(n)}
    assert needs == {"gelu", "silu"}


@pytest.mark.parametrize("name", NAMES)
def test_one_and_two_threads_bitwise_equal(name, rng):
    z = (rng.standard_normal((40, 2000)) * 4).astype(np.float32)
    dy = rng.standard_normal(z.shape).astype(np.float32)
    results = []
    for n in (1, 2):
        with num_threads(n):
            y = forward(name, z)
            results.append((y, backward(name, z, y, dy)))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])


# ---- argument checks ----------------------------------------------------------------------

def test_unknown_name_lists_the_valid_ones():
    x = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match=r"name: expected one of linear, relu.*received 'swishy'"):
        _core.activation_forward("swishy", x, x)
    with pytest.raises(ValueError, match="name"):
        _core.activation_needs_preactivation("nope")
    with pytest.raises(TypeError, match="name"):
        _core.activation_forward(3, x, x)


def test_forward_rejects_bad_arrays():
    x = np.zeros((4, 6), np.float32)
    with pytest.raises(TypeError, match="out: expected dtype float32"):
        _core.activation_forward("relu", x, np.zeros((4, 6), np.float64))
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64"):
        _core.activation_forward("relu", x.astype(np.int32), x)
    with pytest.raises(TypeError, match="x: expected a numpy.ndarray"):
        _core.activation_forward("relu", [1.0, 2.0], x)
    with pytest.raises(ValueError, match=r"out: expected shape \(4, 6\)"):
        _core.activation_forward("relu", x, np.zeros((6, 4), np.float32))
    with pytest.raises(ValueError, match="x: expected a C-contiguous"):
        _core.activation_forward("relu", np.zeros((4, 12), np.float32)[:, ::2], x)
    read_only = np.zeros((4, 6), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="out: expected a writeable"):
        _core.activation_forward("relu", x, read_only)
    buf = np.zeros(30, np.float32)
    with pytest.raises(ValueError, match="share memory"):
        _core.activation_forward("relu", buf[:24].reshape(4, 6), buf[6:30].reshape(4, 6))


def test_backward_rejects_bad_arrays():
    z = np.zeros((4, 6), np.float32)
    y, dy, dx = z.copy(), z.copy(), z.copy()
    with pytest.raises(ValueError, match="z: activation 'gelu' needs the pre-activation"):
        _core.activation_backward("gelu", None, y, dy, dx)
    with pytest.raises(ValueError, match="y: activation 'softmax' needs its output"):
        _core.activation_backward("softmax", z, None, dy, dx)
    with pytest.raises(TypeError, match="y: expected dtype float32"):
        _core.activation_backward("relu", None, y.astype(np.float64), dy, dx)
    with pytest.raises(ValueError, match=r"z: expected shape \(4, 6\)"):
        _core.activation_backward("silu", np.zeros((4, 5), np.float32), None, dy, dx)
    with pytest.raises(TypeError, match="dx: expected dtype float32"):
        _core.activation_backward("relu", None, y, dy, dx.astype(np.float64))
    with pytest.raises(ValueError, match="alpha: expected alpha >= 0 for elu"):
        _core.activation_backward("elu", None, y, dy, dx, alpha=-1.0)
