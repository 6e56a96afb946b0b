"""`weight_penalty`: ``l1 * sum(|w|) + l2 * sum(w ** 2)`` as one recorded op.

Value and gradient are the core's (``_core.weight_penalty`` and
``_core.weight_penalty_gradient``, nn/penalty.h): the fused plan adds the same
kernel's value and gradient, so both paths agree to the bit.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import contiguous, unary


def weight_penalty(w, l1: float = 0.0, l2: float = 0.0):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)`` (a term only when its factor is nonzero), a
    scalar Tensor of w's dtype; its gradient is ``l1 * sign(w) + 2 * l2 * w``."""
    v, dtype = unary(w)
    v = contiguous(np.asarray(v, dtype=dtype))
    l1, l2 = float(l1), float(l2)
    value = np.asarray(_core.weight_penalty(v, l1, l2), dtype=dtype)
    rec = recording((w,))
    if rec is None:
        return Tensor(value)

    def backward(g):
        grad = np.empty_like(v)
        _core.weight_penalty_gradient(v, l1, l2, grad)
        upstream = np.asarray(g, dtype=dtype)
        return (grad if upstream == 1 else grad * upstream,)

    return record(value, (w,), rec, backward)
