"""Property-based tests over pydl.ops: random shapes (broadcastable or not),
dtypes and values give NumPy's result or a TypeError/ValueError, never a crash;
inside a tape, gradients come back with each input's shape."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import pydl
from pydl import ops

from test_core_bindings import SETTINGS, arrays

BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply}
UNARY = {"relu": lambda x: np.maximum(x, 0), "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
         "tanh": np.tanh, "exp": np.exp, "square": np.square, "abs": np.abs,
         "negative": np.negative}
REDUCE = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}


def float_array(shape, rng):
    return rng.standard_normal(shape).astype(np.float32)


@st.composite
def shape_pairs(draw):
    """Two shapes that broadcast, or (sometimes) that don't."""
    base = draw(st.lists(st.integers(1, 5), min_size=0, max_size=3))
    other = [d if draw(st.booleans()) else 1 for d in base]
    other = other[draw(st.integers(0, len(other))):]
    if draw(st.integers(0, 5)) == 0 and base:
        other = list(base)
        other[-1] += 1  # mismatch
    return tuple(base), tuple(other)


@SETTINGS
@given(st.sampled_from(sorted(BINARY)), shape_pairs(), st.integers(0, 2**31))
def test_binary_ops_broadcast_like_numpy(name, shapes, seed):
    rng = np.random.default_rng(seed)
    a = pydl.Variable(float_array(shapes[0], rng))
    b = pydl.Variable(float_array(shapes[1], rng))
    try:
        expected = BINARY[name](a.numpy(), b.numpy())
    except ValueError:
        expected = None
    try:
        with pydl.GradientTape() as tape:
            out = getattr(ops, name)(a, b)
            loss = ops.sum(out)
    except ValueError as e:
        assert expected is None, f"broadcastable shapes {shapes} refused: {e}"
        return
    assert expected is not None, f"shapes {shapes} do not broadcast but were accepted"
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-6)
    grads = tape.gradient(loss, [a, b])
    assert grads[0].shape == a.shape and grads[1].shape == b.shape


@SETTINGS
@given(st.sampled_from(sorted(UNARY)), arrays(), )
def test_unary_ops_on_random_arrays(name, x):
    try:
        with np.errstate(all="ignore"):  # overflow to inf is the IEEE answer, not an error
            out = getattr(ops, name)(x)
    except (TypeError, ValueError) as e:
        assert str(e)
        assert x.dtype.kind not in "biuf", f"real input of dtype {x.dtype} refused: {e}"
        return
    assert x.dtype.kind in "biuf", f"dtype {x.dtype} accepted"
    if x.dtype.kind == "f" and x.dtype.itemsize >= 4:
        got = np.asarray(out)
        with np.errstate(all="ignore"):  # the float64 result, rounded to the output dtype
            expected = UNARY[name](x.astype(np.float64)).astype(got.dtype)
        np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-30, equal_nan=True)


@SETTINGS
@given(st.sampled_from(sorted(REDUCE)), st.lists(st.integers(1, 4), min_size=1, max_size=3),
       st.data())
def test_reductions_match_numpy(name, shape, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    x = float_array(tuple(shape), rng)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape) - 1, len(shape))))
    keepdims = data.draw(st.booleans())
    try:
        expected = REDUCE[name](x.astype(np.float64), axis=axis, keepdims=keepdims)
    except (ValueError, np.exceptions.AxisError):
        expected = None
    try:
        out = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    except (ValueError, TypeError):
        assert expected is None, f"valid axis={axis} refused for shape {shape}"
        return
    assert expected is not None, f"invalid axis={axis} accepted for shape {shape}"
    # float32 summation error is bounded by n * eps * sum(|x|), not by the result:
    # with cancellation a relative tolerance alone is wrong.
    bound = x.size * np.finfo(np.float32).eps * float(np.abs(x).sum())
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5, atol=bound)
