"""A ``_core.plan.Plan`` built from a Description, with its reusable call buffers."""

from __future__ import annotations

import numpy as np

from ... import _core


def build_plan(description, optimizer, max_batch: int):
    """The core plan of `description` on the optimizer's current slot arrays."""
    variables = description.variables
    if not optimizer.built:
        optimizer.build(variables)  # what apply_gradients does on its first call
    index = {id(v): i for i, v in enumerate(variables)}
    calls = []
    for native, inputs in description.calls:
        params = [index.get(id(v), -1) if v.trainable else -1 for v in native.variables]
        calls.append(_core.plan.Call(native.node, inputs, params))
    heads = [_core.plan.LossHead(value, kind, from_logits=from_logits, delta=delta,
                                 weight=weight)
             for _, value, kind, from_logits, delta, weight in description.heads]
    penalties = {term[1]: term[2] for term in description.penalties if term[0] == "weight"}
    tensors = []
    for i, v in enumerate(variables):
        position = optimizer._position(v)
        tensors.append(_core.plan.TrainableTensor(
            v.value, optimizer._core_slots[position], weight_decay=optimizer._decay_for(v),
            penalty=penalties.get(i),
            ema=None if optimizer._averages is None else optimizer._averages[position]))
    # Weight penalties by their tensor's index, activity penalties as specs, in loss order.
    order = [term[1] if term[0] == "weight" else
             _core.plan.ActivityPenalty(term[1], term[2], term[3], *term[4])
             for term in description.penalties]
    return _core.plan.Plan([list(s) for s in description.input_shapes], calls, heads, tensors,
                           order, optimizer._update_rule(), max_batch)


class FusedPlan:
    """The core plan of a model and the arrays one call hands it, kept between calls."""

    def __init__(self, core, description, optimizer, key):
        self.core = core
        self.description = description
        self.optimizer = optimizer
        self.key = key
        self.heads = len(description.heads)
        self.widths = [int(np.prod(description.shapes[value], dtype=np.int64))
                       for _, value, *_ in description.heads]
        self._lr = np.empty(0, np.float64)
        self._losses = np.empty((0, 1 + self.heads), np.float32)
        self._predictions = [np.empty((0, w), np.float32) for w in self.widths]
        self._draws = [np.empty(0, np.float32) for _ in core.draws_per_row]
        self.arange = np.arange(core.max_batch, dtype=np.int64)

    def learning_rates(self, steps: int) -> np.ndarray:
        """The rate of each step: a schedule is evaluated at each step's iteration count."""
        if self._lr.shape[0] < steps:
            self._lr = np.empty(steps, np.float64)
        out = self._lr[:steps]
        rate = self.optimizer._learning_rate
        if callable(rate):
            start = self.optimizer.iterations
            for j in range(steps):
                out[j] = float(rate(start + j))
        else:
            out.fill(rate)
        return out

    def run(self, inputs, targets, sample_weights, indices, first: int, batch: int, steps: int,
            predict: list, hook=None):
        """Runs the steps; returns (losses (steps, 1 + heads), predictions per head or
        None), views valid until the next call. `predict[h]`: whether head h's outputs
        are wanted (else a fused head skips its final softmax / sigmoid)."""
        rows = min(indices.shape[0], first + steps * batch) - first
        if self._losses.shape[0] < steps:
            self._losses = np.empty((steps, 1 + self.heads), np.float32)
        losses = self._losses[:steps]
        predictions = []
        for h, wanted in enumerate(predict):
            if not wanted:
                predictions.append(None)
                continue
            if self._predictions[h].shape[0] < rows:
                self._predictions[h] = np.empty((rows, self.widths[h]), np.float32)
            predictions.append(self._predictions[h][:rows])
        draws = []
        for d, (per_row, draw) in enumerate(zip(self.core.draws_per_row,
                                                self.description.draws)):
            size = rows * per_row
            if self._draws[d].shape[0] < size:
                self._draws[d] = np.empty(size, np.float32)
            u = self._draws[d][:size].reshape(rows, per_row)
            draw(u)
            draws.append(u)
        self.core.run(inputs, targets, sample_weights, indices, first, batch, steps,
                      self.learning_rates(steps), self.optimizer.iterations, losses,
                      predictions, draws, hook)
        self.optimizer.iterations += steps
        return losses, predictions
