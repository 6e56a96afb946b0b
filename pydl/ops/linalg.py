"""`matmul`: NumPy's matmul semantics on the C++ GEMM.

2-D products (and N-D @ 2-D, folded into one 2-D product) are one `_core`
call forward and two backward (`dA = dC @ B.T`, `dB = A.T @ dC`, transposes
done by the GEMM's packing, not by copies). Batched products loop over the
broadcast batch, one GEMM per matrix.
"""

from __future__ import annotations

from typing import Any, Sequence, Union

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import binary, contiguous, unbroadcast


def _check(x: np.ndarray, y: np.ndarray) -> None:
    if x.ndim == 0 or y.ndim == 0:
        raise ValueError(f"matmul: operands must have at least 1 dimension, received shapes "
                         f"{x.shape} and {y.shape} (use multiply for scalars)")
    k_a = x.shape[-1]
    k_b = y.shape[0] if y.ndim == 1 else y.shape[-2]
    if k_a != k_b:
        raise ValueError(f"matmul: inner dimensions differ: a has shape {x.shape} and b has "
                         f"shape {y.shape} ({k_a} != {k_b})")


def matmul(a, b):
    """Matrix product `a @ b` with NumPy's rules (1-D promotion, batch broadcasting)."""
    x, y, _ = binary(a, b)
    x, y = np.asarray(x), np.asarray(y)
    _check(x, y)
    # 1-D operands become a row / a column, removed from the result again.
    x2 = x[None, :] if x.ndim == 1 else x
    y2 = y[:, None] if y.ndim == 1 else y
    if y2.ndim == 2:
        out, backward = _folded(x2, y2)
    else:
        out, backward = _batched(x2, y2)
    if x.ndim == 1 and y.ndim == 1:
        out_shape = ()
    elif x.ndim == 1:
        out_shape = out.shape[:-2] + out.shape[-1:]
    elif y.ndim == 1:
        out_shape = out.shape[:-1]
    else:
        out_shape = out.shape
    out = out.reshape(out_shape)
    rec = recording((a, b))
    if rec is None:
        return Tensor(out)
    need_a, need_b = rec[0]
    full_shape = x2.shape[:-1] + y2.shape[-1:] if y2.ndim == 2 else None

    def grad(g):
        g = g.reshape(full_shape if full_shape is not None else _batched_shape(x2, y2))
        ga, gb = backward(contiguous(g), need_a, need_b)
        return (None if ga is None else ga.reshape(x.shape),
                None if gb is None else gb.reshape(y.shape))

    return record(out, (a, b), rec, grad)


def _folded(x: np.ndarray, y: np.ndarray):
    """(..., K) @ (K, N) as one (M, K) @ (K, N) product."""
    k, n = y.shape
    lead = x.shape[:-1]
    x2 = contiguous(x).reshape(int(np.prod(lead)), k)  # not -1: k may be 0
    y = contiguous(y)
    out = _core.matmul(x2, y).reshape(lead + (n,))

    def backward(g, need_a, need_b):
        g2 = g.reshape(x2.shape[0], n)
        ga = gb = None
        if need_a:
            ga = np.empty_like(x2)
            _core.gemm(g2, y, ga, trans_b=True)
        if need_b:
            gb = np.empty_like(y)
            _core.gemm(x2, g2, gb, trans_a=True)
        return ga, gb

    return out, backward


def _batched_shape(x: np.ndarray, y: np.ndarray) -> tuple:
    return np.broadcast_shapes(x.shape[:-2], y.shape[:-2]) + (x.shape[-2], y.shape[-1])


def _batched(x: np.ndarray, y: np.ndarray):
    """(..., M, K) @ (..., K, N): one GEMM per matrix of the broadcast batch."""
    try:
        batch = np.broadcast_shapes(x.shape[:-2], y.shape[:-2])
    except ValueError:
        raise ValueError(f"matmul: batch dimensions of shapes {x.shape} and {y.shape} cannot "
                         "be broadcast together") from None
    (m, k), n = x.shape[-2:], y.shape[-1]
    xb = np.ascontiguousarray(np.broadcast_to(x, batch + (m, k))).reshape(-1, m, k)
    yb = np.ascontiguousarray(np.broadcast_to(y, batch + (k, n))).reshape(-1, k, n)
    out = np.empty((xb.shape[0], m, n), dtype=xb.dtype)
    for i in range(xb.shape[0]):
        _core.gemm(xb[i], yb[i], out[i])

    def backward(g, need_a, need_b):
        g3 = g.reshape(-1, m, n)
        ga = gb = None
        if need_a:
            ga3 = np.empty_like(xb)
            for i in range(xb.shape[0]):
                _core.gemm(g3[i], yb[i], ga3[i], trans_b=True)
            ga = unbroadcast(ga3.reshape(batch + (m, k)), x.shape)
        if need_b:
            gb3 = np.empty_like(yb)
            for i in range(yb.shape[0]):
                _core.gemm(xb[i], g3[i], gb3[i], trans_a=True)
            gb = unbroadcast(gb3.reshape(batch + (k, n)), y.shape)
        return ga, gb

    return out.reshape(batch + (m, n)), backward


def _axis_list(axes, ndim: int, name: str) -> list:
    items = [axes] if isinstance(axes, (int, np.integer)) else axes
    try:
        items = list(items)
    except TypeError:
        raise TypeError(f"tensordot: axes must be an int or a pair of sequences of ints, "
                        f"received axes={axes!r}") from None
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)):
            raise TypeError(f"tensordot: axes for {name} must be ints, received {axes!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"tensordot: axis {a} is out of range for {name} of rank {ndim}")
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"tensordot: axes for {name} repeat an axis, received {list(items)}")
    return out


def _contraction(axes, x: np.ndarray, y: np.ndarray):
    """(axes of x, axes of y) summed over, from Keras/NumPy's `axes` argument."""
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= min(x.ndim, y.ndim):
            raise ValueError(f"tensordot: axes={n} must be in [0, {min(x.ndim, y.ndim)}] for "
                             f"inputs of shapes {x.shape} and {y.shape}")
        return list(range(x.ndim - n, x.ndim)), list(range(n))
    if not isinstance(axes, (list, tuple)) or len(axes) != 2:
        raise TypeError("tensordot: axes must be an int or a pair (axes of x1, axes of x2), "
                        f"received axes={axes!r}")
    ax, ay = _axis_list(axes[0], x.ndim, "x1"), _axis_list(axes[1], y.ndim, "x2")
    if len(ax) != len(ay):
        raise ValueError(f"tensordot: axes name {len(ax)} axes of x1 and {len(ay)} of x2, "
                         f"received axes={axes!r}")
    for i, j in zip(ax, ay):
        if x.shape[i] != y.shape[j]:
            raise ValueError(f"tensordot: axis {i} of x1 (size {x.shape[i]}) and axis {j} of "
                             f"x2 (size {y.shape[j]}) differ; shapes {x.shape} and {y.shape}")
    return ax, ay


def _as_matrix(v: np.ndarray, rows: list, cols: list):
    """`v` as a 2-D (rows, cols) operand of the GEMM: (matrix, transposed).

    When the axes already lie as (cols, rows) in memory, the matrix is that
    view and `transposed` is True (the GEMM's packing transposes it, no copy);
    otherwise the axes are permuted and copied once if need be.
    """
    m = int(np.prod([v.shape[a] for a in rows]))
    n = int(np.prod([v.shape[a] for a in cols]))
    if v.flags.c_contiguous and cols + rows == list(range(v.ndim)) and rows and cols:
        return v.reshape(n, m), True
    return np.ascontiguousarray(np.transpose(v, rows + cols)).reshape(m, n), False


def tensordot(x1: Any, x2: Any, axes: Union[int, Sequence] = 2) -> Tensor:
    """Sum of products over the given axes of `x1` and `x2` (NumPy's tensordot rules).

        axes=N:            the last N axes of x1 with the first N of x2
        axes=(ax1, ax2):   axes ax1 of x1 with axes ax2 of x2, pairwise

    The result's axes are x1's free axes then x2's, in order. The free and
    summed axes are laid out as two matrices and multiplied with one GEMM of
    the core; the backward is two GEMMs with the same layout.

    Args:
        x1, x2: arrays, Tensors or Variables of any rank.
        axes: an int >= 0, or a pair of ints / sequences of ints.

    Example:
        ops.tensordot(np.ones((2, 3, 4)), np.ones((4, 5)), axes=1).shape  # (2, 3, 5)
    """
    x, y, dtype = binary(x1, x2)
    x, y = np.asarray(x, dtype=dtype), np.asarray(y, dtype=dtype)
    ax, ay = _contraction(axes, x, y)
    free_x = [a for a in range(x.ndim) if a not in ax]
    free_y = [a for a in range(y.ndim) if a not in ay]
    out_shape = tuple(x.shape[a] for a in free_x) + tuple(y.shape[a] for a in free_y)
    a, trans_a = _as_matrix(x, free_x, ax)   # (M, K)
    b, trans_b = _as_matrix(y, ay, free_y)   # (K, N)
    m, k = (a.shape[1], a.shape[0]) if trans_a else a.shape
    n = b.shape[0] if trans_b else b.shape[1]
    out = np.empty((m, n), dtype=a.dtype)
    _gemm(a, b, out, trans_a, trans_b, k)
    out = out.reshape(out_shape)
    rec = recording((x1, x2))
    if rec is None:
        return Tensor(out)
    need_a, need_b = rec[0]

    def backward(g):
        g2 = contiguous(g).reshape(m, n)
        ga = gb = None
        if need_a:  # dA = dC @ B^T, in A's layout
            ga = np.empty(a.shape, dtype=a.dtype)
            if trans_a:
                _gemm(b, g2, ga, trans_b, True, n)       # (K, M) = B @ dC^T
            else:
                _gemm(g2, b, ga, False, not trans_b, n)  # (M, K) = dC @ B^T
            ga = _from_matrix(ga, x.shape, free_x, ax, trans_a)
        if need_b:  # dB = A^T @ dC, in B's layout
            gb = np.empty(b.shape, dtype=b.dtype)
            if trans_b:
                _gemm(g2, a, gb, True, trans_a, m)       # (N, K) = dC^T @ A
            else:
                _gemm(a, g2, gb, not trans_a, False, m)  # (K, N) = A^T @ dC
            gb = _from_matrix(gb, y.shape, ay, free_y, trans_b)
        return ga, gb

    return record(out, (x1, x2), rec, backward)


def _gemm(a, b, out, trans_a: bool, trans_b: bool, k: int) -> None:
    if k == 0 or out.size == 0:  # an empty sum is zero
        out.fill(0)
        return
    _core.gemm(a, b, out, trans_a=trans_a, trans_b=trans_b)


def _from_matrix(g: np.ndarray, shape: tuple, rows: list, cols: list, transposed: bool):
    """Inverse of `_as_matrix`: the gradient of the matrix, back in the input's layout."""
    if transposed:
        return g.reshape(shape)
    order = rows + cols
    permuted = g.reshape(tuple(shape[a] for a in order))
    return np.transpose(permuted, np.argsort(order))
