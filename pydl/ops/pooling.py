"""Global pooling over the steps axis of (batch, steps, features) data, one recorded op each.

`global_average_pool1d` (with an optional mask of kept steps) and
`global_max_pool1d` run one `_core.global_*_pool_forward` call forward and one
`_core.global_*_pool_backward` call backward; sums in double, steps in order.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import contiguous, raw, unary

_FORMATS = ("channels_last", "channels_first")


def _input(x, data_format: str, name: str):
    if data_format not in _FORMATS:
        raise ValueError(f"{name}: data_format must be one of {_FORMATS}, received "
                         f"{data_format!r}")
    v, dtype = unary(x)
    v = contiguous(v)
    if v.ndim != 3:
        raise ValueError(f"{name}: expected an input of rank 3 (batch, steps, features) "
                         f"for {data_format}, received shape {v.shape}")
    features = v.shape[2] if data_format == "channels_last" else v.shape[1]
    return v, dtype, (v.shape[0], features)


def _keep(y: np.ndarray, data_format: str, keepdims: bool) -> np.ndarray:
    if not keepdims:
        return y
    return y[:, None, :] if data_format == "channels_last" else y[:, :, None]


def _mask(mask, v: np.ndarray, data_format: str):
    if mask is None:
        return None
    m = np.asarray(raw(mask))
    steps = v.shape[1] if data_format == "channels_last" else v.shape[2]
    if m.shape != (v.shape[0], steps):
        raise ValueError(f"global_average_pool1d: mask must have shape (batch, steps) = "
                         f"{(v.shape[0], steps)}, received {m.shape}")
    return contiguous(m.astype(bool, copy=False))


def global_average_pool1d(x, mask=None, data_format: str = "channels_last",
                          keepdims: bool = False):
    """Mean over the steps axis; with `mask` (batch, steps), over the kept steps only.

    ```python
    y[b, f] = sum(x[b, t, f] for kept t) / number of kept t     # NaN when none is kept
    ```
    """
    v, dtype, out_shape = _input(x, data_format, "global_average_pool1d")
    m = _mask(mask, v, data_format)
    y = np.empty(out_shape, dtype)
    _core.global_average_pool_forward(v, y, mask=m, data_format=data_format)
    out = _keep(y, data_format, keepdims)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)

    def backward(g):
        dy = contiguous(np.asarray(g, dtype=dtype).reshape(out_shape))
        dx = np.empty_like(v)
        _core.global_average_pool_backward(dy, dx, mask=m, data_format=data_format)
        return (dx,)

    return record(out, (x,), rec, backward)


def global_max_pool1d(x, data_format: str = "channels_last", keepdims: bool = False):
    """Maximum over the steps axis; the gradient goes to the first maximal step."""
    v, dtype, out_shape = _input(x, data_format, "global_max_pool1d")
    y = np.empty(out_shape, dtype)
    argmax = np.empty(out_shape, np.int64)
    _core.global_max_pool_forward(v, y, argmax, data_format=data_format)
    out = _keep(y, data_format, keepdims)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)

    def backward(g):
        dy = contiguous(np.asarray(g, dtype=dtype).reshape(out_shape))
        dx = np.empty_like(v)
        _core.global_max_pool_backward(dy, argmax, dx, data_format=data_format)
        return (dx,)

    return record(out, (x,), rec, backward)
