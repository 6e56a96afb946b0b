"""Reductions: sum, mean, max, min over `axis` (None: all), with `keepdims`."""

from __future__ import annotations

import builtins

import numpy as np

from ..tape import record, recording
from ..tensor import Tensor
from ._convert import unary


def _axes(axis, ndim: int, name: str):
    """`axis` normalized to a sorted tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"{name}: axis must be an int, a tuple of ints or None, "
                            f"received {axis!r}")
        if not -ndim <= a < builtins.max(ndim, 1):
            raise ValueError(f"{name}: axis {a} is out of range for an input of rank {ndim}")
        out.append(int(a) % builtins.max(ndim, 1))
    return tuple(sorted(set(out)))


def _expand(g: np.ndarray, axes: tuple, keepdims: bool) -> np.ndarray:
    # Puts the reduced axes back (size 1) so that g broadcasts against the input.
    return g if keepdims else np.expand_dims(g, axes)


def sum(x, axis=None, keepdims: bool = False):  # noqa: A001 (the Keras name)
    """Sum of the elements over `axis`."""
    v, dtype = unary(x)
    axes = _axes(axis, v.ndim, "sum")
    out = np.asarray(v.sum(axis=axes, keepdims=keepdims), dtype=dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    shape = v.shape
    return record(out, (x,), rec,
                  lambda g: (np.broadcast_to(_expand(g, axes, keepdims), shape),))


def mean(x, axis=None, keepdims: bool = False):
    """Mean of the elements over `axis`."""
    v, dtype = unary(x)
    axes = _axes(axis, v.ndim, "mean")
    out = np.asarray(v.mean(axis=axes, keepdims=keepdims), dtype=dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)
    shape = v.shape
    count = int(np.prod([shape[a] for a in axes])) if axes else 1

    def backward(g):
        return (np.broadcast_to(_expand(g, axes, keepdims) / builtins.max(count, 1), shape),)

    return record(out, (x,), rec, backward)


def max(x, axis=None, keepdims: bool = False):  # noqa: A001 (the Keras name)
    """Largest element over `axis`; ties share the gradient equally (as TensorFlow)."""
    return _extremum(np.max, "max", x, axis, keepdims)


def min(x, axis=None, keepdims: bool = False):  # noqa: A001 (the Keras name)
    """Smallest element over `axis`; ties share the gradient equally (as TensorFlow)."""
    return _extremum(np.min, "min", x, axis, keepdims)


def _extremum(reduce, name, x, axis, keepdims):
    v, dtype = unary(x)
    axes = _axes(axis, v.ndim, name)
    if v.size == 0:
        raise ValueError(f"{name}: received an empty array of shape {v.shape}")
    kept = reduce(v, axis=axes, keepdims=True)
    out = np.asarray(kept if keepdims else np.squeeze(kept, axis=axes), dtype=dtype)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)

    def backward(g):
        hits = (v == kept).astype(dtype)
        share = hits / hits.sum(axis=axes, keepdims=True)
        return (share * _expand(g, axes, keepdims),)

    return record(out, (x,), rec, backward)
