"""``ShardedRunner``: fit's runner on one process of a data-parallel world.

The trainer's epoch loop asks for global steps ``[step, step + count)`` of global
``batch_size`` (models/trainer.py's runner contract); this runner hands the wrapped
runner (the fused plan or the tape) this process's rows of those steps (shards.py),
with the step's gradient reduction in place:

- the plan: as many steps per core call as have the same local batch, its
  gradient_hook set to the reducer (scaled by each step's share);
- the tape: one step per call, the reducer's share set before it (the reduction
  runs in ``Optimizer.apply_gradients``);
- a step in which this process has no rows runs no forward or backward, but joins
  the reduction with zero gradients and applies the same update (``Plan.update``,
  or ``apply_gradients`` with no gradients), so that every process ends the step
  with the same weights.
"""

from __future__ import annotations


class ShardedRunner:
    """Runs this process's part of fit's global steps (see the module docstring)."""

    def __init__(self, inner, shards, reducer, model, stop_sync):
        self.inner = inner
        self.kind = inner.kind
        self.shards = shards
        self.reducer = reducer
        self.model = model
        self.stop_sync = stop_sync  # None, or a function agreeing on model.stop_training
        self.planned = inner.kind == "plan"
        if self.planned:
            inner.hook = reducer.plan_hook
            reducer.global_sizes = shards.global_sizes
            reducer.bind(inner.fused.core.gradients)

    def close(self) -> None:
        """After the call: the plan's persistent reduction is freed."""
        if self.planned:
            self.reducer.unbind()

    def steps_per_call(self, steps: int, batch: int, observed: bool) -> int:
        return self.inner.steps_per_call(steps, max(1, self.shards.max_local), observed)

    def run(self, order, batch_size: int, step: int, count: int):
        """Runs global steps [step, step + count); `order` is this process's epoch order
        (Replicas.order). Returns the logs of the last step run here, or None."""
        sizes, starts = self.shards.local_sizes, self.shards.local_starts
        k, end, logs = step, step + count, None
        while k < end:
            size = int(sizes[k])
            if size == 0:
                self._empty_step(k)
                k += 1
            else:
                j = k + 1
                if self.planned:
                    while j < end and sizes[j] == size:
                        j += 1
                    self.reducer.cursor = k
                else:
                    self.reducer.share = size / int(self.shards.global_sizes[k])
                first = int(starts[k])
                rows = order[first:first + (j - k) * size]
                out = self.inner.run(rows, size, 0, j - k)
                logs = out if out is not None else logs
                k = j
            if self.stop_sync is not None and self.stop_sync():
                break
        self.reducer.share = None
        return logs

    def _empty_step(self, k: int) -> None:
        """Global step k without rows here: zero gradients into the reduction, then the
        update every process applies."""
        optimizer = self.model.optimizer
        if self.planned:
            fused = self.inner.fused
            self.reducer.plan_empty_step()
            fused.core.update(float(fused.learning_rates(1)[0]), optimizer.iterations)
            optimizer.iterations += 1
            return
        self.reducer.share = 0.0
        variables = self.model._step_variables.items
        optimizer.apply_gradients(zip([None] * len(variables), variables))

