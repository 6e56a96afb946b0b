"""Which rows of each global batch this process computes.

An epoch of ``steps`` global batches of ``B`` samples (``batch_size`` is global, as in
Keras 3) over ``N`` samples: step k covers ``b_k = min(B, N - k B)`` samples, so the
last batch may be short; nothing is padded or dropped. With P processes:

- **One data set** (``DataParallel(auto_shard_dataset=True)``: every process holds
  the same N samples). Step k covers positions ``[k B, k B + b_k)`` of the epoch
  order, the same permutation on every process; process r computes the contiguous
  slice of ``b_k // P + (r < b_k % P)`` rows that follows the slices of ranks < r.
- **Own shards** (``auto_shard_dataset=False``: process r holds its own n_r samples,
  ``N = n_0 + ... + n_{P-1}``). Every process walks through its own shard (in its own
  shuffled order) at the global pace: after step k, process r has used
  ``floor(n_r e_k / N)`` of its samples, ``e_k = min((k + 1) B, N)``. Step k's global
  batch is the sum of those rows -- B up to rounding (within P - 1 of it), exactly
  the rest of every shard at the last step of a full epoch.

A process may have no rows in a step (a last batch shorter than P, a tiny shard): it
still joins that step's gradient reduction with zeros (runner.py).
"""

from __future__ import annotations

import numpy as np


class Shards:
    """The schedule of one call: per global step, the global rows and this process's.

    Args:
        counts: samples held by each process (equal when `auto`).
        batch_size: the global batch size B.
        steps: global steps (at most ``ceil(N / B)``).
        rank: this process.
        auto: one data set shared by all (True) or a shard per process (False).

    Attributes:
        global_sizes: (steps,) rows of each global batch, all processes together.
        local_sizes: (steps,) this process's rows of each step.
        local_starts: (steps,) where each step's rows start in `local_order`'s terms.
        sizes_by_rank: (P, steps) every process's rows of every step.
    """

    def __init__(self, counts, batch_size: int, steps: int, rank: int, auto: bool):
        counts = np.asarray(counts, np.int64)
        P, B = counts.shape[0], int(batch_size)
        k = np.arange(steps, dtype=np.int64)
        self.auto, self.rank, self.size = auto, rank, P
        self.samples = int(counts[0]) if auto else int(counts.sum())
        ends = np.minimum((k + 1) * B, self.samples)
        if auto:
            self.global_sizes = ends - k * B
            q, rem = np.divmod(self.global_sizes, P)
            ranks = np.arange(P, dtype=np.int64)[:, None]
            self.sizes_by_rank = q[None, :] + (ranks < rem[None, :])
            # Where process `rank`'s slice starts inside each global batch.
            self._offsets = rank * q + np.minimum(rank, rem)
        else:
            used = np.zeros((P, steps + 1), np.int64)
            used[:, 1:] = (counts[:, None] * ends[None, :]) // max(1, self.samples)
            self.sizes_by_rank = np.diff(used, axis=1)
            self.global_sizes = self.sizes_by_rank.sum(axis=0)
            self._offsets = None
        self.local_sizes = self.sizes_by_rank[rank]
        self.local_starts = np.zeros(steps, np.int64)
        if steps:
            np.cumsum(self.local_sizes[:-1], out=self.local_starts[1:])
        self.local_rows = int(self.local_sizes.sum())
        self.max_local = int(self.local_sizes.max()) if steps else 0

    @property
    def steps(self) -> int:
        return int(self.global_sizes.shape[0])

    def empty_steps_anywhere(self) -> bool:
        """Whether some process has no rows in some step."""
        return bool((self.sizes_by_rank == 0).any())

    def positions(self) -> np.ndarray:
        """This process's rows in epoch-order positions, step after step (int64): with one
        data set, positions in the global order; with own shards, 0 .. local_rows - 1."""
        if not self.auto:
            return np.arange(self.local_rows, dtype=np.int64)
        B = int(self.global_sizes[0]) if self.steps else 0
        firsts = np.arange(self.steps, dtype=np.int64) * B + self._offsets
        # position of local row i of step k = firsts[k] + (i - local_starts[k])
        return np.repeat(firsts - self.local_starts, self.local_sizes) + \
            np.arange(self.local_rows, dtype=np.int64)

    def data_ranges(self) -> list[tuple[int, int]]:
        """(first row in this process's data, rows) of each step, in data order (no
        shuffling: evaluation)."""
        if self.auto:
            B = int(self.global_sizes[0]) if self.steps else 0
            starts = np.arange(self.steps, dtype=np.int64) * B + self._offsets
        else:
            starts = self.local_starts
        return list(zip(starts.tolist(), self.local_sizes.tolist()))
