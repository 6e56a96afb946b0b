"""Elementwise ops: arithmetic with NumPy broadcasting, exp/log (C++ core), and friends.

Each op computes its forward value, then -- only when a tape watches one of its
inputs -- records a backward closure that returns the input gradients, summed
back over broadcast axes (`unbroadcast`).
"""

from __future__ import annotations

from typing import Any, Tuple, Union

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import (as_float, binary, broadcast_error, contiguous, float_dtype, raw,
                       shape_of, unary, unbroadcast)


def _result(out, dtype) -> np.ndarray:
    # NumPy returns scalars for 0-d operands; ops always hold arrays.
    return out if out.__class__ is np.ndarray else np.asarray(out, dtype=dtype)


def _binary_forward(ufunc, name, a, b):
    x, y, dtype = binary(a, b)
    try:
        out = ufunc(x, y)
    except ValueError:
        raise broadcast_error(name, x, y) from None
    return x, y, _result(out, dtype)


def add(a, b):
    """`a + b` with broadcasting."""
    x, y, out = _binary_forward(np.add, "add", a, b)
    rec = recording((a, b))
    if rec is None:
        return Tensor(out)
    sx, sy = shape_of(x), shape_of(y)
    return record(out, (a, b), rec, lambda g: (unbroadcast(g, sx), unbroadcast(g, sy)))


def subtract(a, b):
    """`a - b` with broadcasting."""
    x, y, out = _binary_forward(np.subtract, "subtract", a, b)
    rec = recording((a, b))
    if rec is None:
        return Tensor(out)
    sx, sy = shape_of(x), shape_of(y)
    return record(out, (a, b), rec, lambda g: (unbroadcast(g, sx), unbroadcast(-g, sy)))


def multiply(a, b):
    """`a * b` with broadcasting."""
    x, y, out = _binary_forward(np.multiply, "multiply", a, b)
    rec = recording((a, b))
    if rec is None:
        return Tensor(out)
    need_a, need_b = rec[0]

    def backward(g):
        return (unbroadcast(g * y, shape_of(x)) if need_a else None,
                unbroadcast(g * x, shape_of(y)) if need_b else None)

    return record(out, (a, b), rec, backward)


def divide(a, b):
    """`a / b` with broadcasting."""
    x, y, out = _binary_forward(np.divide, "divide", a, b)
    rec = recording((a, b))
    if rec is None:
        return Tensor(out)
    need_a, need_b = rec[0]

    def backward(g):
        ga = g / y
        return (unbroadcast(ga, shape_of(x)) if need_a else None,
                unbroadcast(-ga * out, shape_of(y)) if need_b else None)

    return record(out, (a, b), rec, backward)


def pow(a, b):  # noqa: A001 (the Keras name)
    """`a ** b` with broadcasting; d/db uses log(a), taken as 0 where a <= 0."""
    x, y, out = _binary_forward(np.power, "pow", a, b)
    rec = recording((a, b))
    if rec is None:
        return Tensor(out)
    need_a, need_b = rec[0]

    def backward(g):
        ga = gb = None
        if need_a:
            ga = unbroadcast(g * y * np.power(x, y - 1), shape_of(x))
        if need_b:
            xa = np.asarray(x)
            positive = xa > 0
            log_x = np.log(np.where(positive, xa, 1)) * positive
            gb = unbroadcast(g * out * log_x, shape_of(y))
        return ga, gb

    return record(out, (a, b), rec, backward)


def maximum(a, b):
    """Elementwise max; on ties the gradient goes to `a`."""
    return _select(np.greater_equal, "maximum", a, b)


def minimum(a, b):
    """Elementwise min; on ties the gradient goes to `a`."""
    return _select(np.less_equal, "minimum", a, b)


def _select(compare, name, a, b):
    x, y, dtype = binary(a, b)
    try:
        take_a = compare(x, y)
    except ValueError:
        raise broadcast_error(name, x, y) from None
    out = _result(np.where(take_a, x, y), dtype)
    rec = recording((a, b))
    if rec is None:
        return Tensor(out)
    return record(out, (a, b), rec, lambda g: (unbroadcast(np.where(take_a, g, 0), shape_of(x)),
                                              unbroadcast(np.where(take_a, 0, g), shape_of(y))))


def negative(x):
    """`-x`."""
    v, dtype = unary(x)
    out = _result(np.negative(v), dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (-g,))


def exp(x):
    """`e ** x` (C++ core, vectorized)."""
    v, _ = unary(x)
    v = contiguous(v)
    out = np.empty_like(v)
    _core.vexp(v, out)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (g * out,))


def log(x):
    """Natural logarithm (C++ core, vectorized)."""
    v, _ = unary(x)
    v = contiguous(v)
    out = np.empty_like(v)
    _core.vlog(v, out)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (g / v,))


def sqrt(x):
    """Square root."""
    v, dtype = unary(x)
    out = _result(np.sqrt(v), dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (g * 0.5 / out,))


def square(x):
    """`x * x`."""
    v, dtype = unary(x)
    out = _result(np.square(v), dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (g * 2 * v,))


def abs(x):  # noqa: A001 (the Keras name)
    """`|x|`; the gradient at 0 is 0."""
    v, dtype = unary(x)
    out = _result(np.abs(v), dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (g * np.sign(v),))


def clip(x, x_min, x_max):
    """`x` limited to [x_min, x_max]; the gradient passes where x is inside (ends included)."""
    v, dtype = unary(x)
    lo, hi = _bound(x_min, dtype), _bound(x_max, dtype)
    try:
        out = _result(np.clip(v, lo, hi), dtype)
    except ValueError:
        raise ValueError(f"clip: x_min/x_max of shapes {np.shape(lo)}/{np.shape(hi)} cannot "
                         f"be broadcast to x's shape {v.shape}") from None
    if out.shape != v.shape:
        raise ValueError(f"clip: x_min/x_max of shapes {np.shape(lo)}/{np.shape(hi)} would "
                         f"change x's shape {v.shape}")
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    inside = (v >= lo) & (v <= hi)
    return record(out, (x,), rec, lambda g: (g * inside,))


def _bound(b, dtype):
    b = raw(b)
    return b if b.__class__ in (float, int) else as_float(b, dtype)


def where(condition: Any, x1: Any = None,
          x2: Any = None) -> Union[Tensor, Tuple[Tensor, ...]]:
    """`x1` where `condition` is true, else `x2` (broadcast); not differentiable in `condition`.

    With only `condition`, the indices of its true elements: a tuple of int32
    Tensors, one per axis (NumPy's `nonzero`). `x1` and `x2` are given together
    or not at all.
    """
    if (x1 is None) != (x2 is None):
        raise ValueError("where: x1 and x2 must both be given or both be None, received "
                         f"x1={'None' if x1 is None else 'a value'}, "
                         f"x2={'None' if x2 is None else 'a value'}")
    cond = np.asarray(raw(condition), dtype=bool)
    if x1 is None:
        return tuple(Tensor(i.astype(np.int32)) for i in np.nonzero(cond))
    x, y, dtype = binary(x1, x2)
    try:
        out = _result(np.where(cond, x, y), dtype)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape}, {shape_of(x)} and {shape_of(y)} "
                         "cannot be broadcast together") from None
    rec = recording((x1, x2))
    if rec is None:
        return Tensor(out)
    return record(out, (x1, x2), rec,
                  lambda g: (unbroadcast(np.where(cond, g, 0), shape_of(x)),
                             unbroadcast(np.where(cond, 0, g), shape_of(y))))


def cast(x, dtype):
    """`x` converted to a float `dtype` ("float32" or "float64"); the gradient is cast back."""
    target = np.dtype(dtype)
    if target.kind != "f":
        raise ValueError(f"cast: dtype must be a float dtype, received {dtype!r}")
    v = raw(x)
    v = np.asarray(v)
    source = v.dtype if v.dtype.kind == "f" else float_dtype()
    out = v.astype(target)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (g.astype(source),))
