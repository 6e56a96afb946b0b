"""Reduction metrics: `Mean` (weighted running mean) and `MeanMetricWrapper` (mean of a function)."""

from __future__ import annotations

import numpy as np

from .metric import Metric, _as_array, _squeeze_or_expand


class Mean(Metric):
    """The (weighted) mean of the values given to ``update_state(values, sample_weight=None)``.

    ```python
    # values (B, ...) are first averaged to one value per sample (as far as the weight's rank)
    total += sum(w_i * v_i);  count += sum(w_i)     # w = 1 without sample_weight
    result = total / count                          # 0 when count == 0
    ```
    The state is two float64 variables, `total` and `count`.
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", dtype="float64", name="total")
        self.count = self.add_variable((), "zeros", dtype="float64", name="count")

    def update_state(self, values, sample_weight=None) -> None:
        values = _as_array(values, np.float64)
        if sample_weight is None:
            if values.ndim > 1:
                values = values.mean(axis=tuple(range(1, values.ndim)))
            self.total.assign_add(float(values.sum()))
            self.count.assign_add(values.shape[0] if values.ndim >= 1 else 1)
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
        self.total.assign_add(float(values.sum()))
        self.count.assign_add(float(weight.sum()))

    def result(self) -> float:
        total, count = float(self.total.value), float(self.count.value)
        return total / count if count != 0 else 0.0


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
