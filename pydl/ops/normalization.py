"""Batch and layer normalization as single recorded ops on the C++ kernels.

    batch_normalization(x, mean, variance, axis)      # given statistics (Keras' op)
    batch_norm_training(x, gamma, beta, axis, eps)    # batch statistics (the layer's step)
    layer_normalization(x, gamma, beta, axis, eps)    # Keras' op, rms_scaling included

Forward is one `_core.batchnorm_forward` / `_core.layernorm_forward`; backward one
`_core.batchnorm_backward` / `_core.layernorm_backward`, from the statistics the
forward kept (mean and 1/std per channel or row). Sums run in double in a fixed
order: bitwise identical results at any thread count.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import as_float, contiguous, float_dtype, raw

_EPSILON = 1e-7  # Keras' backend.epsilon(): layer_normalization's default


def _channel_axis(axis, ndim: int, name: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, received axis={axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis={axis} is out of range for an input of rank {ndim}")
    return int(axis) % ndim


def _vector(v, dtype, n: int, name: str, what: str):
    if v is None:
        return None
    a = contiguous(np.asarray(as_float(raw(v), dtype)))
    if a.shape != (n,):
        a = a.reshape(-1) if a.size == n else a
    if a.shape != (n,):
        raise ValueError(f"{name}: {what} must have shape ({n},), received {np.shape(raw(v))}")
    return a


def _present(*values) -> tuple:
    return tuple(v for v in values if v is not None)


def _gradient(g, dtype) -> np.ndarray:
    return contiguous(np.asarray(as_float(g, dtype)))


def _operands(x, gamma, beta, name):
    xv = raw(x)
    dtype = float_dtype(xv, *(raw(v) for v in _present(gamma, beta)))
    xv = contiguous(np.asarray(as_float(xv, dtype)))
    if xv.ndim == 0:
        raise ValueError(f"{name}: x must have at least 1 dimension, received a scalar")
    return xv, dtype


def batch_norm_training(x, gamma, beta, axis: int = -1, epsilon: float = 1e-3):
    """Batch normalization with the batch's statistics, as one recorded op.

    ```python
    mean = x.mean(axes), variance = x.var(axes)     # every axis but `axis` (biased)
    y = (x - mean) / sqrt(variance + epsilon) * gamma + beta
    ```
    The gradient flows through the batch mean and variance.

    Args:
        gamma, beta: (C,) scale and offset, or None (1 / 0).
        axis: the channel axis (C = x.shape[axis]).

    Returns:
        (y: Tensor, mean: np.ndarray, variance: np.ndarray), the statistics in x's
        dtype (what the moving averages take).
    """
    xv, dtype = _operands(x, gamma, beta, "batch_norm_training")
    ax = _channel_axis(axis, xv.ndim, "batch_norm_training")
    c = xv.shape[ax]
    gv = _vector(gamma, dtype, c, "batch_norm_training", "gamma")
    bv = _vector(beta, dtype, c, "batch_norm_training", "beta")
    y = np.empty_like(xv)
    mean, variance, inv_std = (np.empty(c, dtype) for _ in range(3))
    _core.batchnorm_forward(xv, gv, bv, mean, variance, inv_std, y, axis=ax,
                            epsilon=float(epsilon), training=True)
    inputs = (x,) + _present(gamma, beta)
    rec = recording(inputs)
    if rec is None:
        return Tensor(y), mean, variance
    return record(y, inputs, rec, _batchnorm_backward(rec, xv, gv, mean, inv_std, ax, True,
                                                      gamma is not None, beta is not None,
                                                      dtype)), mean, variance


def _batchnorm_backward(rec, xv, gv, mean, inv_std, ax, training, has_gamma, has_beta, dtype):
    needs = list(rec[0])
    need_x = needs.pop(0)
    need_g = needs.pop(0) if has_gamma else False
    need_b = needs.pop(0) if has_beta else False

    def backward(g):
        dy = _gradient(g, dtype)
        dx = np.empty_like(xv) if need_x else None
        dgamma = np.empty_like(mean) if need_g else None
        dbeta = np.empty_like(mean) if need_b else None
        _core.batchnorm_backward(xv, gv, mean, inv_std, dy, dx, dgamma, dbeta, axis=ax,
                                 training=training)
        return (dx,) + ((dgamma,) if has_gamma else ()) + ((dbeta,) if has_beta else ())

    return backward


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalizes `x` with given statistics (Keras' `ops.batch_normalization`).

    ```python
    y = (x - mean) / sqrt(variance + epsilon) * scale + offset   # broadcast along `axis`
    ```
    Differentiable in x, scale and offset; mean and variance are treated as
    constants (statistics, as the BatchNormalization layer in inference uses them).

    Args:
        mean, variance: (C,) with C = x.shape[axis].
        axis: the channel axis.
        offset, scale: (C,) or None.
    """
    xv, dtype = _operands(x, scale, offset, "batch_normalization")
    ax = _channel_axis(axis, xv.ndim, "batch_normalization")
    c = xv.shape[ax]
    mv = _vector(mean, dtype, c, "batch_normalization", "mean")
    vv = _vector(variance, dtype, c, "batch_normalization", "variance")
    gv = _vector(scale, dtype, c, "batch_normalization", "scale")
    bv = _vector(offset, dtype, c, "batch_normalization", "offset")
    y = np.empty_like(xv)
    inv_std = np.empty(c, dtype)
    _core.batchnorm_forward(xv, gv, bv, mv, vv, inv_std, y, axis=ax, epsilon=float(epsilon),
                            training=False)
    inputs = (x,) + _present(scale, offset)
    rec = recording(inputs)
    if rec is None:
        return Tensor(y)
    return record(y, inputs, rec, _batchnorm_backward(rec, xv, gv, mv, inv_std, ax, False,
                                                      scale is not None, offset is not None,
                                                      dtype))


def _normalized_axes(axis, ndim: int) -> tuple:
    items = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not items:
        raise ValueError("layer_normalization: axis must name at least one axis, received []")
    out = []
    for a in items:
        out.append(_channel_axis(a, ndim, "layer_normalization"))
    if len(set(out)) != len(out):
        raise ValueError(f"layer_normalization: axis has repeated entries: {axis!r}")
    return tuple(sorted(out))


def _as_rows(v: np.ndarray, axes: tuple):
    """(x2, to_rows, restore): `v` as a (rows, cols) matrix whose rows are normalized
    over `axes` (moved last when they are not), `to_rows` doing the same to an array
    of v's shape, `restore` the inverse."""
    kept = tuple(i for i in range(v.ndim) if i not in axes)
    order = kept + axes
    moved = axes != tuple(range(v.ndim - len(axes), v.ndim))
    cols = int(np.prod([v.shape[a] for a in axes]))

    def to_rows(a):
        am = contiguous(np.transpose(a, order)) if moved else a
        return am.reshape(am.size // cols if cols else 0, cols)

    x2 = to_rows(v)
    moved_shape = tuple(v.shape[i] for i in order)
    inverse = tuple(np.argsort(order))

    def restore(a2):
        a = a2.reshape(moved_shape)
        return np.transpose(a, inverse) if moved else a

    return x2, to_rows, restore


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling=False):
    """Normalizes each sample over `axis` (Keras' `ops.layer_normalization`).

    ```python
    mean, var = x.mean(axis), x.var(axis)      # per sample, over the axes in `axis`
    y = (x - mean) / sqrt(var + epsilon) * gamma + beta
    rms_scaling=True (Keras 3): y = x / sqrt(var + epsilon) * gamma    (no centering, no beta)
    ```

    Args:
        gamma, beta: the shape of x over `axis` (in sorted axis order), or None.
        axis: an int or a list/tuple of ints.
        epsilon: added to the variance; Keras' 1e-7 when None.
        rms_scaling: Keras 3's rms_scaling (see the formula).
    """
    if rms_scaling:
        beta = None
    xv, dtype = _operands(x, gamma, beta, "layer_normalization")
    axes = _normalized_axes(axis, xv.ndim)
    x2, to_rows, restore = _as_rows(xv, axes)
    rows, cols = x2.shape
    gv = _vector(gamma, dtype, cols, "layer_normalization", "gamma")
    bv = _vector(beta, dtype, cols, "layer_normalization", "beta")
    y2 = np.empty_like(x2)
    mean, rstd = np.empty(rows, dtype), np.empty(rows, dtype)
    eps = _EPSILON if epsilon is None else float(epsilon)
    _core.layernorm_forward(x2, gv, bv, y2, mean, rstd, epsilon=eps,
                            rms_scaling=bool(rms_scaling))
    y = restore(y2)
    inputs = (x,) + _present(gamma, beta)
    rec = recording(inputs)
    if rec is None:
        return Tensor(y)
    needs = list(rec[0])
    need_x = needs.pop(0)
    need_g = needs.pop(0) if gamma is not None else False
    need_b = needs.pop(0) if beta is not None else False
    gamma_shape, beta_shape = np.shape(raw(gamma)) if gamma is not None else None, \
        np.shape(raw(beta)) if beta is not None else None

    def backward(g):
        dy2 = to_rows(_gradient(g, dtype))
        dx2 = np.empty_like(x2) if need_x else None
        dgamma = np.empty(cols, dtype) if need_g else None
        dbeta = np.empty(cols, dtype) if need_b else None
        _core.layernorm_backward(x2, gv, mean, rstd, dy2, dx2, dgamma, dbeta,
                                 rms_scaling=bool(rms_scaling))
        out = (restore(dx2) if dx2 is not None else None,)
        if gamma is not None:
            out += (None if dgamma is None else dgamma.reshape(gamma_shape),)
        if beta is not None:
            out += (None if dbeta is None else dbeta.reshape(beta_shape),)
        return out

    return record(y, inputs, rec, backward)


def normalize(x, axis=-1, order=2, epsilon=None):
    """L2-normalizes `x` along `axis` (Keras' `ops.normalize`, order 2 only).

    ```python
    y = x * minimum(1 / sqrt(sum(x ** 2, axis, keepdims=True)), 1 / epsilon)
    ```
    One `_core.unit_normalize_forward` (sums in double) and one backward call.

    Args:
        axis: an int or a list/tuple of ints.
        order: 2 (the only order supported).
        epsilon: caps 1 / norm at 1 / epsilon; Keras' 1e-7 when None.
    """
    if order != 2:
        raise ValueError(f"normalize: only order=2 is supported, received order={order!r}")
    v, dtype = _operands(x, None, None, "normalize")
    axes = _normalized_axes(axis, v.ndim)
    eps = _EPSILON if epsilon is None else float(epsilon)
    x2, to_rows, restore = _as_rows(v, axes)
    y2 = np.empty_like(x2)
    inv = np.empty(x2.shape[0], dtype)
    _core.unit_normalize_forward(x2, y2, inv, epsilon=eps)
    y = restore(y2)
    rec = recording((x,))
    if rec is None:
        return Tensor(y)

    def backward(g):
        dx2 = np.empty_like(x2)
        _core.unit_normalize_backward(y2, inv, to_rows(_gradient(g, dtype)), dx2, epsilon=eps)
        return (restore(dx2),)

    return record(y, (x,), rec, backward)
