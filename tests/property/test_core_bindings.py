"""Property-based tests: random shapes, strides, dtypes and values thrown at the
bindings of pydl._core. The outcome is a correct result or a documented
exception (TypeError/ValueError), never a crash or an out-of-bounds access (the
sanitizer build runs this file too: tools/check_sanitizers.sh).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydl import _core

from bf16_reference import round_bf16

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
DTYPES = [np.float32, np.float64, np.float16, np.int32, np.int64, np.bool_, np.complex64]
ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu",
               "gelu", "softplus", "silu"]


@st.composite
def arrays(draw, shape=None, dtype=None, allow_bad=True):
    """An array of a drawn (or given) shape and dtype, sometimes strided or read-only."""
    if shape is None:
        shape = tuple(draw(st.lists(st.integers(0, 9), min_size=0, max_size=3)))
    if dtype is None:
        dtype = draw(st.sampled_from(DTYPES)) if allow_bad and draw(st.booleans()) else np.float32
    values = draw(st.sampled_from(["normal", "huge", "special"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = rng.standard_normal(shape)
    if values == "huge":
        base *= 1e30
    elif values == "special" and base.size:
        flat = base.reshape(-1)
        flat[rng.integers(0, flat.size, size=max(1, flat.size // 3))] = rng.choice(
            [np.nan, np.inf, -np.inf, 0.0, -0.0, 88.8, -103.0])
    with np.errstate(all="ignore"):
        a = base.astype(dtype)
    layout = draw(st.sampled_from(["c", "c", "c", "fortran", "strided", "readonly"])) if allow_bad else "c"
    if layout == "fortran" and a.ndim >= 2:
        a = np.asfortranarray(a)
    elif layout == "strided" and a.ndim >= 1:
        a = np.repeat(a, 2, axis=-1)[..., ::2]
    elif layout == "readonly":
        a.flags.writeable = False
    return a


def is_clean(*arrs, dtype=None):
    """True when every array is C-contiguous, writeable and of one float dtype."""
    dtype = dtype or arrs[0].dtype
    return all(a.dtype == dtype and a.dtype in (np.float32, np.float64) and a.flags.c_contiguous
               and a.flags.writeable for a in arrs)


def call(fn, *args, **kwargs):
    """Runs fn; returns True on success, False on a documented error."""
    try:
        with np.errstate(all="ignore"):
            fn(*args, **kwargs)
        return True
    except (TypeError, ValueError) as e:
        assert str(e), "errors must carry a message"
        return False


@st.composite
def gemm_case(draw):
    m, k, n = (draw(st.integers(0, 40)) for _ in range(3))
    trans_a, trans_b = draw(st.booleans()), draw(st.booleans())
    a_shape = (k, m) if trans_a else (m, k)
    b_shape = (n, k) if trans_b else (k, n)
    if draw(st.integers(0, 4)) == 0:  # sometimes a wrong shape
        a_shape = (a_shape[0] + draw(st.integers(1, 3)), a_shape[1])
    a = draw(arrays(shape=a_shape))
    b = draw(arrays(shape=b_shape))
    out = draw(arrays(shape=(m, n)))
    bias = draw(st.one_of(st.none(), arrays(shape=(n,))))
    act = draw(st.sampled_from(ACTIVATIONS + ["bogus"]))
    return a, b, out, bias, act, trans_a, trans_b


@SETTINGS
@given(gemm_case())
def test_gemm_random_arguments(case):
    a, b, out, bias, act, trans_a, trans_b = case
    ok = call(_core.gemm, a, b, out, trans_a=trans_a, trans_b=trans_b, bias=bias, activation=act)
    valid = (is_clean(a, b, out) and (bias is None or is_clean(bias, dtype=a.dtype))
             and act in ACTIVATIONS
             and (a.T if trans_a else a).shape[1] == (b.T if trans_b else b).shape[0]
             and out.shape == ((a.T if trans_a else a).shape[0], (b.T if trans_b else b).shape[1]))
    if valid and a.size and b.size:
        assert ok, "a valid gemm call was refused"
    if ok and act == "linear" and out.size and np.isfinite(a).all() and np.isfinite(b).all():
        ref = (a.T if trans_a else a).astype(np.float64) @ (b.T if trans_b else b).astype(np.float64)
        if bias is not None:
            ref = ref + bias
        if np.abs(ref).max() < 1e30:
            tol = 1e-3 if a.dtype == np.float32 else 1e-10
            scale = (np.abs(a).max() if a.size else 1) * (np.abs(b).max() if b.size else 1)
            k = (a.T if trans_a else a).shape[1]
            np.testing.assert_allclose(out, ref, atol=tol * max(1.0, scale) * max(1, k), rtol=tol)


@SETTINGS
@given(st.sampled_from(ACTIVATIONS + ["", "ReLU"]), arrays(), st.data())
def test_activation_forward_random_arguments(name, x, data):
    out = data.draw(st.one_of(arrays(shape=x.shape), arrays()))
    ok = call(_core.activation_forward, name, x, out)
    if name in ACTIVATIONS and is_clean(x, out) and x.shape == out.shape and x.ndim >= 1:
        assert ok, "a valid activation_forward call was refused"
    if ok and name == "relu":
        with np.errstate(invalid="ignore"):
            np.testing.assert_array_equal(out, np.where(x > 0, x, np.where(np.isnan(x), x, 0)))


@SETTINGS
@given(st.sampled_from(ACTIVATIONS), arrays(), st.data())
def test_activation_backward_random_arguments(name, z, data):
    y = data.draw(arrays(shape=z.shape))
    dy = data.draw(arrays(shape=z.shape))
    dx = data.draw(st.one_of(arrays(shape=z.shape), arrays()))
    zarg = z if data.draw(st.booleans()) else None
    call(_core.activation_backward, name, zarg, y, dy, dx)


@SETTINGS
@given(st.sampled_from(["vexp", "vlog", "vtanh"]), arrays(), st.data())
def test_vector_math_random_arguments(fn_name, x, data):
    out = data.draw(st.one_of(arrays(shape=x.shape), arrays()))
    ok = call(getattr(_core, fn_name), x, out)
    if ok and x.dtype in (np.float32, np.float64):
        ref = {"vexp": np.exp, "vlog": np.log, "vtanh": np.tanh}[fn_name]
        with np.errstate(all="ignore"):
            expected = ref(x.astype(np.float64)).astype(x.dtype)
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=0, equal_nan=True)


@SETTINGS
@given(arrays())
def test_all_finite_random_arguments(x):
    """Any array: the documented error, or exactly np.isfinite(x).all()."""
    try:
        result = _core.all_finite(x)
    except (TypeError, ValueError) as e:
        assert str(e)
        assert x.dtype not in (np.float32, np.float64) or not x.flags.c_contiguous
        return
    assert result is bool(np.isfinite(x).all())


@SETTINGS
@given(gemm_case())
def test_gemm_bf16_random_arguments(case):
    """bf16=True: float32 only (float64 is refused by name); the result is the product of
    the bfloat16-rounded operands within float32 accumulation error (on the float32
    kernels where no bf16 kernel is installed: then within bfloat16 error of it)."""
    a, b, out, bias, act, trans_a, trans_b = case
    ok = call(_core.gemm, a, b, out, trans_a=trans_a, trans_b=trans_b, bias=bias, activation=act,
              bf16=True)
    op_a, op_b = (a.T if trans_a else a), (b.T if trans_b else b)
    valid = (is_clean(a, b, out, dtype=np.float32)
             and (bias is None or is_clean(bias, dtype=a.dtype)) and act in ACTIVATIONS
             and op_a.shape[1] == op_b.shape[0]
             and out.shape == (op_a.shape[0], op_b.shape[1]))
    if valid and a.size and b.size:
        assert ok, "a valid bf16 gemm call was refused"
    if ok and a.size and b.size:
        assert a.dtype == np.float32, "bf16 products of float64 arrays must be refused"
    if ok and act == "linear" and out.size and np.isfinite(a).all() and np.isfinite(b).all():
        ra, rb = round_bf16(op_a).astype(np.float64), round_bf16(op_b).astype(np.float64)
        ref = ra @ rb + (0.0 if bias is None else bias)
        if np.abs(ref).max() < 1e30:
            k = op_a.shape[1]
            bound = (np.abs(op_a).astype(np.float64) @ np.abs(op_b).astype(np.float64)
                     + (0.0 if bias is None else np.abs(bias)))
            rel = (k + 2) * 2.0 ** -23 if _core.bf16_kernels() else 2.0 ** -7
            assert np.all(np.abs(out - ref) <= rel * bound + 1e-30)


@st.composite
def dense_case(draw):
    batch, fan_in, units = (draw(st.integers(0, 24)) for _ in range(3))
    x = draw(arrays(shape=(batch, fan_in)))
    w = draw(arrays(shape=(fan_in + draw(st.sampled_from([0, 0, 0, 1])), units)))
    b = draw(st.one_of(st.none(), arrays(shape=(units,))))
    y = draw(arrays(shape=(batch, units)))
    z = draw(st.one_of(st.none(), arrays(shape=(batch, units))))
    act = draw(st.sampled_from(ACTIVATIONS))
    return x, w, b, y, z, act


@SETTINGS
@given(dense_case(), st.data())
def test_dense_random_arguments(case, data):
    x, w, b, y, z, act = case
    call(_core.dense_forward, x, w, b, act, y, z)
    dy = data.draw(arrays(shape=y.shape))
    dz = data.draw(arrays(shape=y.shape))
    dx = data.draw(st.one_of(st.none(), arrays(shape=x.shape)))
    dw = data.draw(arrays(shape=w.shape))
    db = data.draw(st.one_of(st.none(), arrays(shape=(w.shape[1],))))
    call(_core.dense_backward, x, w, z, y, dy, act, dz, dx, dw, db)


@pytest.mark.parametrize("bad", [None, 3, "x", [[1.0]], object()])
def test_non_array_arguments_raise_type_error(bad):
    good = np.zeros((2, 2), np.float32)
    with pytest.raises(TypeError):
        _core.gemm(bad, good, good.copy())
    with pytest.raises(TypeError):
        _core.activation_forward("relu", bad, good)
