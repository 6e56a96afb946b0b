"""Metric lookup: names and classes, "accuracy" resolution against the loss, `get`, `serialize`."""

from __future__ import annotations

from .accuracy_metrics import (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                               SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy)
from .confusion_metrics import AUC, Precision, Recall
from .f_score_metrics import F1Score, FBetaScore
from .metric import Metric, _snake_case
from .reduction_metrics import Mean, MeanMetricWrapper
from .regression_metrics import (MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                                 R2Score, RootMeanSquaredError)

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
_BY_NAME.update({  # second milestone: Keras' snake-case class names and aliases
    "f1_score": F1Score,
    "f_beta_score": FBetaScore,
    "fbeta_score": FBetaScore,
    "r2_score": R2Score,
    "root_mean_squared_error": RootMeanSquaredError,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
})
_CLASSES = {cls.__name__: cls for cls in (
    Mean, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, Precision, Recall, AUC, F1Score, FBetaScore, R2Score, RootMeanSquaredError,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanAbsolutePercentageError)}
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
