"""Shape ops: reshape, transpose, concatenate, stack, indexing, expand_dims, squeeze,
broadcast_to.

They move values without arithmetic; the backward of each moves the gradient
back to where the values came from.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from ..tape import record, recording
from ..tensor import Tensor
from ._convert import as_float, float_dtype, raw, unary, unbroadcast


def reshape(x, newshape):
    """`x` with shape `newshape` (one entry may be -1)."""
    v, _ = unary(x)
    shape = (newshape,) if isinstance(newshape, (int, np.integer)) else tuple(newshape)
    try:
        out = v.reshape(shape)
    except ValueError:
        raise ValueError(f"reshape: cannot reshape an input of shape {v.shape} ({v.size} "
                         f"elements) to {shape}") from None
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (np.reshape(g, v.shape),))


def transpose(x, axes=None):
    """`x` with its axes permuted (reversed when `axes` is None)."""
    v, _ = unary(x)
    try:
        out = np.transpose(v, axes)
    except ValueError:
        raise ValueError(f"transpose: axes {axes} do not permute the {v.ndim} axes of an "
                         f"input of shape {v.shape}") from None
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    inverse = None if axes is None else tuple(np.argsort([a % v.ndim for a in axes]))
    return record(out, (x,), rec, lambda g: (np.transpose(g, inverse),))


def expand_dims(x, axis):
    """`x` with a new axis of size 1 at `axis`."""
    v, _ = unary(x)
    out = np.expand_dims(v, axis)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (np.reshape(g, v.shape),))


def squeeze(x, axis=None):
    """`x` without its axes of size 1 (or only `axis`)."""
    v, _ = unary(x)
    try:
        out = np.squeeze(v, axis)
    except ValueError:
        raise ValueError(f"squeeze: axis {axis} of an input of shape {v.shape} does not have "
                         "size 1") from None
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    return record(out, (x,), rec, lambda g: (np.reshape(g, v.shape),))


def _sequence(xs, name):
    if not isinstance(xs, (list, tuple)) or not xs:
        raise TypeError(f"{name}: expected a non-empty list of arrays, received {xs!r}")
    inputs = tuple(xs)
    values = [raw(x) for x in inputs]
    dtype = float_dtype(*values)
    return inputs, [np.asarray(as_float(v, dtype)) for v in values]


def concatenate(xs, axis: int = 0):
    """The arrays of `xs` joined along an existing `axis`."""
    inputs, values = _sequence(xs, "concatenate")
    try:
        out = np.concatenate(values, axis=axis)
    except (ValueError, IndexError):
        shapes = ", ".join(str(v.shape) for v in values)
        raise ValueError(f"concatenate: cannot join shapes {shapes} along axis {axis}") from None
    rec = recording(inputs)
    if rec is None:
        return Tensor(out)
    bounds = np.cumsum([v.shape[axis] for v in values])[:-1]
    return record(out, inputs, rec, lambda g: tuple(np.split(g, bounds, axis=axis)))


def stack(xs, axis: int = 0):
    """The arrays of `xs` (one shape) joined along a new `axis`."""
    inputs, values = _sequence(xs, "stack")
    try:
        out = np.stack(values, axis=axis)
    except ValueError:
        shapes = ", ".join(str(v.shape) for v in values)
        raise ValueError(f"stack: expected arrays of one shape, received {shapes}") from None
    rec = recording(inputs)
    if rec is None:
        return Tensor(out)
    return record(out, inputs, rec,
                  lambda g: tuple(np.take(g, i, axis=axis) for i in range(len(values))))


def _plain_index(index):
    if isinstance(index, tuple):
        return tuple(_plain_index(i) for i in index)
    if isinstance(index, (Tensor,)) or hasattr(index, "_array"):
        return np.asarray(index)
    return index


def _is_advanced(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, (list, np.ndarray)) for i in items)


def getitem(x, index):
    """`x[index]` (NumPy indexing); repeated indices accumulate their gradients."""
    v, _ = unary(x)
    index = _plain_index(index)
    out = v[index]
    out = out if out.__class__ is np.ndarray else np.asarray(out, dtype=v.dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    advanced = _is_advanced(index)

    def backward(g):
        full = np.zeros(v.shape, dtype=g.dtype)
        if advanced:
            np.add.at(full, index, g)
        else:
            full[index] = g
        return (full,)

    return record(out, (x,), rec, backward)


def broadcast_to(x: Any, shape: Union[int, Sequence[int]]) -> Tensor:
    """`x` broadcast to `shape` (NumPy's rules); the gradient sums over the broadcast axes.

    Args:
        x: array, Tensor or Variable.
        shape: the target shape (a tuple of ints, or an int).
    """
    v, _ = unary(x)
    target = (shape,) if isinstance(shape, (int, np.integer)) else shape
    try:
        target = tuple(int(n) for n in target)
    except TypeError:
        raise TypeError(f"broadcast_to: shape must be a tuple of ints, received shape={shape!r}"
                        ) from None
    try:
        out = np.broadcast_to(v, target)
    except ValueError:
        raise ValueError(f"broadcast_to: an input of shape {v.shape} cannot be broadcast to "
                         f"shape={target}") from None
    out = np.array(out)  # a writable array of its own, as every op returns
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    source = v.shape
    return record(out, (x,), rec, lambda g: (unbroadcast(g, source),))
