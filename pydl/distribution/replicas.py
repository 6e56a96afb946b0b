"""``Replicas``: one fit / evaluate / train_on_batch / test_on_batch call made by every
process of a data-parallel world, answering what the trainer asks
(pydl/models/replicas.py lists the questions).

The call's life on each process:

1. **First sync** (``samples``): one allgather of what each process was given -- its
   arguments, its data's per-sample shapes (and, with one data set, a checksum), its
   model -- checked alike everywhere (consistency.py). A process that raised before
   it still joins it with its error, so that every process raises.
2. **Start** (``runner``): the schedule of global steps (shards.py); weights and the
   optimizer state broadcast from rank 0 (only the arrays that differ move); the
   runner wrapped in a ShardedRunner (runner.py) whose steps reduce the gradients.
3. **Epochs**: the same order everywhere (``order``: rank 0's permutation); logs from
   the metrics' state summed over the processes (metric_state.py); after each epoch a
   replica check: a trainable weight that differs raises, non-trainable state that
   drifted apart (BatchNormalization's moving statistics) is averaged.
4. **Failure**: an exception on one process after the first sync cannot reach the
   others, which wait in a collective: its traceback is printed naming the rank, and
   every process is aborted (MPI_Abort). Errors every process raises together (errors.py)
   propagate as usual.
"""

from __future__ import annotations

import math
import traceback
import weakref

import numpy as np

from . import collectives, consistency, metric_state, world
from .errors import everywhere, raised_everywhere
from .runner import ShardedRunner
from .shards import Shards


class Replicas:
    """One data-parallel call on this process (see the module docstring)."""

    def __init__(self, distribution, model, call: str, arguments: dict):
        self.comm = world.comm()
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.model = model
        self.call = call
        self.arguments = arguments
        self.auto = distribution.auto_shard_dataset
        self.reducer = distribution._reducer
        self.synced = False
        self.shards = None
        self._runner = None
        self._positions = None
        self._own = 0  # samples of this process's own shard (auto_shard_dataset=False)
        # Dataset -> samples each process holds (weak: a Dataset freed during the call,
        # and a new one at its address, are never confused)
        self._counts = weakref.WeakKeyDictionary()

    # -- 1. the first sync ------------------------------------------------------------
    def samples(self, data, validation=None) -> int:
        """The global sample count of `data`; the first time, checks the call alike on
        every process (the first sync); for data seen before, no collective."""
        counts = self._counts.get(data)
        if counts is not None:
            return counts[0] if self.auto else sum(counts)
        if self.synced:  # other data later in the call (a callback's evaluate): its size
            counts = self._counts[data] = self.comm.allgather(data.num_samples)
            return counts[0] if self.auto else sum(counts)
        if validation is not None and not hasattr(validation, "x_leaves"):
            self.stream(validation)
        spec = {"arguments": consistency.arguments_spec(self.arguments),
                "data": consistency.data_spec(data, self.auto),
                "validation": None if validation is None else
                consistency.data_spec(validation, self.auto),
                "model": consistency.model_spec(self.model)}
        every = self._first_sync(spec)
        consistency.check_call(self.call, every, self.auto)
        self._counts[data] = [s["data"]["samples"] for s in every]
        if validation is not None:
            self._counts[validation] = [s["validation"]["samples"] for s in every]
        counts = self._counts[data]
        return counts[0] if self.auto else sum(counts)

    def stream(self, source):
        """Generators, iterators and PyDatasets are not sharded (yet): refused."""
        raise ValueError(
            f"{self.call}: under DataParallel, pass arrays; a generator, an iterator or a "
            "PyDataset is not split between the processes yet (each would need its own "
            f"stream). Received: {type(source).__name__}")

    def _first_sync(self, payload) -> list:
        every = self.comm.allgather((None, payload))
        self.synced = True
        for r, (error, _) in enumerate(every):
            if error is not None:
                raise everywhere(RuntimeError(
                    f"{self.call}: rank {r} of {self.size} failed before the processes started "
                    f"together: {error}"))
        return [p for _, p in every]

    def fail(self, error: BaseException) -> None:
        """`error` leaves the call on this process: make every process fail (module doc)."""
        if raised_everywhere(error):
            return
        if not self.synced:
            self.synced = True
            self.comm.allgather((f"{type(error).__name__}: {error}", None))
            return
        text = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        world.abort(f"{type(error).__name__} in {self.call} (the others cannot go on without "
                    f"this process):\n{text}")

    # -- 2. the start ------------------------------------------------------------------
    def runner(self, make, data, batch_size: int, steps: int):
        model = self.model
        shards = Shards(self._counts[data], batch_size, steps, self.rank, self.auto)
        custom = "train_step" in model._overridden_steps()
        if custom and shards.empty_steps_anywhere():
            raise everywhere(ValueError(
                f"{self.call}: with {self.size} processes, some have no rows in some steps "
                f"(batch_size={batch_size}, {shards.samples} samples); a model's own "
                "train_step needs rows on every process in every step: choose batch_size so "
                "that the last batch has at least one sample per process"))
        inner = make(data, max(1, shards.max_local))
        self._build_metrics(data)
        kinds = self.comm.allgather(inner.kind)
        for r, kind in enumerate(kinds):
            if kind != kinds[0]:
                raise everywhere(ValueError(
                    f"{self.call}: the steps run on the {kinds[0]} on rank 0 but on the {kind} "
                    f"on rank {r}; every process must pass data of the same dtypes"))
        collectives.broadcast_weights(model, root=0)
        self.shards = shards
        self._positions = shards.positions() if self.auto else None
        self._own = data.num_samples
        self._runner = ShardedRunner(inner, shards, self.reducer, model,
                                     self._agree_stop if custom else None)
        return self._runner

    def close(self) -> None:
        """The call is over (normally or not): what it held is released."""
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def _build_metrics(self, data) -> None:
        """The compiled metrics, built now on every process: a process that has no rows
        before the first log still holds the same state to reduce."""
        metrics = self.model._compile_metrics
        if metrics is None or metrics.built or metrics.empty or data.num_samples == 0:
            return
        shapes = self.model._output_shapes(data.x_struct(0, 1))
        metrics.build(data.y_by_output, shapes)

    def _agree_stop(self) -> bool:
        """model.stop_training on every process once any one set it (a model's own
        train_step may set it)."""
        flag = np.array([1 if self.model.stop_training else 0], np.int64)
        collectives.allreduce_in_place(self.comm, flag)
        stop = bool(flag[0])
        object.__setattr__(self.model, "stop_training", stop)
        return stop

    # -- 3. epochs ---------------------------------------------------------------------
    def order(self, generator, n: int, shuffle: bool):
        """This process's order of the epoch: its rows of rank 0's permutation of all the
        samples, or of its own shard in an order seeded by rank 0."""
        if self.auto:
            permutation = generator.permutation(n) if shuffle else None
            if permutation is not None:
                self.comm.Bcast(permutation, root=0)
                return np.take(permutation, self._positions)
            return self._positions
        if not shuffle:
            return np.arange(self._own, dtype=np.int64)
        seed = self.comm.bcast(int(generator.integers(2**63)), root=0)
        return np.random.default_rng([seed, self.rank]).permutation(self._own)

    def progbar(self, target, verbose: int):
        """Rank 0's progress bar, final lines only (the other processes show none; a
        live bar would redraw at moments only rank 0 knows)."""
        from ..models.progbar import Progbar

        if not verbose or self.rank != 0:
            return None
        bar = Progbar(target, verbose=verbose)
        bar._dynamic = False
        return bar

    def step_logs(self, model, logs):
        results, logs = metric_state.global_results(self.comm, model, logs)
        return logs if logs is not None else results

    def epoch_results(self, model, logs):
        return metric_state.global_results(self.comm, model, logs)

    def evaluation_steps(self, model, source, batch_size: int, max_steps):
        from ..models.data import check_positive_int

        steps = math.ceil(self.samples(source) / batch_size)
        return steps if max_steps is None else min(steps, check_positive_int("steps", max_steps))

    def evaluation_batches(self, data, batch_size: int, steps: int):
        self.samples(data)
        return Shards(self._counts[data], batch_size, steps, self.rank, self.auto).data_ranges()

    def end_epoch(self, model) -> None:
        """The replica check: trainable weights must be bitwise equal everywhere (else
        raise); non-trainable ones that drifted apart are averaged (float) or taken
        from rank 0."""
        weights = model.weights
        arrays = [w.value for w in weights]
        every = self.comm.allgather([collectives.checksum(a) for a in arrays])
        differ = [i for i in range(len(arrays)) if any(s[i] != every[0][i] for s in every)]
        broken = [i for i in differ if weights[i].trainable]
        if broken:
            i = broken[0]
            ranks = [r for r, s in enumerate(every) if s[i] != every[0][i]]
            name = getattr(weights[i], "path", None) or weights[i].name
            raise everywhere(RuntimeError(
                f"{self.call}: replica check failed: after this epoch the trainable weight "
                f"{name!r} (and {len(broken) - 1} more) differs between rank 0 and ranks "
                f"{ranks}; the processes no longer train one model (something changed the "
                "weights of one process outside the training step)"))
        for i in differ:
            array = arrays[i]
            if array.dtype.kind == "f":
                collectives.allreduce_in_place(self.comm, array)
                array /= self.size
            else:
                self.comm.Bcast(array, root=0)

