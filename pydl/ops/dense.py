"""`dense`: `activation(x @ w + b)` as one recorded op on the fused C++ kernels.

Forward is one `_core.dense_forward` (GEMM with bias and activation in its
epilogue); backward is one `_core.dense_backward` (activation derivative, two
GEMMs, bias reduction). With a softmax or sigmoid activation the result also
carries its logits as a recorded Tensor (`_logits`), so a cross-entropy on it
runs the fused logits kernel, whose gradient `p - y` flows straight into this
op's linear part.

With ``bf16=True`` (a layer under the ``mixed_bfloat16`` policy) the three
matrix products -- forward, dX and dW -- read x, w and the gradient at the
pre-activation rounded to bfloat16 and sum in float32 (the core's rule,
nn/dense.h, which the fused plan's Dense node follows too); every array this op
returns or records stays float32.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import F32, F64, as_float, contiguous, float_dtype, raw
from .activation import core_activation

_KEEPS_Z = {}


def _keeps_preactivation(name: str) -> bool:
    """The core's rule (nn/rules.h), which the fused plan's Dense node follows too."""
    known = _KEEPS_Z.get(name)
    if known is None:
        known = _KEEPS_Z[name] = bool(_core.dense_keeps_preactivation(name))
    return known


def _operands(x, w, b):
    xv, wv = raw(x), raw(w)
    bv = None if b is None else raw(b)
    dtype = wv.dtype if wv.__class__ is np.ndarray else None
    if (xv.__class__ is np.ndarray and xv.dtype is dtype and (dtype is F32 or dtype is F64)
            and xv.ndim == 2 and wv.ndim == 2 and xv.shape[1] == wv.shape[0]
            and xv.flags.c_contiguous and wv.flags.c_contiguous
            and (bv is None or (bv.__class__ is np.ndarray and bv.dtype is dtype
                                and bv.shape == (wv.shape[1],) and bv.flags.c_contiguous))):
        return xv, wv, bv, xv.shape  # the common case: nothing to convert or check further
    return _converted_operands(xv, wv, bv)


def _converted_operands(xv, wv, bv):
    dtype = float_dtype(xv, wv, *(() if bv is None else (bv,)))
    xv, wv = np.asarray(as_float(xv, dtype)), np.asarray(as_float(wv, dtype))
    if wv.ndim != 2:
        raise ValueError(f"dense: w must be 2-D (input_dim, units), received shape {wv.shape}")
    if xv.ndim == 0 or xv.shape[-1] != wv.shape[0]:
        raise ValueError(f"dense: x's last dimension must equal w.shape[0]: x has shape "
                         f"{xv.shape}, w has shape {wv.shape}")
    if bv is not None:
        bv = np.asarray(as_float(bv, dtype))
        if bv.shape != (wv.shape[1],):
            raise ValueError(f"dense: b must have shape ({wv.shape[1]},), received {bv.shape}")
        bv = contiguous(bv)
    return contiguous(xv).reshape(-1, wv.shape[0]), contiguous(wv), bv, xv.shape


def dense(x, w, b=None, activation=None, *, bf16=False):
    """`activation(x @ w + b)`; x is (..., input_dim), w (input_dim, units), b (units,).

    Args:
        activation: None (linear), a name, or a `pydl.activations` function; any
            other callable is applied after the linear part as ordinary ops.
        bf16: the matrix products (forward and backward) read bfloat16-rounded
            operands with float32 sums (float32 operands only; on CPUs without
            AVX512_BF16 the float32 kernels run). Layers pass their dtype policy's.
    """
    spec = core_activation(activation)
    if spec is None:
        return activation(dense(x, w, b, bf16=bf16))
    name, alpha = spec
    x2, wv, bv, x_shape = _operands(x, w, b)
    bf16 = bool(bf16) and wv.dtype == F32
    units = wv.shape[1]
    y = np.empty((x2.shape[0], units), dtype=wv.dtype)
    keep_logits = name == "softmax" or name == "sigmoid"  # a fused loss may read them
    z = np.empty_like(y) if _keeps_preactivation(name) else None
    _core.dense_forward(x2, wv, bv, name, y, z=z, alpha=alpha, bf16=bf16)
    folded = len(x_shape) != 2  # N-D input: (..., input_dim) ran as one 2-D product
    out_shape = x_shape[:-1] + (units,)
    inputs = (x, w) if b is None else (x, w, b)
    rec = recording(inputs)
    if rec is None:
        out = Tensor(y.reshape(out_shape) if folded else y)
        if keep_logits:
            out._logits = (name, Tensor(z.reshape(out_shape) if folded else z))
        return out
    needs = rec[0]
    need_x, need_w = needs[0], needs[1]
    need_b = b is not None and needs[2]

    def backward_through(act):
        def backward(g):
            dy = contiguous(g)
            if folded:
                dy = dy.reshape(y.shape)
            dx = np.empty_like(x2) if need_x else None
            dw = np.empty_like(wv)
            db = np.empty_like(bv) if need_b else None
            _core.dense_backward(x2, wv, z, y, dy, act, np.empty_like(y), dx, dw, db,
                                 alpha=alpha, bf16=bf16)
            if folded and dx is not None:
                dx = dx.reshape(x_shape)
            if b is None:
                return dx, (dw if need_w else None)
            return dx, (dw if need_w else None), db
        return backward

    out = record(y.reshape(out_shape) if folded else y, inputs, rec, backward_through(name))
    if keep_logits:
        logits = record(z.reshape(out_shape) if folded else z, inputs, rec,
                        backward_through("linear"))
        out._logits = (name, logits)
    return out
