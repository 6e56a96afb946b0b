"""Loss functions as recorded ops on `_core.loss` (value and gradient in one pass).

Each returns a scalar Tensor: the per-sample losses weighted by `sample_weight`
and summed over the batch, divided by the batch size (Keras'
"sum_over_batch_size"). Per-sample loss: mean over the last axis (mse, mae,
huber, binary_crossentropy, msle, mape, log_cosh, poisson, hinge,
squared_hinge), sum over it (categorical, kl_divergence) or a quantity of the
whole last axis (categorical_hinge, cosine_similarity), as Keras 3 writes them.

Fusion: when `y_pred` is the output of a softmax (sigmoid for binary) op, or of
`dense` with that activation, and `from_logits=False`, the loss is computed
from the saved logits with `from_logits=True` -- stable log-sum-exp, gradient
`p - y` -- and the gradient flows to the logits' producer, skipping the
softmax's Jacobian.
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import as_float, contiguous, float_dtype, raw

# Kinds whose per-sample loss is one quantity of the whole last axis: a 1-D y_pred
# is one sample (the other kinds read it as one value per sample).
_ROW_KINDS = ("categorical_crossentropy", "sparse_categorical_crossentropy", "kl_divergence",
              "categorical_hinge", "cosine_similarity")
_FUSES = {}


def _fused_source(kind: str, y_pred, from_logits: bool):
    """(the input to differentiate, from_logits) after loss fusion: the core's rule
    (_core.loss_fuses, nn/rules.h), which the fused plan follows too."""
    if from_logits or not isinstance(y_pred, Tensor) or y_pred._logits is None:
        return y_pred, from_logits
    activation, logits = y_pred._logits
    key = (kind, activation)
    fuses = _FUSES.get(key)
    if fuses is None:
        fuses = _FUSES[key] = bool(_core.loss_fuses(kind, False, activation))
    if fuses:
        return logits, True
    return y_pred, from_logits


def _targets(name: str, kind: str, y_true, pred: np.ndarray) -> np.ndarray:
    t = np.asarray(raw(y_true))
    if kind == "sparse_categorical_crossentropy":
        if t.shape == pred.shape[:-1] + (1,):
            t = t.reshape(pred.shape[:-1])
        if t.shape != pred.shape[:-1]:
            raise ValueError(f"{name}: y_true must hold one class index per sample, shape "
                             f"{pred.shape[:-1]}, received shape {t.shape} (y_pred has shape "
                             f"{pred.shape})")
        if t.dtype.kind == "f":
            if not np.all(t == np.round(t)):
                raise ValueError(f"{name}: y_true must hold integer class indices, received "
                                 "non-integer values")
            t = t.astype(np.int64)
        elif t.dtype.kind not in "iu":
            raise TypeError(f"{name}: y_true must hold integer class indices, received dtype "
                            f"{t.dtype}")
        if t.dtype not in (np.int32, np.int64):
            t = t.astype(np.int64)
        return contiguous(t)
    # Keras squeezes or expands a trailing axis of size 1 so that ranks agree.
    if t.ndim == pred.ndim - 1 and pred.shape[-1] == 1:
        t = t[..., None]
    elif t.ndim == pred.ndim + 1 and t.shape[-1] == 1:
        t = t[..., 0]
    if t.shape != pred.shape:
        raise ValueError(f"{name}: y_true has shape {t.shape}, expected y_pred's shape "
                         f"{pred.shape}")
    return contiguous(as_float(t, pred.dtype))


def _weights(name: str, sample_weight, pred: np.ndarray):
    if sample_weight is None:
        return None
    w = np.asarray(raw(sample_weight), dtype=pred.dtype)
    batch = pred.shape[0]
    if w.ndim == 0:
        w = np.full((batch,), w, dtype=pred.dtype)
    elif w.shape == (batch, 1):
        w = w.reshape(batch)
    if w.shape != (batch,):
        raise ValueError(f"{name}: sample_weight must have shape ({batch},), one weight per "
                         f"sample, received shape {w.shape}")
    return contiguous(w)


def _loss(name: str, kind: str, y_true, y_pred, sample_weight, from_logits=False, delta=1.0):
    source, from_logits = _fused_source(kind, y_pred, from_logits)
    value = raw(source)
    dtype = float_dtype(value)
    value = np.asarray(as_float(value, dtype))
    if value.ndim == 0:
        raise ValueError(f"{name}: y_pred must have at least 1 dimension, received a scalar")
    # A 1-D prediction is one value per sample (categorical: one sample of classes).
    pred = value
    if value.ndim == 1:
        pred = value[None, :] if kind in _ROW_KINDS else value[:, None]
        t = np.asarray(raw(y_true))
        if kind == "sparse_categorical_crossentropy" and t.ndim == 0:
            y_true = t.reshape(1)
        elif t.shape == value.shape:
            y_true = t.reshape(pred.shape)
    pred = contiguous(pred)
    truth = _targets(name, kind, y_true, pred)
    weights = _weights(name, sample_weight, pred)
    rec = recording((source,))
    grad = None if rec is None else np.empty_like(pred)
    loss = _core.loss(kind, truth, pred, grad=grad, sample_weight=weights,
                      from_logits=from_logits, delta=float(delta))
    out = np.asarray(loss, dtype=dtype)
    if rec is None:
        return Tensor(out)
    shape = value.shape
    return record(out, (source,), rec, lambda g: ((grad * g).reshape(shape),))


def mean_squared_error(y_true, y_pred, sample_weight=None):
    """`mean((y_true - y_pred) ** 2, axis=-1)`, averaged over the batch."""
    return _loss("mean_squared_error", "mse", y_true, y_pred, sample_weight)


def mean_absolute_error(y_true, y_pred, sample_weight=None):
    """`mean(|y_true - y_pred|, axis=-1)`, averaged over the batch."""
    return _loss("mean_absolute_error", "mae", y_true, y_pred, sample_weight)


def huber(y_true, y_pred, sample_weight=None, delta: float = 1.0):
    """Quadratic for `|error| <= delta`, linear beyond; mean over the last axis."""
    if not delta > 0:
        raise ValueError(f"huber: delta must be > 0, received {delta}")
    return _loss("huber", "huber", y_true, y_pred, sample_weight, delta=delta)


def binary_crossentropy(y_true, y_pred, sample_weight=None, from_logits: bool = False):
    """`-mean(y log p + (1 - y) log(1 - p), axis=-1)`; p clipped to [1e-7, 1 - 1e-7]."""
    return _loss("binary_crossentropy", "binary_crossentropy", y_true, y_pred, sample_weight,
                 from_logits)


def categorical_crossentropy(y_true, y_pred, sample_weight=None, from_logits: bool = False):
    """`-sum(y * log p)` over classes, y one-hot (or soft) targets."""
    return _loss("categorical_crossentropy", "categorical_crossentropy", y_true, y_pred,
                 sample_weight, from_logits)


def sparse_categorical_crossentropy(y_true, y_pred, sample_weight=None,
                                    from_logits: bool = False):
    """`-log p[y]`, y integer class indices."""
    return _loss("sparse_categorical_crossentropy", "sparse_categorical_crossentropy", y_true,
                 y_pred, sample_weight, from_logits)


def kl_divergence(y_true, y_pred, sample_weight=None):
    """`sum(t * log(t / p), axis=-1)` with t, p clipped to [1e-7, 1]."""
    return _loss("kl_divergence", "kl_divergence", y_true, y_pred, sample_weight)


def poisson(y_true, y_pred, sample_weight=None):
    """`mean(p - t * log(p + 1e-7), axis=-1)`."""
    return _loss("poisson", "poisson", y_true, y_pred, sample_weight)


def log_cosh(y_true, y_pred, sample_weight=None):
    """`mean(log(cosh(p - t)), axis=-1)`, computed as `e + softplus(-2 e) - log(2)`."""
    return _loss("log_cosh", "log_cosh", y_true, y_pred, sample_weight)


def hinge(y_true, y_pred, sample_weight=None):
    """`mean(maximum(1 - t * p, 0), axis=-1)`; 0/1 targets become -1/1 when all are binary."""
    return _loss("hinge", "hinge", y_true, y_pred, sample_weight)


def squared_hinge(y_true, y_pred, sample_weight=None):
    """`mean(maximum(1 - t * p, 0) ** 2, axis=-1)`; 0/1 targets become -1/1 as in `hinge`."""
    return _loss("squared_hinge", "squared_hinge", y_true, y_pred, sample_weight)


def categorical_hinge(y_true, y_pred, sample_weight=None):
    """`maximum(max((1 - t) * p) - sum(t * p) + 1, 0)` over the last axis (one-hot t)."""
    return _loss("categorical_hinge", "categorical_hinge", y_true, y_pred, sample_weight)


def cosine_similarity(y_true, y_pred, sample_weight=None, axis=-1):
    """`-sum(l2_normalize(t) * l2_normalize(p), axis=-1)` (Keras: -1 is most similar).

    Args:
        axis: only -1 (the last axis) is supported.
    """
    if axis != -1:
        raise ValueError(f"cosine_similarity: only axis=-1 (the last axis) is supported, "
                         f"received axis={axis!r}")
    return _loss("cosine_similarity", "cosine_similarity", y_true, y_pred, sample_weight)


def mean_squared_logarithmic_error(y_true, y_pred, sample_weight=None):
    """`mean((log(max(p, eps) + 1) - log(max(t, eps) + 1)) ** 2, axis=-1)`, eps = 1e-7."""
    return _loss("mean_squared_logarithmic_error", "msle", y_true, y_pred, sample_weight)


def mean_absolute_percentage_error(y_true, y_pred, sample_weight=None):
    """`100 * mean(|(t - p) / max(|t|, eps)|, axis=-1)`, eps = 1e-7."""
    return _loss("mean_absolute_percentage_error", "mape", y_true, y_pred, sample_weight)
