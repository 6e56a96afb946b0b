"""Batches that arrive one at a time: Python generators and iterators, and PyDatasets.

Arrays (and lists or dicts of them, pandas DataFrames and Series) are converted once
into a ``data.Dataset``; the sources here instead yield ``x``, ``(x,)``, ``(x, y)`` or
``(x, y, sample_weight)`` per batch, and the trainer converts and checks each batch as
it comes (naming the batch in any error). ``stream_of(x, ...)`` says which kind ``x`` is.
"""

from __future__ import annotations

import collections
import concurrent.futures
import types

import numpy as np

from .. import _random


def to_numpy_if_pandas(value):
    """A pandas DataFrame or Series as its NumPy array (Keras reads them as arrays)."""
    module = type(value).__module__
    if module.startswith("pandas.") and hasattr(value, "to_numpy"):
        return value.to_numpy()
    return value


def is_stream(x) -> bool:
    """Whether `x` yields batches (a generator, an iterator or a PyDataset)."""
    from ..utils.py_dataset import PyDataset

    if isinstance(x, PyDataset):
        return True
    if isinstance(x, (np.ndarray, list, tuple, dict, str, bytes)) or x is None:
        return False
    return isinstance(x, types.GeneratorType) or (hasattr(x, "__next__") and
                                                   hasattr(x, "__iter__"))


class IteratorStream:
    """A generator or iterator: each epoch reads on from where the last one stopped
    (a generator cannot be rewound, as in Keras)."""

    def __init__(self, iterator):
        self._iterator = iterator
        self.num_batches = None  # unknown: until it ends, or steps_per_epoch

    def epoch(self, shuffle: bool):
        iterator = self._iterator
        while True:
            try:
                yield next(iterator)
            except StopIteration:
                return

    def end_epoch(self) -> None:
        pass


class PyDatasetStream:
    """A PyDataset: ``len`` batches per epoch, in a shuffled order when asked (pydl's
    seeded generator), prepared ahead by ``workers`` threads."""

    def __init__(self, dataset):
        self.dataset = dataset
        try:
            self.num_batches = int(len(dataset))
        except TypeError as exc:
            raise TypeError(f"x: a PyDataset must define __len__ (batches per epoch): {exc}") \
                from None
        if self.num_batches < 0:
            raise ValueError(f"x: len() of the PyDataset is {self.num_batches}, expected >= 0")

    def epoch(self, shuffle: bool):
        self.dataset.on_epoch_begin()
        order = np.arange(self.num_batches)
        if shuffle:
            order = _random.generator().permutation(self.num_batches)
        workers = getattr(self.dataset, "_workers", 1)
        if workers <= 1:
            for index in order:
                yield self.dataset[int(index)]
            return
        ahead = max(1, getattr(self.dataset, "_max_queue_size", 10))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            pending = collections.deque()
            indices = iter(order)
            for index in indices:
                pending.append(pool.submit(self.dataset.__getitem__, int(index)))
                if len(pending) >= ahead:
                    break
            while pending:
                batch = pending.popleft().result()
                for index in indices:
                    pending.append(pool.submit(self.dataset.__getitem__, int(index)))
                    break
                yield batch

    def end_epoch(self) -> None:
        self.dataset.on_epoch_end()


def stream_of(x, y, sample_weight, argument: str = "x"):
    """The stream `x` is, after checking that no separate targets come with it."""
    from ..utils.py_dataset import PyDataset

    if y is not None or sample_weight is not None:
        raise ValueError(f"{argument}: `y` and `sample_weight` are not supported when `x` is a "
                         "generator, an iterator or a PyDataset; yield (x, y) or "
                         "(x, y, sample_weight) batches instead")
    if isinstance(x, PyDataset):
        return PyDatasetStream(x)
    return IteratorStream(x)
