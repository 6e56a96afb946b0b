"""``PlanRunner``: fit's training steps on the fused plan, as the trainer's epoch loop
asks for them (models/trainer.py), with the metrics ``train_step`` would leave.

The runner updates the loss tracker, the per-output loss trackers and the compiled
metrics bit for bit as ``count`` calls of the default ``train_step`` would
(tests/plan compares): the trackers' float64 running totals are accumulated in
the same order with ``np.add.accumulate``; a metric that one update over several
batches leaves in the same state (``_exact_in_bulk``) gets one update, the
others one per batch.
"""

from __future__ import annotations

import numpy as np

from ... import metrics as metrics_module

# Rows x outputs of predictions one call may return (4 MiB of float32).
MAX_PREDICTION_VALUES = 1 << 20
# Rows x draws of random values one call may draw, all nodes (4 MiB of float32).
MAX_DRAW_VALUES = 1 << 20


def _exact_in_bulk(metric, weighted: bool, has_weights: bool, width: int) -> bool:
    """Whether one update over several batches gives the bits of one update per batch:
    accuracies without sample weights, whose per-sample values are 0 or 1 (exact
    integers in any grouping)."""
    if weighted and has_weights:
        return False
    kind = type(metric)
    if kind in (metrics_module.CategoricalAccuracy, metrics_module.SparseCategoricalAccuracy):
        return True
    return kind is metrics_module.BinaryAccuracy and width == 1


def _accumulate(tracker, values: np.ndarray, rows: np.ndarray) -> None:
    """tracker.total += value_k * rows_k for each step k in order (float64), as the
    tape's LossTracker.update_state does step by step."""
    terms = np.empty(values.shape[0] + 1, np.float64)
    terms[0] = tracker.total
    np.multiply(values, rows, out=terms[1:])
    tracker.total = float(np.add.accumulate(terms)[-1])
    tracker.count += float(rows.sum())


def data_fits(description, data) -> bool:
    """Whether fit's converted data is what the plan reads (else the tape takes it),
    the layers' checks of their model inputs included (tokens in range: a bad one
    leaves the data to the tape, whose op raises at the step that reads it)."""
    for x in data.x_by_input:
        if x.dtype != np.float32 or not x.flags.c_contiguous:
            return False
    for i, value, kind, *_ in description.heads:
        y = data.y_by_output[i]
        if y is None or not y.flags.c_contiguous:
            return False
        if kind == "sparse_categorical_crossentropy":
            if y.dtype not in (np.int64, np.int32):
                return False
        elif y.dtype != np.float32:
            return False
        sw = data.sw_by_output[i]
        if sw is not None and (sw.dtype != np.float32 or not sw.flags.c_contiguous):
            return False
    return all(check(data.x_by_input[position]) for position, check in description.input_checks)



class PlanRunner:
    """Runs fit's steps on a FusedPlan (see models/trainer.py for the runner contract)."""

    kind = "plan"

    def __init__(self, model, fused, data):
        self.model = model
        self.fused = fused
        self.data = data
        description = fused.description
        self.head_outputs = [i for i, *_ in description.heads]
        self._bind(data)
        metrics = model._compile_metrics
        if metrics is not None and not metrics.built:
            metrics.build(data.y_by_output, [(None,) + tuple(description.shapes[v])
                                             for v in description.output_values])
        entries = metrics.entries if metrics is not None else []
        head_of = {out: h for h, out in enumerate(self.head_outputs)}
        self.bulk, self.stepwise = [], []
        for name, metric, weighted, out in entries:
            h = head_of[out]
            entry = (metric, weighted, h)
            width = fused.widths[h]
            if _exact_in_bulk(metric, weighted, self.sample_weights[h] is not None, width):
                self.bulk.append(entry)
            else:
                self.stepwise.append(entry)
        self.predict = [any(h == e[2] for e in self.bulk + self.stepwise)
                        for h in range(len(self.head_outputs))]
        loss = model._compile_loss
        self.head_trackers = [loss.trackers.get(out) for out in self.head_outputs]
        self._rows = np.empty(0, np.float64)
        self.hook = None  # a gradient hook (data parallelism) may be set by its owner

    def _bind(self, data) -> None:
        self.data = data
        self.targets = [data.y_by_output[i] for i in self.head_outputs]
        self.sample_weights = [data.sw_by_output[i] for i in self.head_outputs]

    def rebind(self, data) -> bool:
        """Trains on `data` (a streamed batch) from now on, when the plan can read it:
        the same input shapes, data it reads, and rows within its max batch."""
        description = self.fused.description
        if data.num_samples > self.fused.core.max_batch or not data_fits(description, data) \
                or [tuple(x.shape[1:]) for x in data.x_by_input] != description.input_shapes \
                or any((w is None) != (data.sw_by_output[i] is None)
                       for i, w in zip(self.head_outputs, self.sample_weights)):
            return False
        self._bind(data)
        return True

    def steps_per_call(self, steps: int, batch: int, observed: bool) -> int:
        if observed:
            return self.model.steps_per_execution
        per_call = steps
        wanted = sum(w for w, p in zip(self.fused.widths, self.predict) if p)
        if wanted:
            per_call = min(per_call, MAX_PREDICTION_VALUES // max(1, batch * wanted))
        drawn = sum(self.fused.core.draws_per_row)
        if drawn:
            per_call = min(per_call, MAX_DRAW_VALUES // max(1, batch * drawn))
        return max(1, per_call)

    def run(self, order, batch_size: int, step: int, count: int):
        """Runs steps [step, step + count) in one core call; returns None (the trainer
        reads the metrics' results when it needs logs)."""
        n = self.data.num_samples
        if order is None:
            indices = self.fused.arange if n <= self.fused.arange.shape[0] else \
                np.arange(n, dtype=np.int64)
            indices = indices[:n]
        else:
            indices = order if order.dtype == np.int64 else order.astype(np.int64)
        first = step * batch_size
        losses, predictions = self.fused.run(self.data.x_by_input, self.targets,
                                             self.sample_weights, indices, first, batch_size,
                                             count, self.predict, self.hook)
        self._account(losses, predictions, indices, first, batch_size, count)
        return None

    def _account(self, losses, predictions, indices, first, batch_size, count):
        rows_total = min(indices.shape[0], first + count * batch_size) - first
        rows = self._rows
        if rows.shape[0] < count:
            rows = self._rows = np.empty(count, np.float64)
        rows = rows[:count]
        rows.fill(batch_size)
        rows[-1] = rows_total - (count - 1) * batch_size
        _accumulate(self.model._loss_tracker, losses[:, 0], rows)
        for h, tracker in enumerate(self.head_trackers):
            if tracker is not None:
                _accumulate(tracker, losses[:, 1 + h], rows)
        if self.stepwise:
            for j in range(count):
                r0, r1 = j * batch_size, min((j + 1) * batch_size, rows_total)
                samples = indices[first + r0:first + r1]
                for metric, weighted, h in self.stepwise:
                    sw = self.sample_weights[h]
                    metric.update_state(self.targets[h][samples], predictions[h][r0:r1],
                                        sample_weight=sw[samples] if weighted and sw is not None
                                        else None)
        if self.bulk:
            samples = indices[first:first + rows_total]
            for metric, _, h in self.bulk:
                metric.update_state(self.targets[h][samples], predictions[h],
                                    sample_weight=None)
