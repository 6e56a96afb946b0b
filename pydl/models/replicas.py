"""What fit and evaluate ask about the processes they run on: here, one.

The trainer (trainer.py) does not know whether it trains alone or as one process of
a data-parallel world; it asks its ``_replicas`` object, at these points only:

- ``samples(data, validation=None)``: the global sample count (the first call of
  fit / evaluate / train_on_batch after the data is converted);
- ``stream(source)``: a generator / iterator / PyDataset source, as it is (or refused);
- ``runner(make, data, batch_size, steps)``: the runner of the steps, made by
  ``make(data, max_batch)``;
- ``order(generator, n, shuffle)``: the epoch's order, handed back to ``runner.run``;
- ``progbar(target, verbose)``: the progress bar, or None;
- ``step_logs(model, logs)`` and ``epoch_results(model, logs)``: the logs of a batch,
  and (metric results, step logs) at the end of an epoch or evaluation;
- ``evaluation_steps(model, source, batch_size, max_steps)``: the steps of an evaluation;
- ``evaluation_batches(data, batch_size, steps)``: (first row, rows) of each step;
- ``end_epoch(model)``: after the steps of each epoch.

``LocalReplicas`` answers for one process. Under ``pydl.distribution.set_distribution(
DataParallel())`` with several processes, the calls marked ``@replicated`` run with a
``pydl.distribution`` object instead, which shards the data, reduces the gradients
and the metrics and checks the replicas (pydl/distribution/replicas.py).
"""

from __future__ import annotations

import functools

from .progbar import Progbar

# The active data-parallel distribution (set by pydl.distribution.set_distribution when
# it spans several processes), else None.
_distribution = [None]


def set_distribution(distribution) -> None:
    _distribution[0] = distribution


class LocalReplicas:
    """One process: the data as it is, nothing to reduce (see the module docstring)."""

    @staticmethod
    def samples(data, validation=None) -> int:
        return data.num_samples

    @staticmethod
    def stream(source):
        return source

    @staticmethod
    def runner(make, data, batch_size: int, steps: int):
        return make(data, batch_size)

    @staticmethod
    def order(generator, n: int, shuffle: bool):
        return generator.permutation(n) if shuffle else None

    @staticmethod
    def progbar(target, verbose: int):
        return Progbar(target, verbose=verbose) if verbose else None

    @staticmethod
    def step_logs(model, logs):
        return logs if logs is not None else model.get_metrics_result()

    @staticmethod
    def epoch_results(model, logs):
        return model.get_metrics_result(), logs

    @staticmethod
    def evaluation_steps(model, source, batch_size: int, max_steps):
        return model._source_steps(source, batch_size, max_steps)

    @staticmethod
    def evaluation_batches(data, batch_size: int, steps: int):
        return [(k * batch_size, batch_size) for k in range(steps)]

    @staticmethod
    def end_epoch(model) -> None:
        return None


LOCAL = LocalReplicas()


def replicated(method):
    """Marks a Trainer call (fit, evaluate, train_on_batch, test_on_batch) that every
    process makes together under a data-parallel distribution; without one, or when
    already inside such a call, it runs as it is."""
    @functools.wraps(method)
    def call(self, *args, **kwargs):
        distribution = _distribution[0]
        if distribution is None or self._replicas is not LOCAL:
            return method(self, *args, **kwargs)
        return distribution._run_call(self, method, args, kwargs)
    return call
