"""Conversions at the boundary of every op, and the gradient of broadcasting.

Ops accept NumPy arrays, Python scalars, Variables and Tensors. Values become
float arrays here, once: the result dtype follows the floating inputs --
float64 if an array input is float64, else float32 (the default); integer and
bool inputs are converted; Python and NumPy scalars do not change the dtype.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from ..variable import Variable

F32 = np.dtype(np.float32)
F64 = np.dtype(np.float64)


def raw(x):
    """The NumPy value (or Python scalar) behind `x`."""
    cls = x.__class__
    if cls is Tensor:
        return x._value
    if cls is np.ndarray:
        return x
    if cls is Variable or isinstance(x, Variable):
        return x.value
    if isinstance(x, Tensor):
        return x._value
    if cls in (float, int, bool):
        return x
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        return x.item()  # NumPy scalars are weak, like Python numbers
    if x is None:
        raise TypeError("expected an array, Tensor, Variable or number, received None")
    v = np.asarray(x)
    # Python lists of floats become float32 (the default), as Keras converts them.
    return v.astype(F32) if v.dtype == F64 and not isinstance(x, np.ndarray) else v


def float_dtype(*values) -> np.dtype:
    """float64 if one of the arrays in `values` is float64, else float32."""
    for v in values:
        if v.__class__ is np.ndarray:
            d = v.dtype
            if d is not F32 and (d is F64 or d == F64):  # `is`: builtin dtypes are singletons
                return F64
    return F32


def as_float(v, dtype: np.dtype) -> np.ndarray:
    """`v` (raw value) as an array of `dtype` (no copy when it already is one)."""
    if v.__class__ is np.ndarray and (v.dtype is dtype or v.dtype == dtype):
        return v
    array = np.asarray(v)
    if array.dtype.kind not in "biuf":
        # Casting complex, object or string data to float would be a silent wrong answer.
        raise TypeError(f"expected real numbers (bool, int or float), received dtype {array.dtype}")
    return array.astype(dtype, copy=False)


def unary(x):
    """(array, dtype) of a single float operand."""
    cls = x.__class__
    v = x._value if cls is Tensor else x.value if cls is Variable else x
    if v.__class__ is np.ndarray:
        d = v.dtype
        if d is F32 or d is F64:  # the fast path: already a float array
            return v, d
    v = raw(x)
    dtype = float_dtype(v)
    return as_float(v, dtype), dtype


def binary(a, b):
    """(array_a, array_b, dtype) of two operands; Python scalars stay weak."""
    cls = a.__class__
    va = a._value if cls is Tensor else a.value if cls is Variable else a
    cls = b.__class__
    vb = b._value if cls is Tensor else b.value if cls is Variable else b
    if va.__class__ is np.ndarray and vb.__class__ is np.ndarray:
        d = va.dtype
        if d is vb.dtype and (d is F32 or d is F64):  # the fast path: same float dtype
            return va, vb, d
    va, vb = raw(a), raw(b)
    dtype = float_dtype(va, vb)
    return _operand(va, dtype), _operand(vb, dtype), dtype


def _operand(v, dtype):
    if v.__class__ in (float, int):
        return float(v)
    return as_float(v, dtype)


def contiguous(a: np.ndarray) -> np.ndarray:
    """`a` as a C-contiguous array (what `_core` accepts)."""
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)


def shape_of(v) -> tuple:
    return v.shape if v.__class__ is np.ndarray else ()


def unbroadcast(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sums `g` over the axes that broadcasting added or stretched, to `shape`."""
    if g.shape == shape:
        return g
    extra = g.ndim - len(shape)
    if extra:
        g = g.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g.reshape(shape)


def broadcast_error(name: str, a, b) -> ValueError:
    return ValueError(f"{name}: shapes {shape_of(a)} and {shape_of(b)} cannot be broadcast "
                      "together")
