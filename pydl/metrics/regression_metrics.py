"""Regression metrics: mean squared / absolute / absolute percentage error, their root, R2."""

from __future__ import annotations

import warnings

import numpy as np

from .metric import _EPSILON, Metric, _as_array, _squeeze_or_expand
from .reduction_metrics import Mean, MeanMetricWrapper


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """``mean((y_true - y_pred)**2, axis=-1)`` per sample."""
    y_true, y_pred = _squeeze_or_expand(_as_array(y_true, np.float64), _as_array(y_pred, np.float64))
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """``mean(|y_true - y_pred|, axis=-1)`` per sample."""
    y_true, y_pred = _squeeze_or_expand(_as_array(y_true, np.float64), _as_array(y_pred, np.float64))
    return np.mean(np.abs(y_true - y_pred), axis=-1)


class MeanSquaredError(MeanMetricWrapper):
    """The mean of ``mean((y_true - y_pred)**2, axis=-1)`` over samples."""

    _direction = "down"

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of ``mean(|y_true - y_pred|, axis=-1)`` over samples."""

    _direction = "down"

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


def mean_absolute_percentage_error(y_true, y_pred) -> np.ndarray:
    """``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1)`` per sample (eps = 1e-7)."""
    y_true, y_pred = _squeeze_or_expand(_as_array(y_true, np.float64), _as_array(y_pred, np.float64))
    diff = np.abs((y_true - y_pred) / np.maximum(np.abs(y_true), _EPSILON))
    return 100.0 * np.mean(diff, axis=-1)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean of ``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|, axis=-1)`` over samples."""

    _direction = "down"

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """``sqrt(weighted mean over samples of mean((y_pred - y_true) ** 2, axis=-1))``."""

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _squeeze_or_expand(_as_array(y_true, np.float64), _as_array(y_pred, np.float64))
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self) -> float:
        return float(np.sqrt(super().result()))


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """The coefficient of determination, per output column, accumulated over batches (Keras 3).

    ```python
    # per column j, with weights w (1 without sample_weight):
    mean_j = sum(w y_j) / sum(w);  total_j = sum(w y_j^2) - sum(w y_j) mean_j
    r2_j = 1 - sum(w (y_j - p_j)^2) / total_j          # 0 where that is infinite
    "uniform_average": mean_j r2_j; "variance_weighted_average": sum(total_j r2_j) / sum(total_j);
    None: the array r2_j
    adjusted (num_regressors = p > 0): 1 - (1 - r2) (n - 1) / (n - p - 1), n = values seen
    ```

    Args:
        class_aggregation: None, "uniform_average" or "variance_weighted_average".
        num_regressors: independent variables of the adjusted R2 (0: plain R2).
    """

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(f"R2Score: expected class_aggregation to be one of {_AGGREGATIONS}, "
                             f"received class_aggregation={class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, (int, np.integer)) \
                or num_regressors < 0:
            raise ValueError(f"R2Score: expected num_regressors to be an int >= 0, received "
                             f"num_regressors={num_regressors!r}")
        super().__init__(name=name, dtype=dtype)
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        self.num_samples = self.add_variable((), "zeros", "float64", name="num_samples")
        self._built = False

    def _build(self, outputs: int) -> None:
        def zeros(name):
            return self.add_variable((outputs,), "zeros", "float64", name=name)
        self.squared_sum = zeros("squared_sum")
        self.sum = zeros("sum")
        self.total_mse = zeros("residual")
        self.count = zeros("count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _squeeze_or_expand(_as_array(y_true, np.float64), _as_array(y_pred, np.float64))
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"R2Score: expected 2D inputs (batch_size, output_dim), received "
                             f"y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}")
        if not self._built:
            self._build(y_pred.shape[-1])
        w = np.ones(()) if sample_weight is None else _as_array(sample_weight, np.float64)
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, y_true.shape)
        weighted = y_true * w
        self.sum.assign_add(weighted.sum(axis=0))
        self.squared_sum.assign_add((y_true * weighted).sum(axis=0))
        self.total_mse.assign_add(((y_true - y_pred) ** 2 * w).sum(axis=0))
        self.count.assign_add(w.sum(axis=0))
        self.num_samples.assign_add(y_true.size)

    def result(self):
        if not self._built:
            return 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum.value / self.count.value
            total = self.squared_sum.value - self.sum.value * mean
            raw = 1.0 - self.total_mse.value / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = float(np.mean(raw))
        elif self.class_aggregation == "variance_weighted_average":
            score = float(np.sum(total * raw) / np.sum(total))
        else:
            score = raw
        n, p = float(self.num_samples.value), self.num_regressors
        if p:
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard "
                              "R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return score

    def get_config(self) -> dict:
        return dict(super().get_config(), class_aggregation=self.class_aggregation,
                    num_regressors=self.num_regressors)
