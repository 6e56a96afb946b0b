"""Accuracy metrics: binary, categorical, sparse categorical (functions and classes)."""

from __future__ import annotations

import numpy as np

from .metric import _as_array, _squeeze_or_expand
from .reduction_metrics import MeanMetricWrapper


def binary_accuracy(y_true, y_pred, threshold=0.5) -> np.ndarray:
    """1.0 where ``(y_pred > threshold) == y_true``, elementwise."""
    y_true, y_pred = _squeeze_or_expand(_as_array(y_true), _as_array(y_pred))
    return (y_true == (y_pred > threshold).astype(y_true.dtype)).astype(np.float64)


def categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 per sample where ``argmax(y_pred) == argmax(y_true)`` (one-hot targets)."""
    y_true, y_pred = _as_array(y_true), _as_array(y_pred)
    if y_true.shape != y_pred.shape:
        # Integer labels here would be compared by their own argmax: a silent wrong answer.
        raise ValueError(
            f"categorical_accuracy: expected one-hot y_true of the shape of y_pred "
            f"{y_pred.shape}, received shape {y_true.shape}; for integer labels use "
            "sparse_categorical_accuracy")
    return (np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred) -> np.ndarray:
    """1.0 per sample where ``argmax(y_pred) == y_true`` (integer targets, shape (B,) or (B, 1))."""
    y_true, y_pred = _as_array(y_true), _as_array(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return (y_true == np.argmax(y_pred, axis=-1).astype(y_true.dtype)).astype(np.float64)


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the binary `y_true`.

    Args:
        name, dtype: see `Metric`.
        threshold: the probability above which a prediction is 1.
    """

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of `y_pred` matches the argmax of the one-hot `y_true`."""

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the argmax of `y_pred` matches the integer `y_true`."""

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


# --------------------------------------------------------------------------- top-k
def _in_top_k(targets: np.ndarray, predictions: np.ndarray, k: int) -> np.ndarray:
    """Whether each target class is among the k largest predictions of its row (ties count
    as in: fewer than k classes score strictly higher), as Keras' ops.in_top_k."""
    rows = np.arange(predictions.shape[0])
    valid = (targets >= 0) & (targets < predictions.shape[-1])
    score = predictions[rows, np.where(valid, targets, 0)]
    higher = (predictions > score[:, None]).sum(axis=-1)
    return valid & np.isfinite(score) & (higher < k)


def _top_k(y_true_classes: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    shape = y_true_classes.shape
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    matches = _in_top_k(y_true_classes.reshape(-1).astype(np.int64), y_pred, k)
    return matches.astype(np.float64).reshape(shape)


def top_k_categorical_accuracy(y_true, y_pred, k=5) -> np.ndarray:
    """1.0 per sample where the class of the one-hot `y_true` is among the `k` top predictions."""
    y_true, y_pred = _as_array(y_true), _as_array(y_pred, np.float64)
    return _top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False) -> np.ndarray:
    """1.0 per sample where the integer `y_true` is among the `k` top predictions.

    With ``from_sorted_ids=True``, `y_pred` holds class ids sorted by score (best first).
    """
    y_true, y_pred = _as_array(y_true), _as_array(y_pred)
    if from_sorted_ids:
        ids = y_pred.reshape(-1, y_pred.shape[-1])[:, :k]
        flat = y_true.reshape(-1)
        return np.any(ids == flat[:, None], axis=1).astype(np.float64).reshape(y_true.shape)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _top_k(y_true, y_pred.astype(np.float64), k)


def _check_k(name: str, k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"{name}: expected k to be a positive integer, received k={k!r}")
    return int(k)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the class of the one-hot `y_true` is among the `k` highest predictions.

    Args:
        k: how many top predictions count (int >= 1).
    """

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        k = _check_k("TopKCategoricalAccuracy", k)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer `y_true` is among the `k` highest predictions.

    Args:
        k: how many top predictions count (int >= 1).
        from_sorted_ids: `y_pred` holds class ids sorted by score instead of scores.
    """

    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        k = _check_k("SparseTopKCategoricalAccuracy", k)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=bool(from_sorted_ids))
        self.k = k
        self.from_sorted_ids = bool(from_sorted_ids)

    def get_config(self) -> dict:
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
