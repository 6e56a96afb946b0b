"""Making Tensors: `convert_to_tensor`, `array`, `zeros`, `ones`, and reading `shape`.

Dtypes follow Keras 3: a NumPy array keeps its dtype; Python floats (and lists
holding one) become `floatx()` (float32 unless `pydl.backend.set_floatx`
changed it), Python ints int32, bools bool. None of these is differentiable
except `convert_to_tensor` of a float Tensor or Variable, which passes the
gradient through.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Tuple, Union

import numpy as np

from .._config import floatx
from ..tensor import ArrayOperators, Tensor

ShapeLike = Union[int, Sequence[int]]
_INT32 = np.iinfo(np.int32)


def _dtype_arg(dtype, name: str) -> Optional[np.dtype]:
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name}: dtype must be a NumPy dtype name such as 'float32' or "
                        f"'int32', received dtype={dtype!r}") from None


def _infer(values: list) -> np.dtype:
    """Keras' dtype for Python data: bool, else int32 (int64 past its range), else floatx."""
    if all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.dtype(bool)
    if all(isinstance(v, (int, np.integer)) for v in values):
        big = any(not _INT32.min <= int(v) <= _INT32.max for v in values)
        return np.dtype(np.int64 if big else np.int32)
    return np.dtype(floatx())


def _leaves(x, out: list) -> list:
    if isinstance(x, (list, tuple)):
        for item in x:
            _leaves(item, out)
    else:
        out.append(x)
    return out


def _check_real(value: np.ndarray, name: str) -> np.ndarray:
    if value.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected numbers or booleans, received data of dtype "
                        f"{value.dtype}")
    return value


def convert_to_tensor(x: Any, dtype=None, sparse: Optional[bool] = None) -> Tensor:
    """`x` as a Tensor (Keras 3's dtype rules, module docstring).

    A Tensor of the requested dtype is returned as is; a float Variable or
    Tensor converted to a float dtype stays differentiable (a recorded cast).

    Args:
        x: a Tensor, Variable, NumPy array, number, or nested lists of numbers.
        dtype: the dtype of the result (default: inferred).
        sparse: pydl has no sparse tensors; True raises ValueError.
    """
    if sparse:
        raise ValueError("convert_to_tensor: pydl has no sparse tensors, received sparse=True")
    target = _dtype_arg(dtype, "convert_to_tensor")
    if isinstance(x, ArrayOperators):
        value = x._array()
        if target is None or target == value.dtype:
            if isinstance(x, Tensor):
                return x
            target = value.dtype
        if target.kind == "f" and value.dtype.kind == "f":
            from .math import cast  # recorded: gradients flow back to x

            return cast(x, target)
        return Tensor(value.astype(target))
    if x is None:
        raise TypeError("convert_to_tensor: expected an array, a number or a list of them, "
                        "received None")
    if isinstance(x, (np.ndarray, np.generic)):
        value = _check_real(np.asarray(x), "convert_to_tensor")
        return Tensor(np.array(value, dtype=target, copy=True))
    if target is None:
        leaves = _leaves(x, [])
        arrays = [np.asarray(v).dtype for v in leaves if isinstance(v, (ArrayOperators,
                                                                         np.ndarray))]
        scalars = [v for v in leaves if not isinstance(v, (ArrayOperators, np.ndarray))]
        kinds = arrays + ([_infer(scalars)] if scalars else [])
        target = np.result_type(*kinds) if kinds else np.dtype(floatx())
    try:
        value = np.array(x, dtype=target)
    except (TypeError, ValueError) as e:
        raise TypeError(f"convert_to_tensor: cannot convert a {type(x).__name__} to an array "
                        f"of dtype {target} ({e})") from None
    return Tensor(_check_real(value, "convert_to_tensor"))


def array(x: Any, dtype=None) -> Tensor:
    """A Tensor holding `x` (the same as `convert_to_tensor(x, dtype)`)."""
    return convert_to_tensor(x, dtype=dtype)


def convert_to_numpy(x: Any) -> np.ndarray:
    """`x` as a NumPy array (the Tensor's value, or np.asarray)."""
    return np.asarray(x)


def _shape_arg(shape, name: str) -> Tuple[int, ...]:
    items = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{name}: shape must be an int or a tuple of ints, received "
                        f"shape={shape!r}") from None
    for n in items:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"{name}: shape must hold ints >= 0, received shape={shape!r}")
    return tuple(int(n) for n in items)


def zeros(shape: ShapeLike, dtype=None) -> Tensor:
    """A Tensor of `shape` filled with 0 (dtype: floatx() unless given)."""
    return Tensor(np.zeros(_shape_arg(shape, "zeros"), dtype=_dtype_arg(dtype, "zeros")
                           or floatx()))


def ones(shape: ShapeLike, dtype=None) -> Tensor:
    """A Tensor of `shape` filled with 1 (dtype: floatx() unless given)."""
    return Tensor(np.ones(_shape_arg(shape, "ones"), dtype=_dtype_arg(dtype, "ones")
                          or floatx()))


def shape(x: Any) -> Tuple[int, ...]:
    """The shape of `x` as a tuple of ints (`()` for a number)."""
    if isinstance(x, ArrayOperators):
        return tuple(x._array().shape)
    if x is None:
        raise TypeError("shape: expected an array, Tensor, Variable or number, received None")
    return tuple(np.shape(x))
