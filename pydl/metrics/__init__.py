"""Metrics: stateful, sample-weighted accumulations over batches (Keras 3 semantics).

    m = pydl.metrics.SparseCategoricalAccuracy()
    for x, y in batches:
        m.update_state(y, model.predict_on_batch(x))
    m.result()

One family per module: `metric` (the `Metric` base, with Keras 3's custom-metric
API: `add_variable` / `add_weight`, `variables`, `reset_state`), `reduction_metrics`
(Mean, MeanMetricWrapper), `accuracy_metrics`, `regression_metrics`,
`confusion_metrics` (Precision, Recall, AUC), `f_score_metrics`; `_get` resolves
names ("accuracy" against the loss, as Keras).
"""

from ._get import _ACCURACY_BY_LOSS, _BY_NAME, _CLASSES, get, serialize  # noqa: F401
from .accuracy_metrics import (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                               SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy,
                               binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
                               sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .confusion_metrics import AUC, Precision, Recall
from .f_score_metrics import F1Score, FBetaScore
from .metric import Metric
from .reduction_metrics import Mean, MeanMetricWrapper
from .regression_metrics import (MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
                                 R2Score, RootMeanSquaredError, mean_absolute_error,
                                 mean_absolute_percentage_error, mean_squared_error)

__all__ = [
    "AUC", "BinaryAccuracy", "CategoricalAccuracy", "F1Score", "FBetaScore", "Mean",
    "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanMetricWrapper", "MeanSquaredError",
    "Metric", "Precision", "R2Score", "Recall", "RootMeanSquaredError",
    "SparseCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "TopKCategoricalAccuracy",
    "binary_accuracy", "categorical_accuracy", "get", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "serialize",
    "sparse_categorical_accuracy", "sparse_top_k_categorical_accuracy",
    "top_k_categorical_accuracy",
]
