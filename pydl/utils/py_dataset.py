"""`PyDataset`: a dataset of batches computed in Python (Keras 3's PyDataset).

    class Batches(pydl.utils.PyDataset):
        def __init__(self, x, y, batch_size, **kwargs):
            super().__init__(**kwargs)
            self.x, self.y, self.batch_size = x, y, batch_size
        def __len__(self):
            return math.ceil(len(self.x) / self.batch_size)
        def __getitem__(self, index):
            rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
            return self.x[rows], self.y[rows]

    model.fit(Batches(x, y, 32, workers=4), epochs=10)

``fit``, ``evaluate`` and ``predict`` read ``len(dataset)`` batches per epoch, in a
shuffled order when ``fit(shuffle=True)`` (pydl's seeded generator), and call
``on_epoch_end()`` after each epoch. With ``workers > 1``, up to ``max_queue_size``
batches are prepared ahead by that many threads (NumPy and pydl's core release the
GIL, so threads overlap the step); the batches still arrive in order.
"""

from __future__ import annotations

import warnings


class PyDataset:
    """Base class of Python datasets of batches (Keras 3).

    Args:
        workers: threads that prepare batches ahead (1: in the training thread).
        use_multiprocessing: accepted for Keras compatibility; pydl runs its workers as
            threads (a warning says so when True).
        max_queue_size: batches prepared ahead at most.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        for name, value in (("workers", workers), ("max_queue_size", max_queue_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"PyDataset: expected {name} to be an int >= 1, received "
                                 f"{name}={value!r}")
        if use_multiprocessing:
            warnings.warn("PyDataset: pydl runs workers as threads; use_multiprocessing=True "
                          "is ignored", stacklevel=2)
        self._workers = workers
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max_queue_size

    @property
    def workers(self) -> int:
        return self._workers

    @workers.setter
    def workers(self, value) -> None:
        self._workers = value

    @property
    def use_multiprocessing(self) -> bool:
        return self._use_multiprocessing

    @property
    def max_queue_size(self) -> int:
        return self._max_queue_size

    def __getitem__(self, index):
        """The batch at `index`: x, (x,), (x, y) or (x, y, sample_weight)."""
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__")

    def __len__(self) -> int:
        """The number of batches in an epoch."""
        raise NotImplementedError(f"{type(self).__name__} must implement __len__")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (e.g. to reshuffle its own data)."""
