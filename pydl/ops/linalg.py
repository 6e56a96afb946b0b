"""`matmul`: NumPy's matmul semantics on the C++ GEMM.

2-D products (and N-D @ 2-D, folded into one 2-D product) are one `_core`
call forward and two backward (`dA = dC @ B.T`, `dB = A.T @ dC`, transposes
done by the GEMM's packing, not by copies). Batched products loop over the
broadcast batch, one GEMM per matrix.
"""

from __future__ import annotations

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
