"""The fused training step: ``fit`` without Python per layer per step.

A Sequential or Functional model made of layers that have a native form (Dense,
Activation, Dropout, Flatten, ... -- each says so in its ``_plan_node``; nested
models are walked in place), compiled with losses and an optimizer that have one
too, in float32, trains through a ``_core.plan.Plan`` (csrc/plan): one core call
runs whole steps -- gather the batch, forward, the losses of every output,
backward, update -- on the model's own weight arrays and the optimizer's own slot
arrays, in place. Any other model, and any model that overrides ``train_step``,
trains on the GradientTape (``Trainer.train_step``), with the same kernels in the
same order: both give bitwise identical weights, losses and metrics (tests/plan).

Describing a model walks every layer, and fit asks at every call: the description
and its plan are kept on the model while everything they read is unchanged,
compared by identity (``_state``: every layer's attributes, weight arrays and
flags, the compiled losses and the optimizer's settings, the structure counter).
``plan_reason(model)`` says why a model takes the tape; ``disabled()`` forces it.
"""

from __future__ import annotations

import contextlib
import operator

import numpy as np

from ...layers import layer as layer_module
from .describe import describe
from .fused import FusedPlan, build_plan
from .runner import PlanRunner, data_fits

_LAYER_CACHE = layer_module._CACHE
_settings = {"enabled": True}


@contextlib.contextmanager
def disabled():
    """Within this block, fit uses the GradientTape for every model (tests, debugging)."""
    previous = _settings["enabled"]
    _settings["enabled"] = False
    try:
        yield
    finally:
        _settings["enabled"] = previous


def _graph_layers(model, out: list) -> list:
    graph = getattr(model, "_graph", None)
    if graph is None:
        return out
    for node in model._graph().nodes:
        out.append(node.layer)
        _graph_layers(node.layer, out)
    return out


def _state(model, input_shapes):
    """(objects, values): everything the description and the plan read, but the data,
    the learning rate and the step count. Objects compare by identity (an attribute
    rebound to an equal value only costs a rebuild), values by ==."""
    opt = model.optimizer
    loss = model._compile_loss
    objects = [type(model), opt, type(opt), loss]
    if loss is not None:
        for fn in loss.fns:
            objects += (fn, type(fn))
            objects += getattr(fn, "__dict__", {}).values()
    opt_state = dict(opt.__dict__)
    for key in ("iterations", "_learning_rate", "_rule"):
        opt_state.pop(key, None)
    objects += opt_state.values()
    for layer in _graph_layers(model, []):
        state = dict(layer.__dict__)
        state.pop("_losses", None)  # a new list at each outer call once add_loss was used
        state.pop(_LAYER_CACHE, None)  # follows _generation
        objects.append(type(layer))
        objects += state.values()
    for v in model.weights:
        objects += (v.value, v.trainable, v.regularizer)
        if v.regularizer is not None:
            objects += getattr(v.regularizer, "__dict__", {}).values()
    values = (_settings["enabled"], layer_module._generation[0], model._trainable,
              layer_module._add_loss_used[0], tuple(map(tuple, input_shapes)),
              None if loss is None else tuple(loss.weights),
              len(getattr(opt, "_decay_excluded_ids", ())),
              len(getattr(opt, "_decay_excluded_names", ())))
    return objects, values


class _Cache:
    """The description (or the reason) and the plan last made for a model. An object
    with slots: Layer tracks tuples, lists and dicts set as attributes."""

    __slots__ = ("objects", "values", "description", "fused")

    def __init__(self, objects, values, description):
        self.objects, self.values, self.description = objects, values, description
        self.fused = None

    def matches(self, objects, values) -> bool:
        return values == self.values and len(objects) == len(self.objects) and \
            all(map(operator.is_, objects, self.objects))


def _cached(model, input_shapes) -> _Cache:
    objects, values = _state(model, input_shapes)
    cache = model.__dict__.get("_plan_cache")
    if cache is None or not cache.matches(objects, values):
        description = describe(model, input_shapes) if _settings["enabled"] else \
            "the plan is disabled (pydl.models.plan.disabled())"
        if not isinstance(description, str) and not model.optimizer.built:
            # As apply_gradients would on the first step; the state is then the built one.
            model.optimizer.build(description.variables)
            objects, values = _state(model, input_shapes)
        cache = _Cache(objects, values, description)
        object.__setattr__(model, "_plan_cache", cache)  # no Layer.__setattr__ tracking scan
    return cache


def _input_shapes_of(model) -> list | None:
    inputs = getattr(model, "inputs", None) if hasattr(type(model), "inputs") else None
    if inputs:
        return [tuple(t.shape)[1:] for t in inputs]
    shape = model.__dict__.get("_build_input_shape")
    return None if shape is None else [tuple(shape)[1:]]


def plan_reason(model):
    """None when ``fit`` can run ``model`` on a fused plan, else why not (a str)."""
    if not _settings["enabled"]:
        return "the plan is disabled (pydl.models.plan.disabled())"
    shapes = _input_shapes_of(model)
    if shapes is None or any(d is None for s in shapes for d in s):
        return "the model is not built"
    if not model.compiled:
        return "the model is not compiled"
    if model._compile_loss is None:
        return "the model was compiled without a loss"
    description = _cached(model, shapes).description
    return description if isinstance(description, str) else None


def runner_factory(model, data, batch_size: int):
    """Registered with the trainer: a PlanRunner for a model and data the plan takes."""
    if not _settings["enabled"] or model._compile_loss is None:
        return None
    shapes = [x.shape[1:] for x in data.x_by_input]
    cache = _cached(model, shapes)
    description = cache.description
    if isinstance(description, str) or not data_fits(description, data):
        return None
    metrics = model._compile_metrics
    heads = {i for i, *_ in description.heads}
    if metrics is not None and any(
            out not in heads for _, _, _, out in (metrics.entries if metrics.built else
                                                  [(None, None, None, i)
                                                   for i, specs in enumerate(metrics._user)
                                                   if specs])):
        return None  # metrics on an output without a loss read predictions the plan lacks
    fused = cache.fused
    if fused is None or fused.optimizer is not model.optimizer \
            or batch_size > fused.core.max_batch:
        core = build_plan(description, model.optimizer, batch_size)
        fused = cache.fused = FusedPlan(core, description, model.optimizer, None)
    return PlanRunner(model, fused, data)


def register() -> None:
    """Adds `runner_factory` to the trainer's (pydl/models/__init__.py calls it)."""
    from .. import trainer

    trainer.register_runner_factory(runner_factory)


__all__ = ["disabled", "plan_reason", "register", "describe"]
