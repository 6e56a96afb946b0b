"""Output under data parallelism: rank 0 writes, the other processes wait.

Under an active DataParallel distribution of several processes, every process runs
the same callbacks and calls (so that their decisions stay alike), but only rank 0
writes: ``model.save`` / ``save_weights`` write on rank 0 and every process then
waits at a barrier, so that the file is complete when any process goes on;
CSVLogger writes on rank 0 only; within fit / evaluate the other processes' stdout
(progress lines, callbacks' messages) is muted.
"""

from __future__ import annotations

import contextlib
import io
import sys

from . import world


def _spanning() -> bool:
    """Whether a DataParallel distribution of several processes is active."""
    from .data_parallel import distribution

    active = distribution()
    return active is not None and active.num_model_replicas > 1


def writes_here() -> bool:
    """Whether this process writes files and logs: rank 0, or any process when no
    data-parallel distribution spans several."""
    return not _spanning() or world.rank() == 0


def chief_write(write, what: str):
    """Runs ``write()`` on rank 0 only, then waits for every process at a barrier (when a
    data-parallel distribution spans several processes; else just ``write()``)."""
    if not _spanning():
        return write()
    result = write() if world.rank() == 0 else None
    world.patient_barrier(what)
    return result


class _Null(io.TextIOBase):
    def write(self, text):
        return len(text)


@contextlib.contextmanager
def muted_stdout(muted: bool):
    """sys.stdout discarded in this block when `muted`."""
    if not muted:
        yield
        return
    previous = sys.stdout
    sys.stdout = _Null()
    try:
        yield
    finally:
        sys.stdout = previous
