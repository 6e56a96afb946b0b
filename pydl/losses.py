"""Loss classes and `get`: callables ``loss(y_true, y_pred, sample_weight=None) -> scalar``.

The built-in classes wrap the differentiable loss functions of `pydl.ops` (one
fused core call each, value and gradient together); the functions themselves
are re-exported here as in Keras (`pydl.losses.mean_squared_error`, ...).
A custom loss subclasses `Loss` and implements ``call(y_true, y_pred)`` returning
per-sample losses written with `pydl.ops`; the base class does the reduction.
"""

from __future__ import annotations

import re

import numpy as np

from . import ops
from .ops import (binary_crossentropy, categorical_crossentropy, huber, mean_absolute_error,  # noqa: F401
                  mean_squared_error, sparse_categorical_crossentropy)
from .ops.losses import (categorical_hinge, cosine_similarity, hinge, kl_divergence,  # noqa: F401
                         log_cosh, mean_absolute_percentage_error,
                         mean_squared_logarithmic_error, poisson, squared_hinge)

_REDUCTIONS = ("sum_over_batch_size",)


def _snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


class Loss:
    """Base class of the losses (Keras 3).

    ```python
    values = self.call(y_true, y_pred)           # per-sample (or per-element) losses
    loss = sum(values * sample_weight) / values.size   # "sum_over_batch_size"
    ```

    Args:
        name: the loss's name; the class name in snake case when None.
        reduction: only "sum_over_batch_size" (Keras' default).
        dtype: accepted for Keras compatibility; the dtype follows y_pred.
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction: expected one of {list(_REDUCTIONS)}, received {reduction!r}")
        self.name = name or _snake_case(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None):
        values = self.call(y_true, y_pred)
        if sample_weight is not None:
            weight = np.asarray(sample_weight)
            shape = np.shape(values)
            if weight.ndim < len(shape):  # one weight per sample, broadcast over the other axes
                weight = weight.reshape(weight.shape + (1,) * (len(shape) - weight.ndim))
            values = ops.multiply(values, weight.astype(np.asarray(values).dtype))
        size = int(np.prod(np.shape(values)))
        return ops.divide(ops.sum(values), float(max(size, 1)))

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


class _CoreLoss(Loss):
    """A built-in loss: one call of a `pydl.ops` loss function. `kind` names the core kernel."""

    kind = ""
    _function = None

    def _options(self) -> dict:
        return {}

    def _targets(self, y_true, y_pred):
        return y_true

    def __call__(self, y_true, y_pred, sample_weight=None):
        fn = type(self)._function
        return fn(self._targets(y_true, y_pred), y_pred, sample_weight=sample_weight, **self._options())

    def call(self, y_true, y_pred):
        raise NotImplementedError(
            f"{type(self).__name__} computes the reduced loss in one fused call; use loss(y_true, y_pred)"
        )

    def _plan_loss(self):
        """(kind, from_logits, delta) of the core loss kernel this loss is, for the fused
        plan; a str saying why not when it is something else (label smoothing, another
        reduction, a subclass of its own)."""
        if type(self).__call__ is not _CoreLoss.__call__:
            return f"the loss {self.name!r} computes its own value"
        if getattr(self, "label_smoothing", 0.0):
            return "label_smoothing is not fused"
        if self.reduction != "sum_over_batch_size":
            return f"reduction {self.reduction!r} is not fused"
        options = self._options()
        return (type(self).kind, bool(options.get("from_logits", False)),
                float(options.get("delta", 1.0)))


class MeanSquaredError(_CoreLoss):
    """``mean((y_true - y_pred)**2, axis=-1)`` per sample, averaged over the batch."""

    kind = "mse"
    _function = staticmethod(mean_squared_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(_CoreLoss):
    """``mean(|y_true - y_pred|, axis=-1)`` per sample, averaged over the batch."""

    kind = "mae"
    _function = staticmethod(mean_absolute_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class Huber(_CoreLoss):
    """Huber loss: ``0.5 * e**2`` for ``|e| <= delta``, ``delta * (|e| - 0.5 * delta)`` beyond.

    Args:
        delta: where the loss turns from quadratic to linear (> 0).
    """

    kind = "huber"
    _function = staticmethod(huber)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not isinstance(delta, (int, float)) or isinstance(delta, bool) or not delta > 0:
            raise ValueError(f"delta: expected a number > 0, received {delta!r}")
        self.delta = float(delta)

    def _options(self):
        return {"delta": self.delta}

    def get_config(self):
        return dict(super().get_config(), delta=self.delta)


def _smooth(y_true, label_smoothing: float, num_classes: int | None, dtype):
    y = np.asarray(getattr(y_true, "value", y_true), dtype=dtype)
    if num_classes is None:  # binary: towards 0.5
        return y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return y * (1.0 - label_smoothing) + label_smoothing / num_classes


def _check_smoothing(label_smoothing) -> float:
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) or not 0 <= label_smoothing <= 1:
        raise ValueError(f"label_smoothing: expected a number in [0, 1], received {label_smoothing!r}")
    return float(label_smoothing)


class _SmoothedCrossentropy(_CoreLoss):
    """A cross-entropy with `from_logits` and `label_smoothing` (binary or categorical)."""

    def __init__(self, from_logits=False, label_smoothing=0.0, reduction="sum_over_batch_size",
                 name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)

    def _smoothing_classes(self, y_pred):
        """Classes the smoothed mass is spread over (None: the binary 0.5 rule)."""
        raise NotImplementedError

    def _options(self):
        return {"from_logits": self.from_logits}

    def _targets(self, y_true, y_pred):
        if not self.label_smoothing:
            return y_true
        return _smooth(y_true, self.label_smoothing, self._smoothing_classes(y_pred),
                       np.asarray(y_pred).dtype)

    def get_config(self):
        return dict(super().get_config(), from_logits=self.from_logits, label_smoothing=self.label_smoothing)


class BinaryCrossentropy(_SmoothedCrossentropy):
    """``-mean(y * log(p) + (1 - y) * log(1 - p), axis=-1)``; p clipped to [1e-7, 1 - 1e-7].

    Args:
        from_logits: `y_pred` are logits (a sigmoid is applied inside, stably).
        label_smoothing: targets become ``y * (1 - label_smoothing) + 0.5 * label_smoothing``.
    """

    kind = "binary_crossentropy"
    _function = staticmethod(binary_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, reduction="sum_over_batch_size",
                 name="binary_crossentropy", dtype=None):
        super().__init__(from_logits, label_smoothing, reduction, name, dtype)

    def _smoothing_classes(self, y_pred):
        return None


class CategoricalCrossentropy(_SmoothedCrossentropy):
    """``-sum(y * log(p), axis=-1)`` with one-hot (or soft) targets y.

    Args:
        from_logits: `y_pred` are logits (a softmax is applied inside, stably).
        label_smoothing: targets become ``y * (1 - label_smoothing) + label_smoothing / classes``.
    """

    kind = "categorical_crossentropy"
    _function = staticmethod(categorical_crossentropy)

    def __init__(self, from_logits=False, label_smoothing=0.0, reduction="sum_over_batch_size",
                 name="categorical_crossentropy", dtype=None):
        super().__init__(from_logits, label_smoothing, reduction, name, dtype)

    def _smoothing_classes(self, y_pred):
        return np.shape(y_pred)[-1]


class SparseCategoricalCrossentropy(_CoreLoss):
    """``-log(p[y])`` with integer class indices y (shape (B,) or (B, 1)).

    Args:
        from_logits: `y_pred` are logits (a softmax is applied inside, stably).
    """

    kind = "sparse_categorical_crossentropy"
    _function = staticmethod(sparse_categorical_crossentropy)

    def __init__(self, from_logits=False, reduction="sum_over_batch_size", name="sparse_categorical_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)

    def _options(self):
        return {"from_logits": self.from_logits}

    def get_config(self):
        return dict(super().get_config(), from_logits=self.from_logits)


# --------------------------------------------------------------------------- second milestone
class _PlainCoreLoss(_CoreLoss):
    """A built-in loss without options of its own: ``__init__(reduction, name, dtype)``."""

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)


class KLDivergence(_PlainCoreLoss):
    """Kullback-Leibler divergence: ``sum(t * log(t / p), axis=-1)``, t and p clipped to [1e-7, 1]."""

    kind = "kl_divergence"
    _function = staticmethod(kl_divergence)

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(reduction, name, dtype)


class Poisson(_PlainCoreLoss):
    """Poisson loss: ``mean(p - t * log(p + 1e-7), axis=-1)``."""

    kind = "poisson"
    _function = staticmethod(poisson)

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(reduction, name, dtype)


class LogCosh(_PlainCoreLoss):
    """``mean(log(cosh(p - t)), axis=-1)``: about ``e**2 / 2`` for small errors, ``|e| - log 2`` for large."""

    kind = "log_cosh"
    _function = staticmethod(log_cosh)

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(reduction, name, dtype)


class Hinge(_PlainCoreLoss):
    """``mean(maximum(1 - t * p, 0), axis=-1)``; targets of 0/1 become -1/1 (when all are 0 or 1)."""

    kind = "hinge"
    _function = staticmethod(hinge)

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class SquaredHinge(_PlainCoreLoss):
    """``mean(maximum(1 - t * p, 0) ** 2, axis=-1)``; targets of 0/1 become -1/1 as in `Hinge`."""

    kind = "squared_hinge"
    _function = staticmethod(squared_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class CategoricalHinge(_PlainCoreLoss):
    """``maximum(max((1 - t) * p) - sum(t * p) + 1, 0)`` per sample (one-hot targets t)."""

    kind = "categorical_hinge"
    _function = staticmethod(categorical_hinge)

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(reduction, name, dtype)


class CosineSimilarity(_CoreLoss):
    """``-sum(l2_normalize(t) * l2_normalize(p), axis=-1)``: -1 for the same direction, 0 orthogonal.

    Args:
        axis: the axis the similarity runs along; only -1 (the last) is supported.
    """

    kind = "cosine_similarity"
    _function = staticmethod(cosine_similarity)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None):
        if axis != -1:
            raise ValueError(f"axis: only -1 (the last axis) is supported, received axis={axis!r}")
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = -1

    def get_config(self):
        return dict(super().get_config(), axis=self.axis)


class MeanSquaredLogarithmicError(_PlainCoreLoss):
    """``mean((log(max(p, eps) + 1) - log(max(t, eps) + 1)) ** 2, axis=-1)``, eps = 1e-7."""

    kind = "msle"
    _function = staticmethod(mean_squared_logarithmic_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(reduction, name, dtype)


class MeanAbsolutePercentageError(_PlainCoreLoss):
    """``100 * mean(|(t - p) / max(|t|, eps)|, axis=-1)``, eps = 1e-7."""

    kind = "mape"
    _function = staticmethod(mean_absolute_percentage_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(reduction, name, dtype)


_BY_NAME = {
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "poisson": Poisson,
    "log_cosh": LogCosh,
    "logcosh": LogCosh,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
    "cosine_similarity": CosineSimilarity,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
}
_CLASSES = {cls.__name__: cls for cls in (MeanSquaredError, MeanAbsoluteError, Huber, BinaryCrossentropy,
                                          CategoricalCrossentropy, SparseCategoricalCrossentropy,
                                          KLDivergence, Poisson, LogCosh, Hinge, SquaredHinge,
                                          CategoricalHinge, CosineSimilarity,
                                          MeanSquaredLogarithmicError, MeanAbsolutePercentageError)}


def serialize(loss: Loss) -> dict:
    """``{"class_name": ..., "config": ...}`` of a loss object."""
    if not isinstance(loss, Loss):
        raise TypeError(f"loss: expected a pydl.losses.Loss, received {type(loss).__name__}")
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Loss:
    """Inverse of `serialize`; `custom_objects` maps class names to user loss classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"config: expected a dict with 'class_name' and 'config', received {config!r}")
    classes = dict(_CLASSES, **(custom_objects or {}))
    cls = classes.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown loss class: {config['class_name']!r}. Known: {sorted(classes)}")
    return cls.from_config(dict(config.get("config", {})))


def get(identifier):
    """A loss from a name (see the table of api.md), a class name, a config dict, a Loss, or a function.

    Strings give a new loss object ("mse" -> MeanSquaredError()); functions and Loss objects are
    returned as they are.
    """
    if isinstance(identifier, Loss) or (callable(identifier) and not isinstance(identifier, type)):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Unknown loss: {identifier!r}. Expected one of {sorted(_BY_NAME)} (or a class name "
                f"among {sorted(_CLASSES)}), a Loss object or a function (y_true, y_pred)."
            )
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")
