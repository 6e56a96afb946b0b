"""Ops with integer or boolean results: `argmax`, `argmin`, `equal`, `one_hot`.

None is differentiable (their results are indices, flags or constants), so a
GradientTape records nothing; their results are plain Tensors. Indices are
int32, as in Keras 3.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from .._config import floatx
from ..tensor import Tensor
from ._convert import raw, shape_of


def _values(x, name: str) -> np.ndarray:
    v = np.asarray(raw(x))
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{name}: x must hold numbers, received dtype {v.dtype}")
    return v


def _axis(axis, ndim: int, name: str) -> Optional[int]:
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int or None, received axis={axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for an input of rank {ndim}")
    return int(axis)


def _arg_extremum(pick, name: str, x, axis, keepdims: bool) -> Tensor:
    v = _values(x, name)
    axis = _axis(axis, v.ndim, name)
    if v.size == 0 or (axis is not None and v.ndim and v.shape[axis] == 0):
        raise ValueError(f"{name}: x is empty along the reduced axis, shape {v.shape}")
    if v.dtype.kind == "f" and v.ndim:
        # -0.0 ranks below +0.0, as in Keras 3 (NumPy sees them equal).
        tiny = np.finfo(v.dtype).tiny
        v = np.where((v == 0) & np.signbit(v), -tiny, v)
    return Tensor(np.asarray(pick(v, axis=axis, keepdims=bool(keepdims)), dtype=np.int32))


def argmax(x: Any, axis: Optional[int] = None, keepdims: bool = False) -> Tensor:
    """Index of the largest value along `axis` (over the flattened `x` when None), int32.

    Ties give the first index; NaN counts as the largest value.
    """
    return _arg_extremum(np.argmax, "argmax", x, axis, keepdims)


def argmin(x: Any, axis: Optional[int] = None, keepdims: bool = False) -> Tensor:
    """Index of the smallest value along `axis` (over the flattened `x` when None), int32.

    Ties give the first index; NaN counts as the smallest value.
    """
    return _arg_extremum(np.argmin, "argmin", x, axis, keepdims)


def equal(x1: Any, x2: Any) -> Tensor:
    """`x1 == x2` elementwise with broadcasting, a bool Tensor."""
    a, b = raw(x1), raw(x2)
    try:
        return Tensor(np.asarray(np.equal(a, b)))
    except ValueError:
        raise ValueError(f"equal: shapes {shape_of(np.asarray(a))} and "
                         f"{shape_of(np.asarray(b))} cannot be broadcast together") from None


def one_hot(x: Any, num_classes: int, axis: int = -1, dtype=None, sparse: bool = False) -> Tensor:
    """One-hot encoding of the integer array `x`: a new axis of length `num_classes`.

        out[..., c, ...] = 1 where x == c, else 0

    An index outside [0, num_classes) gives a vector of zeros (as Keras 3 on
    TensorFlow and JAX).

    Args:
        x: integer class indices of any shape (whole-number floats are accepted).
        num_classes: the length of the new axis, an int >= 1.
        axis: where the new axis goes in the result (-1: last).
        dtype: dtype of the result, default floatx().
        sparse: pydl has no sparse tensors; True raises ValueError.
    """
    if sparse:
        raise ValueError("one_hot: pydl has no sparse tensors, received sparse=True")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) \
            or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be an int >= 1, received "
                         f"num_classes={num_classes!r}")
    v = _values(x, "one_hot")
    if v.dtype.kind == "f":
        if not np.all(np.isfinite(v)) or np.any(v != np.round(v)):
            raise TypeError("one_hot: x must hold integer class indices, received "
                            "non-integer floats")
    v = v.astype(np.int64)
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -(v.ndim + 1) <= axis <= v.ndim:
        raise ValueError(f"one_hot: axis must be an int in [{-(v.ndim + 1)}, {v.ndim}] for x "
                         f"of rank {v.ndim}, received axis={axis!r}")
    try:
        out_dtype = np.dtype(dtype or floatx())
    except TypeError:
        raise TypeError(f"one_hot: dtype must be a NumPy dtype name, received dtype={dtype!r}"
                        ) from None
    out = (v[..., None] == np.arange(int(num_classes))).astype(out_dtype)
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return Tensor(np.ascontiguousarray(out))
