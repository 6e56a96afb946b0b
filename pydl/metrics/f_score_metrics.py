"""F-scores: `FBetaScore` and `F1Score` (Keras 3), from weighted per-class counts."""

from __future__ import annotations

import numpy as np

from .metric import _EPSILON, Metric, _as_array

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """F-beta score of multi-label / multi-class predictions (Keras 3).

    ```python
    predicted = y_pred > threshold       # threshold None: the row's maximum (where it is not ~0)
    tp, fp, fn, support: weighted sums per class over every batch (pooled with "micro")
    precision = tp / (tp + fp + eps);  recall = tp / (tp + fn + eps)        # eps = 1e-7
    f = (1 + beta^2) precision recall / (beta^2 precision + recall + eps)
    None: f per class; "micro" / "macro": mean(f); "weighted": sum(f support) / (sum(support) + eps)
    ```

    Args:
        average: None, "micro", "macro" or "weighted".
        beta: weight of recall relative to precision (> 0).
        threshold: in (0, 1]; None takes the top-scoring class(es) of each row.
    """

    _direction = "up"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        layer = type(self).__name__
        if average not in _AVERAGES:
            raise ValueError(f"{layer}: expected average to be one of {_AVERAGES}, received "
                             f"average={average!r}")
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"{layer}: expected beta to be a float > 0, received beta={beta!r}")
        if threshold is not None and (isinstance(threshold, bool) or
                                      not isinstance(threshold, (int, float)) or
                                      not 0.0 < threshold <= 1.0):
            raise ValueError(f"{layer}: expected threshold to be a float in (0, 1] or None, "
                             f"received threshold={threshold!r}")
        super().__init__(name=name, dtype=dtype)
        self.average = average
        self.beta = float(beta)
        self.threshold = None if threshold is None else float(threshold)
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, classes: int) -> None:
        shape = () if self.average == "micro" else (classes,)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_variable(shape, "zeros", "float64", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        y_true, y_pred = _as_array(y_true, np.float64), _as_array(y_pred, np.float64)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"{type(self).__name__}: expected 2D inputs (batch_size, "
                             f"output_dim), received y_pred.shape={y_pred.shape} and "
                             f"y_true.shape={y_true.shape}")
        if y_true.shape != y_pred.shape:
            raise ValueError(f"{type(self).__name__}: y_true must have y_pred's shape "
                             f"{y_pred.shape}, received {y_true.shape}")
        if not self._built:
            self._build(y_pred.shape[-1])
        if self.threshold is None:
            top = y_pred.max(axis=-1, keepdims=True)
            predicted = (y_pred >= top) & (np.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        weight = None if sample_weight is None else \
            _as_array(sample_weight, np.float64).reshape(-1, 1)

        def weighted_sum(values):
            if weight is not None:
                values = values * weight
            return values.sum(axis=self.axis)

        self.true_positives.assign_add(weighted_sum(predicted * y_true))
        self.false_positives.assign_add(weighted_sum(predicted * (1 - y_true)))
        self.false_negatives.assign_add(weighted_sum((1 - predicted) * y_true))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        if not self._built:
            return 0.0
        tp, fp, fn = (v.value for v in (self.true_positives, self.false_positives,
                                        self.false_negatives))
        precision = tp / (tp + fp + _EPSILON)
        recall = tp / (tp + fn + _EPSILON)
        b2 = self.beta ** 2
        f = precision * recall / (b2 * precision + recall + _EPSILON) * (1 + b2)
        if self.average == "weighted":
            support = self.intermediate_weights.value
            return float(np.sum(f * support / (np.sum(support) + _EPSILON)))
        if self.average is not None:
            return float(np.mean(f))
        return f

    def get_config(self) -> dict:
        return dict(super().get_config(), average=self.average, beta=self.beta,
                    threshold=self.threshold)


class F1Score(FBetaScore):
    """F1 score: the harmonic mean of precision and recall (`FBetaScore` with beta = 1).

    Args:
        average: None, "micro", "macro" or "weighted".
        threshold: in (0, 1]; None takes the top-scoring class(es) of each row.
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
