"""Confusion-matrix metrics: Precision, Recall, AUC (counts at thresholds)."""

from __future__ import annotations

import numpy as np

from .metric import _EPSILON, Metric, _as_array, _divide_no_nan, _squeeze_or_expand


def _check_thresholds(thresholds) -> list[float]:
    values = [thresholds] if np.isscalar(thresholds) else list(thresholds)
    if not values or any(not (isinstance(t, (int, float, np.floating)) and 0.0 <= t <= 1.0) for t in values):
        raise ValueError(f"Threshold values must be in [0, 1]. Received: thresholds={thresholds!r}")
    return [float(t) for t in values]


class _ConfusionMatrix(Metric):
    """Weighted true/false positive/negative counts at each threshold (``y_pred > threshold``).

    Labels are positive where `y_true` is non-zero; every element of the batch counts (multi-label
    outputs are flattened); sample_weight broadcasts over the trailing axes of `y_pred`.
    """

    _direction = "up"

    def __init__(self, thresholds, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.thresholds = np.asarray(thresholds, np.float64)
        self._order = np.argsort(self.thresholds, kind="stable")
        self._sorted = self.thresholds[self._order]
        self.class_id = class_id
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), "zeros", "float64", name="true_positives")
        self.false_positives = self.add_variable((n,), "zeros", "float64", name="false_positives")
        self.true_negatives = self.add_variable((n,), "zeros", "float64", name="true_negatives")
        self.false_negatives = self.add_variable((n,), "zeros", "float64", name="false_negatives")

    def _counts(self):
        """(tp, fp, tn, fn) as float64 arrays."""
        return (self.true_positives.value, self.false_positives.value,
                self.true_negatives.value, self.false_negatives.value)

    def _prepare(self, y_true, y_pred, sample_weight):
        y_true, y_pred = _as_array(y_true), _as_array(y_pred, np.float64)
        y_pred, y_true = _squeeze_or_expand(y_pred, y_true, expand_rank_1=False)
        if y_true.shape != y_pred.shape:
            raise ValueError(f"y_true: expected the shape of y_pred {y_pred.shape}, received {y_true.shape}")
        weight = np.ones(y_pred.shape)
        if sample_weight is not None:
            w = _as_array(sample_weight, np.float64)
            if w.ndim < y_pred.ndim:
                w = w.reshape(w.shape + (1,) * (y_pred.ndim - w.ndim))
            try:
                weight = np.broadcast_to(w, y_pred.shape)
            except ValueError:
                raise ValueError(
                    f"sample_weight: expected a shape that broadcasts to y_pred's {y_pred.shape}, "
                    f"received {np.shape(sample_weight)}"
                ) from None
        if self.class_id is not None:
            y_true, y_pred, weight = y_true[..., self.class_id], y_pred[..., self.class_id], weight[..., self.class_id]
        return y_true.ravel() != 0, y_pred.ravel(), weight.ravel()

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        positive, pred, weight = self._prepare(y_true, y_pred, sample_weight)
        n = len(self._sorted)
        # above[k] = number of (sorted) thresholds strictly below pred k: pred > thr[j] iff j < above[k].
        above = np.searchsorted(self._sorted, pred, side="left")
        above[np.isnan(pred)] = 0
        tp_sorted, fp_sorted = (
            np.cumsum(np.bincount(above[mask], weights=weight[mask], minlength=n + 1)[::-1])[::-1][1:]
            for mask in (positive, ~positive)
        )
        unsort = np.empty(n, dtype=np.int64)
        unsort[self._order] = np.arange(n)
        tp, fp = tp_sorted[unsort], fp_sorted[unsort]
        pos_total, neg_total = weight[positive].sum(), weight[~positive].sum()
        self.true_positives.assign_add(tp)
        self.false_positives.assign_add(fp)
        self.false_negatives.assign_add(pos_total - tp)
        self.true_negatives.assign_add(neg_total - fp)

    def _scalar_or_array(self, values: np.ndarray, keep_array: bool):
        return values.copy() if keep_array else float(values[0])


class Precision(_ConfusionMatrix):
    """``tp / (tp + fp)`` with predictions ``y_pred > threshold`` (0 when nothing is predicted positive).

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 when None. A list gives an array result.
        class_id: only this index of the last axis counts.
        name, dtype: see `Metric`.
    """

    def __init__(self, thresholds=None, class_id=None, name="precision", dtype=None):
        self._many = thresholds is not None and not np.isscalar(thresholds)
        super().__init__(_check_thresholds(0.5 if thresholds is None else thresholds), class_id, name, dtype)
        self.init_thresholds = thresholds

    def result(self):
        tp, fp, _, _ = self._counts()
        values = _divide_no_nan(tp, tp + fp)
        return self._scalar_or_array(values, self._many)

    def get_config(self):
        return dict(super().get_config(), thresholds=self.init_thresholds, class_id=self.class_id)


class Recall(_ConfusionMatrix):
    """``tp / (tp + fn)`` with predictions ``y_pred > threshold`` (0 when there are no positives).

    Args:
        thresholds: a float or a list of floats in [0, 1]; 0.5 when None. A list gives an array result.
        class_id: only this index of the last axis counts.
        name, dtype: see `Metric`.
    """

    def __init__(self, thresholds=None, class_id=None, name="recall", dtype=None):
        self._many = thresholds is not None and not np.isscalar(thresholds)
        super().__init__(_check_thresholds(0.5 if thresholds is None else thresholds), class_id, name, dtype)
        self.init_thresholds = thresholds

    def result(self):
        tp, _, _, fn = self._counts()
        values = _divide_no_nan(tp, tp + fn)
        return self._scalar_or_array(values, self._many)

    def get_config(self):
        return dict(super().get_config(), thresholds=self.init_thresholds, class_id=self.class_id)


class AUC(_ConfusionMatrix):
    """Area under the ROC or precision-recall curve, from counts at fixed thresholds (Keras 3).

    ```python
    thresholds = [-eps] + [i / (num_thresholds - 1) for i in 1 .. num_thresholds - 2] + [1 + eps]
    ROC: x = fp / (fp + tn), y = tp / (tp + fn);  PR: x = recall, y = precision
    auc = sum((x[:-1] - x[1:]) * heights)   # heights: mean (interpolation), min, max of y[:-1], y[1:]
    # PR with interpolation uses Davis & Goadrich's interpolation of precision (interpolate_pr_auc).
    ```

    Args:
        num_thresholds: number of thresholds (> 1) when `thresholds` is None.
        curve: "ROC" or "PR".
        summation_method: "interpolation", "minoring" or "majoring".
        name, dtype: see `Metric`.
        thresholds: explicit thresholds in [0, 1] (the end points are added).
        from_logits: apply a sigmoid to `y_pred` first.
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name="auc", dtype=None,
                 thresholds=None, from_logits=False):
        if str(curve).upper() not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["ROC", "PR"]')
        if str(summation_method).lower() not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". Expected values are '
                '["interpolation", "majoring", "minoring"]'
            )
        if thresholds is not None:
            inner = sorted(_check_thresholds(thresholds))
            num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds, (int, np.integer)) or num_thresholds <= 1:
                raise ValueError(f"Argument `num_thresholds` must be an integer > 1. Received: num_thresholds={num_thresholds!r}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        super().__init__([0.0 - _EPSILON] + inner + [1.0 + _EPSILON], None, name, dtype)
        self.num_thresholds = int(num_thresholds)
        self.curve = str(curve).upper()
        self.summation_method = str(summation_method).lower()
        self.init_thresholds = thresholds
        self.from_logits = bool(from_logits)

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-_as_array(y_pred, np.float64)))
        super().update_state(y_true, y_pred, sample_weight)

    def _interpolate_pr_auc(self) -> float:
        tp, fp, _, fn = self._counts()
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - prec_slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        safe_p_ratio = np.where(both_positive, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _divide_no_nan(prec_slope * (dtp + intercept * np.log(safe_p_ratio)),
                                    np.maximum(tp[1:] + fn[1:], 0))
        return float(np.sum(increments))

    def result(self) -> float:
        tp, fp, tn, fn = self._counts()
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    def get_config(self):
        return dict(super().get_config(), num_thresholds=self.num_thresholds, curve=self.curve,
                    summation_method=self.summation_method, thresholds=self.init_thresholds,
                    from_logits=self.from_logits)
