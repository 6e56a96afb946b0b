"""``compile`` and what it leaves on a model: optimizer, losses, metrics, trackers.

``compile`` resolves strings through ``pydl.optimizers.get``, ``pydl.losses.get``
and ``pydl.metrics.get``. The per-output losses and metrics (compile_utils.py)
are built once the model's outputs are known: at compile time for a model with a
graph (Sequential, Functional), on the first data otherwise; "accuracy" is
resolved on the first data, since it depends on the output and target shapes (as
in Keras 3).
"""

from __future__ import annotations

from . import data
from .compile_utils import CompileLoss, CompileMetrics, LossTracker


class CompiledState:
    """What ``compile`` sets on a model, and the metrics it keeps up to date."""

    def _reset_compile_state(self) -> None:
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._compile_config = None
        self._compile_args = None  # (loss, loss_weights, metrics, weighted_metrics)
        self._compile_loss = None
        self._compile_metrics = None
        self._loss_tracker = None
        self.steps_per_execution = 1
        self._step_penalties = True   # compute_loss adds self.losses (known per fit call)
        self._step_variables = None   # the trainable weights of this fit call (data.VariableList)

    # -- compile -------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configures training: optimizer, losses and metrics (strings or objects).

        Args:
            optimizer: name ("rmsprop", "adam", "sgd", ...) or a pydl optimizer.
            loss: name ("mse", "sparse_categorical_crossentropy", ...), a
                ``pydl.losses`` object or a function ``f(y_true, y_pred)``; for a
                model with several outputs, one for all, a list (one per output,
                None for none) or a dict keyed by output name. May be omitted by a
                model that overrides ``train_step``.
            loss_weights: a float, or a list / dict by output name: the total loss
                is the weighted sum of the outputs' losses.
            metrics: a list of names ("accuracy", "mae", ...) or metric objects
                (each output gets them all), or a list of lists / a dict by output
                name; updated without sample weights, as Keras 3 does.
            weighted_metrics: metrics updated with sample/class weights.
            run_eagerly, jit_compile, auto_scale_loss: accepted for Keras
                compatibility; pydl always runs eagerly on its core.
            steps_per_execution: training steps run between two callback calls
                (a fused core plan runs them in one call).
        """
        from .. import optimizers

        self._reset_compile_state()
        self.optimizer = optimizers.get(optimizer)
        self.loss = loss
        self.steps_per_execution = data.check_positive_int("steps_per_execution",
                                                           steps_per_execution)
        if loss_weights is not None and not isinstance(loss_weights, (int, float, list, tuple,
                                                                      dict)) \
                or isinstance(loss_weights, bool):
            raise ValueError("loss_weights: expected a float (one output), or a list or dict "
                             f"(several outputs), received {loss_weights!r}")
        self._compile_args = (loss, loss_weights, metrics, weighted_metrics)
        self._loss_tracker = LossTracker("loss")
        self._compile_config = {
            "loss": loss, "metrics": metrics, "loss_weights": loss_weights,
            "weighted_metrics": weighted_metrics, "steps_per_execution": steps_per_execution,
        }
        self.compiled = True
        names = self._known_output_names()
        if names is not None:
            self._build_compile_state(names)

    def _known_output_names(self):
        """The flat output names when the model knows its outputs before data, else None:
        the keys of outputs given as a dict (Keras 3 prefers them), else the names of the
        layers that make them."""
        names = getattr(self, "output_names", None)
        if not names:
            return None
        try:
            structure = self.output
        except (AttributeError, ValueError):
            structure = None
        if isinstance(structure, dict) and len(structure) == len(names):
            return sorted(structure)
        return list(names)

    def _build_compile_state(self, output_names: list) -> None:
        """The per-output losses and metrics, once the outputs are known."""
        loss, loss_weights, metrics, weighted_metrics = self._compile_args
        self._compile_loss = None if loss is None else \
            CompileLoss(loss, loss_weights, output_names)
        loss_specs = self._compile_loss.specs if self._compile_loss is not None else \
            [None] * len(output_names)
        self._compile_metrics = CompileMetrics(metrics, weighted_metrics, output_names,
                                               loss_specs)

    def _require_compiled(self, what: str) -> None:
        if not self.compiled:
            raise ValueError(f"{what}: you must call compile() before using the model: "
                             "model.compile(optimizer=..., loss=...)")

    # -- metrics ---------------------------------------------------------------
    def _compiled_metrics(self) -> list:
        """The loss tracker, the compiled metrics and the per-output loss trackers."""
        if not self.compiled or self._loss_tracker is None:
            return []
        out = [self._loss_tracker]
        if self._compile_metrics is not None and not self._compile_metrics.empty:
            out.append(self._compile_metrics)
        if self._compile_loss is not None:
            out.extend(self._compile_loss.metrics)
        return out

    def _own_metrics(self) -> list:
        """Metric objects set as attributes of the model (Keras 3 tracks them)."""
        from ..metrics import Metric

        compiled = {id(m) for m in self._compiled_metrics()}
        if self._compile_metrics is not None:
            compiled.update(id(m) for m in self._compile_metrics.metrics)
        return [v for v in list(self.__dict__.values())
                if isinstance(v, Metric) and id(v) not in compiled]

    @property
    def metrics(self) -> list:
        """Keras 3's order: the loss tracker, the compiled metrics (one ``compile_metrics``
        object whose result is a dict), the per-output loss trackers, then Metric objects
        set as attributes of the model."""
        return self._compiled_metrics() + self._own_metrics()

    @property
    def metrics_names(self) -> list:
        names = []
        if self.compiled and self._loss_tracker is not None:
            names.append("loss")
            if self._compile_metrics is not None:
                names.extend(self._compile_metrics.names)
            if self._compile_loss is not None:
                names.extend(m.name for m in self._compile_loss.metrics)
        return names + [m.name for m in self._own_metrics()]

    def reset_metrics(self) -> None:
        for metric in self.metrics:
            metric.reset_state()

    def get_metrics_result(self) -> dict:
        """The current value of every metric in ``metrics``, by log name (Keras 3)."""
        logs = {}
        if self.compiled and self._loss_tracker is not None:
            logs["loss"] = self._loss_tracker.result()
            if self._compile_metrics is not None:
                logs.update(self._compile_metrics.result())
            if self._compile_loss is not None:
                for tracker in self._compile_loss.metrics:
                    logs[tracker.name] = tracker.result()
        for metric in self._own_metrics():
            result = metric.result()
            if isinstance(result, dict):
                logs.update(result)
            else:
                logs[metric.name] = result
        return logs
