"""What ``compile`` builds: the loss of every output, its metrics, the loss trackers.

Keras 3's rules (keras/src/trainers/compile_utils.py), on flat lists: the model's
outputs flatten in ``model.outputs`` order (dicts by sorted key), and so do the
targets, sample weights and the per-output ``loss`` / ``loss_weights`` /
``metrics`` given as lists or dicts keyed by output name.

- ``CompileLoss``: one loss (or None) and one weight per output. Its value is
  ``((loss_0 * w_0) + (loss_1 * w_1)) + ...`` (a weight of 1 multiplies by
  nothing); each output's unweighted loss feeds an ``<output>_loss`` tracker
  when there are several losses.
- ``CompileMetrics``: per output, the compiled metrics (resolved on the first
  data, since "accuracy" depends on shapes); logs name them ``<output>_<metric>``
  when the model has several outputs.
- ``LossTracker``: the batch-size-weighted mean of step losses (Keras'
  ``Mean(name="loss")``), kept in float64.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import metrics as metrics_module
from .. import _tree as tree


def _name_of(identifier, obj) -> str:
    if isinstance(identifier, str):
        return identifier
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        return name
    return getattr(obj, "__name__", type(obj).__name__)


class LossTracker(metrics_module.Metric):
    """The weighted mean of scalar losses: ``total += value * weight; count += weight``."""

    def __init__(self, name="loss"):
        super().__init__(name=name)
        self.total = 0.0
        self.count = 0.0

    def reset_state(self) -> None:
        self.total = 0.0
        self.count = 0.0

    def update_state(self, value, sample_weight=None) -> None:
        weight = 1 if sample_weight is None else sample_weight
        self.total += float(np.asarray(value)) * weight
        self.count += weight

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def get_state(self) -> list:
        """[total, count], for a backup (callbacks.BackupAndRestore)."""
        return [self.total, self.count]

    def set_state(self, values) -> None:
        self.total, self.count = float(values[0]), float(values[1])


def _per_output(arg: str, value, names: list, allow_single=True):
    """`value` as one entry per output: a single value (repeated), a list, or a dict by name."""
    n = len(names)
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise ValueError(f"{arg}: the keys {unknown} name no output of the model; its outputs "
                             f"are {names}")
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)):
        if len(value) != n:
            raise ValueError(f"{arg}: expected one entry per output ({n}: {names}), received "
                             f"{len(value)}")
        return list(value)
    if not allow_single and n > 1:
        raise ValueError(f"{arg}: expected a list or a dict for a model with {n} outputs "
                         f"({names}), received {value!r}")
    return [value] * n


def _check_weight(arg: str, weight):
    if weight is None:
        return None
    if isinstance(weight, bool) or not isinstance(weight, numbers.Real) \
            or not math.isfinite(weight):
        raise ValueError(f"{arg}: expected a finite float, received {weight!r}")
    return float(weight)


class CompileLoss:
    """The compiled losses: per output a loss function (or None) and a weight (or None).

    Args:
        loss, loss_weights: as given to ``compile``.
        output_names: the model's flat output names.
    """

    def __init__(self, loss, loss_weights, output_names: list):
        from .. import losses

        self.output_names = list(output_names)
        specs = _per_output("loss", loss, self.output_names)
        self.specs = specs
        self.fns = [None if s is None else losses.get(s) for s in specs]
        if all(fn is None for fn in self.fns):
            raise ValueError(f"loss: expected a loss for at least one output, received {loss!r}")
        if loss_weights is None:
            weights = [None] * len(self.output_names)
        elif isinstance(loss_weights, (dict, list, tuple)):
            weights = _per_output("loss_weights", loss_weights, self.output_names)
        else:
            weights = [loss_weights] * len(self.output_names)
        self.weights = [_check_weight("loss_weights", w) for w in weights]
        active = [i for i, fn in enumerate(self.fns) if fn is not None]
        self.trackers = {}
        if len(active) > 1:
            self.trackers = {i: LossTracker(f"{self.output_names[i]}_loss") for i in active}

    @property
    def metrics(self) -> list:
        return list(self.trackers.values())

    def __call__(self, y_flat: list, pred_flat: list, sw_flat: list):
        """The weighted total (a Tensor), updating the per-output trackers."""
        from .. import ops

        total = None
        for i, fn in enumerate(self.fns):
            if fn is None:
                continue
            sw = sw_flat[i]
            value = fn(y_flat[i], pred_flat[i]) if sw is None else \
                fn(y_flat[i], pred_flat[i], sample_weight=sw)
            tracker = self.trackers.get(i)
            if tracker is not None:
                tracker.update_state(value, sample_weight=int(np.shape(pred_flat[i])[0]))
            weight = self.weights[i]
            if weight is not None and weight != 1.0:
                value = ops.multiply(value, weight)
            total = value if total is None else ops.add(total, value)
        return total


class CompileMetrics(metrics_module.Metric):
    """The compiled metrics of every output (Keras' ``compile_metrics``): one Metric whose
    ``update_state(y, y_pred, sample_weight)`` updates them all (built on the first data)
    and whose ``result()`` is a dict by log name.

    Args:
        metrics, weighted_metrics: as given to ``compile``.
        output_names: the model's flat output names.
        loss_specs: the loss of each output (to resolve "accuracy").
    """

    def __init__(self, metrics, weighted_metrics, output_names: list, loss_specs: list):
        super().__init__(name="compile_metrics")
        self.output_names = list(output_names)
        self.loss_specs = loss_specs
        per_output = [[] for _ in self.output_names]
        for specs, weighted in ((metrics, False), (weighted_metrics, True)):
            if specs is None:
                continue
            arg = "weighted_metrics" if weighted else "metrics"
            if isinstance(specs, str) or not isinstance(specs, (list, tuple, dict)):
                raise TypeError(f"{arg}: expected a list (or a dict by output name), received "
                                f"{specs!r}")
            if isinstance(specs, dict):
                lists = _per_output(arg, specs, self.output_names)
            elif len(self.output_names) > 1 and specs and all(
                    isinstance(s, (list, tuple)) or s is None for s in specs):
                lists = _per_output(arg, list(specs), self.output_names)
            else:
                lists = [specs] * len(self.output_names)
            for i, entry in enumerate(lists):
                if entry is None:
                    continue
                for spec in (entry if isinstance(entry, (list, tuple)) else [entry]):
                    metrics_module.get(spec, loss=loss_specs[i])  # unknown names fail now
                    per_output[i].append((spec, weighted))
        self._user = per_output
        self.built = False
        self.entries = []  # (log name, metric, weighted, output index)

    @property
    def empty(self) -> bool:
        return not any(self._user)

    @property
    def names(self) -> list:
        """Log names (before the build: the identifiers' own names)."""
        if self.built:
            return [name for name, _, _, _ in self.entries]
        prefix = len(self.output_names) > 1
        return [(f"{self.output_names[i]}_" if prefix else "") + _name_of(spec, spec)
                for i, specs in enumerate(self._user) for spec, _ in specs]

    def build(self, y_flat: list, output_shapes: list) -> None:
        prefix = len(self.output_names) > 1
        entries = []
        for i, specs in enumerate(self._user):
            built = []
            for spec, weighted in specs:
                metric = metrics_module.get(spec, loss=self.loss_specs[i],
                                            output_shape=tuple(output_shapes[i]),
                                            target_shape=(None,) + tuple(np.shape(y_flat[i]))[1:])
                name = _name_of(spec, metric)
                if weighted and any(n == name for n, _, _ in built):
                    name = "weighted_" + name
                built.append((name, metric, weighted))
            for name, metric, weighted in built:
                entries.append(((f"{self.output_names[i]}_" if prefix else "") + name, metric,
                                weighted, i))
        self.entries = entries
        self.built = True

    @property
    def metrics(self) -> list:
        return [metric for _, metric, _, _ in self.entries]

    @property
    def variables(self) -> list:
        return [v for metric in self.metrics for v in metric.variables]

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        """Updates every compiled metric from a batch (structures by output)."""
        names = self.output_names
        y_flat = flat_by_outputs("y", y_true, names)
        pred_flat = [np.asarray(p) for p in tree.flatten(y_pred)]
        sw_flat = flat_sample_weights(sample_weight, names)
        if not self.built:
            self.build(y_flat, [(None,) + p.shape[1:] for p in pred_flat])
        for _, metric, weighted, i in self.entries:
            metric.update_state(y_flat[i], pred_flat[i],
                                sample_weight=sw_flat[i] if weighted else None)

    def reset_state(self) -> None:
        for _, metric, _, _ in self.entries:
            metric.reset_state()

    def result(self) -> dict:
        return {name: metric.result() for name, metric, _, _ in self.entries}


def flat_by_outputs(arg: str, value, names: list) -> list:
    """One entry per output: a dict by output name, a list/tuple in output order, or one
    value for a single output."""
    if isinstance(value, dict):
        missing = [n for n in names if n not in value]
        if len(names) == 1 and missing and len(value) == 1:
            return list(value.values())
        if missing:
            raise ValueError(f"{arg}: expected entries for the outputs {names}, the keys "
                             f"{missing} are missing (received keys {list(value)})")
        return [value[n] for n in names]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        if len(value) != len(names):
            raise ValueError(f"{arg}: expected one entry per output ({len(names)}: {names}), "
                             f"received {len(value)}")
        return list(value)
    if len(names) > 1:
        raise ValueError(f"{arg}: the model has {len(names)} outputs ({names}); pass a list "
                         "or a dict keyed by output name")
    return [value]


def flat_sample_weights(sample_weight, names: list) -> list:
    """One sample-weight array (or None) per output, from one array (for every output), a
    list in output order or a dict by output name."""
    if sample_weight is None:
        return [None] * len(names)
    if isinstance(sample_weight, dict) or (isinstance(sample_weight, (list, tuple))
                                           and len(names) > 1):
        return flat_by_outputs("sample_weight", sample_weight, names)
    return [sample_weight] * len(names)
