"""Metrics: stateful, sample-weighted accumulations over batches (Keras 3 semantics).

    m = pydl.metrics.SparseCategoricalAccuracy()
    for x, y in batches:
        m.update_state(y, model.predict_on_batch(x))
    m.result()

Metrics are computed in NumPy (float64 accumulators): they run once per batch on
data the model already produced, outside the hot path.
"""

from __future__ import annotations

import re

import numpy as np

_EPSILON = 1e-7  # Keras' backend.epsilon(), used for AUC's end thresholds


def _as_array(x, dtype=None) -> np.ndarray:
    x = x.numpy() if hasattr(x, "numpy") and not isinstance(x, np.ndarray) else x
    return np.asarray(x, dtype=dtype)


def _squeeze_or_expand(x1: np.ndarray, x2: np.ndarray, expand_rank_1: bool = True):
    """Keras' squeeze_or_expand_to_same_rank: fixes a rank difference of 1 from a trailing axis of size 1."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _divide_no_nan(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


# --------------------------------------------------------------------------- base classes
class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None)``, ``result()``, ``reset_state()``.

    ``metric(y_true, y_pred)`` updates the state and returns the result, as Keras 3.
    `_direction` ("up", "down", or None: unknown) tells callbacks in mode "auto" which way is better.

    Args:
        name: the name used in logs; the class name in snake case when None.
        dtype: accepted for Keras compatibility; results are Python floats.
    """

    _direction = None

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = dtype

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement reset_state")

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight=None)``.

    ```python
    # values (B, ...) are first averaged to one value per sample (as far as the weight's rank)
    total += sum(w_i * v_i);  count += sum(w_i)     # w = 1 without sample_weight
    result = total / count                          # 0 when count == 0
    ```
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None) -> None:
        values = _as_array(values, np.float64)
        if sample_weight is None:
            if values.ndim > 1:
                values = values.mean(axis=tuple(range(1, values.ndim)))
            self.total += float(values.sum())
            self.count += values.shape[0] if values.ndim >= 1 else 1
            return
        weight = _as_array(sample_weight, np.float64)
        values, weight = _squeeze_or_expand(values, weight)
        values_ndim, weight_ndim = values.ndim, weight.ndim
        if values_ndim > weight_ndim:  # average the values down to the weight's rank
            values = values.mean(axis=tuple(range(weight_ndim, values_ndim)))
        try:
            weight = np.broadcast_to(weight, values.shape)
        except ValueError:
            raise ValueError(
                f"sample_weight: expected a shape that broadcasts to the values' {values.shape}, "
                f"received {np.shape(sample_weight)}"
            ) from None
        values = values * weight
        if values_ndim > 1:
            weight = weight.mean(axis=tuple(range(1, weight_ndim)))
        if values.ndim > 1:
            values = values.mean(axis=tuple(range(1, values.ndim)))
        self.total += float(values.sum())
        self.count += float(weight.sum())

    def result(self) -> float:
        return self.total / self.count if self.count != 0 else 0.0


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` over samples (weighted).

    Args:
        fn: a function returning per-sample (or per-element) values.
        name: the name in logs; ``fn.__name__`` when None.
        **kwargs: passed on to `fn`.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"fn: expected a callable, received {type(fn).__name__}")
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        values = self._fn(_as_array(y_true), _as_array(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        return dict(super().get_config(), **self._fn_kwargs)


# --------------------------------------------------------------------------- per-sample functions
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


def mean_squared_error(y_true, y_pred) -> np.ndarray:
    """``mean((y_true - y_pred)**2, axis=-1)`` per sample."""
    y_true, y_pred = _squeeze_or_expand(_as_array(y_true, np.float64), _as_array(y_pred, np.float64))
    return np.mean(np.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred) -> np.ndarray:
    """``mean(|y_true - y_pred|, axis=-1)`` per sample."""
    y_true, y_pred = _squeeze_or_expand(_as_array(y_true, np.float64), _as_array(y_pred, np.float64))
    return np.mean(np.abs(y_true - y_pred), axis=-1)


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


# --------------------------------------------------------------------------- confusion-matrix metrics
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
        self.reset_state()

    def reset_state(self) -> None:
        n = len(self.thresholds)
        self.true_positives = np.zeros(n)
        self.false_positives = np.zeros(n)
        self.true_negatives = np.zeros(n)
        self.false_negatives = np.zeros(n)

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
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += pos_total - tp
        self.true_negatives += neg_total - fp

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
        values = _divide_no_nan(self.true_positives, self.true_positives + self.false_positives)
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
        values = _divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
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
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
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
        tp, fp, tn, fn = self.true_positives, self.false_positives, self.true_negatives, self.false_negatives
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


# --------------------------------------------------------------------------- get
_BY_NAME = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError,
    "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision,
    "recall": Recall,
    "auc": AUC,
    "mean": Mean,
}
_CLASSES = {cls.__name__: cls for cls in (Mean, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                                          MeanSquaredError, MeanAbsoluteError, Precision, Recall, AUC)}
_ACCURACY_BY_LOSS = {
    "binary_crossentropy": BinaryAccuracy,
    "categorical_crossentropy": CategoricalAccuracy,
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
}


def _loss_name(loss) -> str | None:
    if loss is None:
        return None
    if isinstance(loss, str):
        return loss.lower()
    if isinstance(loss, type):
        return _snake_case(loss.__name__)
    if hasattr(loss, "__name__"):  # a function such as pydl.losses.binary_crossentropy
        return loss.__name__
    return _snake_case(type(loss).__name__)  # an object such as pydl.losses.BinaryCrossentropy()


def _accuracy_class(loss, output_shape, target_shape):
    by_loss = _ACCURACY_BY_LOSS.get(_loss_name(loss))
    if by_loss is not None:
        return by_loss
    if output_shape is not None and len(output_shape) and output_shape[-1] == 1:
        return BinaryAccuracy
    if output_shape is not None and target_shape is not None:
        lower_rank = len(target_shape) < len(output_shape)
        if lower_rank or (len(target_shape) and target_shape[-1] == 1 and output_shape[-1] != 1):
            return SparseCategoricalAccuracy
    return CategoricalAccuracy


def get(identifier, loss=None, output_shape=None, target_shape=None) -> Metric:
    """A metric from a name, a Metric instance or class, a function, or a config dict.

    "accuracy" / "acc" resolve as Keras does: by the loss first (binary_crossentropy -> binary,
    categorical_crossentropy -> categorical, sparse_categorical_crossentropy -> sparse
    categorical), else by shapes (a last output axis of 1 -> binary; targets of lower rank or with
    a last axis of 1 -> sparse categorical; otherwise categorical). A metric made from a string is
    named by that string in logs ("accuracy", "mse", ...).

    Args:
        identifier: the metric.
        loss: the model's loss (a string, loss object or function), to resolve "accuracy".
        output_shape: shape of the model's output (y_pred).
        target_shape: shape of the targets (y_true).
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return _accuracy_class(loss, output_shape, target_shape)(name=identifier)
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown metric: {identifier!r}. Expected one of {['accuracy', 'acc', *_BY_NAME]}, "
                f"a class name among {sorted(_CLASSES)}, a Metric, or a function (y_true, y_pred)."
            )
        return cls(name=identifier) if identifier in _BY_NAME else cls()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Unknown metric class: {identifier['class_name']!r}. Known: {sorted(_CLASSES)}")
        return cls.from_config(dict(identifier.get("config", {})))
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric: Metric) -> dict:
    """``{"class_name": ..., "config": ...}`` of a built-in metric."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}
