"""The steps ``fit``, ``evaluate`` and ``predict`` call, as Keras 3 defines them.

Override any of them in a subclass, as the Keras guide "Customizing what happens
in fit()" does; ``fit`` then calls yours for every batch (on the GradientTape):

    class CustomModel(pydl.Model):
        def train_step(self, data):
            x, y = data
            with pydl.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply(grads, self.trainable_variables)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

A model that overrides none of them and is made of built-in layers trains on the
fused core plan instead (pydl/models/plan/), which gives the same bits as these
default steps.
"""

from __future__ import annotations

import numpy as np

from .. import _tree as tree
from ..layers.layer import _add_loss_used
from .compile_utils import flat_by_outputs, flat_sample_weights


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch ``data``: ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)`` (Keras' unpack_x_y_sample_weight)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("data: expected x, (x,), (x, y) or (x, y, sample_weight), received a "
                     f"tuple of {len(data)} items")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The batch as ``train_step`` receives it: ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def batch_size_of(x) -> int:
    return int(np.shape(tree.flatten(x)[0])[0])


class StepsMixin:
    """``train_step``, ``test_step``, ``predict_step``, ``compute_loss`` and
    ``compute_metrics`` with Keras 3's semantics."""

    # Methods fit looks for in a subclass: if one is overridden, every step runs it.
    _STEP_METHODS = ("train_step", "test_step", "predict_step", "compute_loss",
                     "compute_metrics")

    def train_step(self, data):
        """One training step on a batch: forward, loss, gradients, update, metrics.

        Returns:
            The logs: a dict of metric results.
        """
        from ..tape import GradientTape

        x, y, sample_weight = unpack_x_y_sample_weight(data)
        known = self._step_variables
        variables = known.items if known is not None else self.trainable_weights
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                     training=True)
        self._loss_tracker.update_state(loss, sample_weight=batch_size_of(x))
        if variables:
            grads = tape.gradient(loss, variables)
            self.optimizer.apply_gradients(zip(grads, variables))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """Loss and metrics of a batch, without training."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight,
                                 training=False)
        self._loss_tracker.update_state(loss, sample_weight=batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """The model's outputs on a batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss: the compiled losses (weighted), then the layers' losses
        (regularization penalties, ``add_loss``), added in that order in the output
        dtype.

        Returns:
            A scalar Tensor.
        """
        from .. import ops

        total = None
        if self._compile_loss is None and self.compiled and self._compile_args[0] is not None:
            self._build_compile_state(self._output_names_for(y_pred))
        if self._compile_loss is not None:
            names = self._compile_loss.output_names
            y_flat = flat_by_outputs("y", y, names)
            pred_flat = tree.flatten(y_pred)
            if len(pred_flat) != len(names):
                raise ValueError(f"compute_loss: the model has {len(names)} outputs ({names}), "
                                 f"y_pred has {len(pred_flat)}")
            sw_flat = flat_sample_weights(sample_weight, names)
            total = self._compile_loss(y_flat, pred_flat, sw_flat)
        # _step_penalties is known when fit starts; an add_loss first used in this very
        # step (a layer's first call) sets the flag during the forward pass.
        if self._step_penalties or _add_loss_used[0]:
            for penalty in self.losses:
                total = penalty if total is None else ops.add(total, penalty)
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics; returns ``get_metrics_result()``."""
        metrics = self._compile_metrics
        if metrics is not None and not metrics.empty:
            metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def _output_names_for(self, y_pred) -> list:
        """The output names of a model without a graph, from its first predictions."""
        known = self._known_output_names()
        if known is not None:
            return known
        if isinstance(y_pred, dict):
            return sorted(y_pred)
        count = len(tree.flatten(y_pred))
        return ["output"] if count == 1 else [f"output_{i}" for i in range(count)]
