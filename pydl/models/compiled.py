"""``compile`` and the running loss / metrics of a compiled model.

``compile`` resolves strings through ``pydl.optimizers.get``, ``pydl.losses.get``
and ``pydl.metrics.get``; metrics are resolved on the first data, because
"accuracy" depends on the output and target shapes (as in Keras 3). The running
loss is the batch-size-weighted mean of the step losses since the last reset.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import data


def _name_of(identifier, obj) -> str:
    if isinstance(identifier, str):
        return identifier
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return name
    return getattr(obj, "__name__", type(obj).__name__)


class RunningMean:
    """The batch-size-weighted mean of the step losses (Keras' loss tracker). Its own
    object, so that a step's update does not go through Layer.__setattr__."""

    __slots__ = ("total", "count")

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.total = 0.0
        self.count = 0

    def add(self, value: float, weight: int) -> None:
        self.total += value * weight
        self.count += weight

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")


class VariableList:
    """A list of Variables kept by the trainer. Not a Python list on purpose: Layer
    tracks Variables found in attribute lists as the layer's own, and these are
    the sublayers' (their penalties would count twice)."""

    __slots__ = ("items",)

    def __init__(self, items=()):
        self.items = list(items)


class CompiledState:
    """What ``compile`` sets on a model, and the metrics it keeps up to date."""

    def _reset_compile_state(self) -> None:
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_fn = None
        self._loss_weight = 1.0
        self._metric_specs = []  # [(identifier, weighted)] as compiled
        self._metrics = []  # [(log name, metric, weighted)], resolved on first data
        self._compile_config = None
        self.steps_per_execution = 1
        self._loss_mean = RunningMean()
        self._train_step = self._tape_train_step
        self._step_penalties = True
        self._step_variables = VariableList()

    # -- compile -------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures training: optimizer, loss and metrics (strings or objects).

        Args:
            optimizer: name ("rmsprop", "adam", "sgd", ...) or a pydl optimizer.
            loss: name ("mse", "sparse_categorical_crossentropy", ...), a
                ``pydl.losses`` object or a function ``f(y_true, y_pred)``.
            metrics: list of names ("accuracy", "mae", ...) or metric objects;
                updated without sample weights, as Keras 3 does.
            loss_weights: a float scaling the loss (one output).
            weighted_metrics: metrics updated with sample/class weights.
            run_eagerly, jit_compile, auto_scale_loss: accepted for Keras
                compatibility; pydl always runs eagerly on its core.
            steps_per_execution: training steps a fused core plan runs per call.
        """
        from .. import losses, metrics as metrics_module, optimizers

        self._reset_compile_state()
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self._loss_fn = None if loss is None else losses.get(loss)
        self._loss_weight = self._check_loss_weights(loss_weights)
        self.steps_per_execution = data.check_positive_int("steps_per_execution",
                                                           steps_per_execution)
        self._metric_specs = []
        for specs, weighted in ((metrics, False), (weighted_metrics, True)):
            if specs is None:
                continue
            if isinstance(specs, (str, dict)) or not isinstance(specs, (list, tuple)):
                raise TypeError(f"{'weighted_metrics' if weighted else 'metrics'}: expected a "
                                f"list, received {specs!r}")
            for spec in specs:
                metrics_module.get(spec, loss=loss)  # unknown names fail here, at once
                self._metric_specs.append((spec, weighted))
        # Resolved on the first data ("accuracy" depends on output and target shapes).
        self._metrics = None
        self._compile_config = {
            "loss": loss, "metrics": metrics, "loss_weights": loss_weights,
            "weighted_metrics": weighted_metrics, "steps_per_execution": steps_per_execution,
        }
        self.compiled = True

    @staticmethod
    def _check_loss_weights(loss_weights) -> float:
        if loss_weights is None:
            return 1.0
        value = loss_weights
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]
        elif isinstance(value, dict) and len(value) == 1:
            value = next(iter(value.values()))
        if isinstance(value, bool) or not isinstance(value, numbers.Real) \
                or not math.isfinite(value):
            raise ValueError("loss_weights: expected a finite float (one output), "
                             f"received loss_weights={loss_weights!r}")
        return float(value)

    def _require_compiled(self, what: str) -> None:
        if not self.compiled or self._loss_fn is None:
            raise RuntimeError(
                f"{what}: the model must be compiled with a loss first: "
                f"model.compile(optimizer=..., loss=...)"
            )

    def _build_metrics(self, y: np.ndarray, output_shape: tuple) -> None:
        from .. import metrics as metrics_module

        built = []
        for spec, weighted in self._metric_specs:
            metric = metrics_module.get(spec, loss=self.loss, output_shape=tuple(output_shape),
                                        target_shape=(None,) + y.shape[1:])
            name = _name_of(spec, metric)
            if weighted and any(n == name for n, _, _ in built):
                name = "weighted_" + name
            built.append((name, metric, weighted))
        self._metrics = built

    @property
    def metrics(self) -> list:
        """The compiled metric objects (resolved on the first data)."""
        return [metric for _, metric, _ in self._metrics or ()]

    @property
    def metrics_names(self) -> list:
        if self._metrics is None:
            return ["loss"] + [_name_of(spec, spec) for spec, _ in self._metric_specs]
        return ["loss"] + [name for name, _, _ in self._metrics]

    # -- running loss and metrics ----------------------------------------------
    def reset_metrics(self) -> None:
        self._loss_mean.reset()
        for _, metric, _ in self._metrics or ():
            metric.reset_state()

    def _update_metrics(self, loss: float, y, y_pred, sample_weight) -> None:
        n = y.shape[0]
        self._loss_mean.add(loss, n)
        for _, metric, weighted in self._metrics:
            metric.update_state(y, y_pred, sample_weight=sample_weight if weighted else None)

    def _logs(self) -> dict:
        logs = {"loss": self._loss_mean.result()}
        for name, metric, _ in self._metrics:
            logs[name] = float(metric.result())
        return logs
