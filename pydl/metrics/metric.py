"""`Metric`, the base class of every metric, and the array helpers the metrics share.

Built-in metrics compute in NumPy with float64 state: they run once per batch on
data the model already produced, outside the hot path. A metric's state lives in
Variables made with `add_variable` (Keras 3's custom-metric API), so
`reset_state` and `variables` work the same for built-in and custom metrics.
"""

from __future__ import annotations

import re

import numpy as np

from .. import initializers
from ..variable import Variable

_EPSILON = 1e-7  # Keras' backend.epsilon(), used for AUC's end thresholds
_AGGREGATIONS = ("none", "mean", "sum", "only_first_replica")  # Keras 3's


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


class Metric:
    """Base class: ``update_state(y_true, y_pred, sample_weight=None)``, ``result()``, ``reset_state()``.

    A custom metric keeps its state in variables, as in Keras 3:

    ```python
    class RootMeanSquaredError(pydl.metrics.Metric):
        def __init__(self, name="rmse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.mse_sum = self.add_weight(name="mse_sum", initializer="zeros")
            self.total_samples = self.add_weight(name="total_samples", initializer="zeros")
        def update_state(self, y_true, y_pred, sample_weight=None):
            self.mse_sum.assign_add(ops.sum(ops.square(y_true - y_pred)))
            self.total_samples.assign_add(len(y_pred))
        def result(self):
            return ops.sqrt(self.mse_sum / self.total_samples)
    ```
    ``metric(y_true, y_pred)`` updates the state and returns the result. The default
    `reset_state` sets every variable (`variables`: this metric's, then those of the
    metrics it holds as attributes) to zeros. `_direction` ("up", "down", or None:
    unknown) tells callbacks in mode "auto" which way is better.

    Args:
        name: the name used in logs; the class name in snake case when None.
        dtype: the default dtype of the state variables ("float32" when None).
    """

    _direction = None

    def __init__(self, name=None, dtype=None):
        object.__setattr__(self, "_variables", [])
        object.__setattr__(self, "_metrics", [])
        object.__setattr__(self, "_aggregations", {})  # id(variable) -> add_variable's
        self.name = name or _snake_case(type(self).__name__)
        self.dtype = dtype

    def __setattr__(self, name, value):
        # Metrics and Variables held as attributes are tracked (Keras' Tracker).
        tracked = self.__dict__.get("_metrics")
        if tracked is not None:
            if isinstance(value, Metric) and value is not self and \
                    all(m is not value for m in tracked):
                tracked.append(value)
            elif isinstance(value, Variable) and \
                    all(v is not value for v in self._variables):
                self._variables.append(value)
        object.__setattr__(self, name, value)

    def _require_init(self) -> None:
        if "_variables" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() in __init__ "
                               "before creating variables")

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        """A state Variable (not trainable) tracked by this metric (Keras 3).

        Args:
            shape: its shape (a tuple; () for a scalar).
            initializer: a name ("zeros", ...), an Initializer or a callable.
            dtype: default the metric's dtype, "float32" when None.
            aggregation: how a data-parallel world combines the processes' values
                (pydl.distribution): "sum" (default), "mean", or "only_first_replica" /
                "none" (rank 0's).
            name: the variable's name.
        """
        self._require_init()
        if aggregation not in _AGGREGATIONS:
            raise ValueError(f"add_variable: aggregation must be one of {_AGGREGATIONS}. "
                             f"Received: aggregation={aggregation!r}")
        dtype = np.dtype(dtype or self.dtype or "float32")
        shape = () if shape is None else tuple(int(n) for n in shape)
        init = initializers.get("zeros" if initializer is None else initializer)
        if not callable(init):
            raise TypeError(f"add_variable: initializer must be a name or a callable, "
                            f"received {initializer!r}")
        value = init(shape, dtype=dtype if dtype.kind == "f" else "float64")
        variable = Variable(np.asarray(value).astype(dtype), trainable=False, dtype=dtype,
                            name=name or f"variable_{len(self._variables)}")
        variable.path = f"{self.name}/{variable.name}"
        self._variables.append(variable)
        self.__dict__.setdefault("_aggregations", {})[id(variable)] = aggregation
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        """`add_variable` with Keras' defaults for a scalar state ("zeros")."""
        return self.add_variable(shape=shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self) -> list:
        """The state Variables: this metric's (creation order), then its sub-metrics'."""
        out = list(self.__dict__.get("_variables", ()))
        for metric in self.__dict__.get("_metrics", ()):
            out.extend(metric.variables)
        return out

    def update_state(self, *args, **kwargs) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement update_state")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result")

    def reset_state(self) -> None:
        """Sets every state variable to zeros (as Keras 3)."""
        for v in self.variables:
            v.assign(np.zeros(v.value.shape, dtype=v.value.dtype))

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
