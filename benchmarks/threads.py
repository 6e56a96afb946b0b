"""One thread count for every competitor: pydl's core, NumPy's BLAS, PyTorch.

NumPy's BLAS threads are limited with threadpoolctl when it is installed (the
`bench` extra); without it they are left as they are, and the report says so.
"""

from __future__ import annotations

import contextlib
import os
import sys


def all_cores() -> int:
    """Cores this process may run on (the affinity mask, else cpu_count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def blas_control_note() -> str:
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        return "NumPy BLAS threads NOT controlled (pip install threadpoolctl)"
    return "NumPy BLAS threads set with threadpoolctl"


@contextlib.contextmanager
def use_threads(n: int):
    """Sets pydl, NumPy's BLAS and (if imported) PyTorch to n threads for the block."""
    restore = []
    try:
        import pydl

        previous = pydl.get_num_threads()
        pydl.set_num_threads(n)
        restore.append(lambda: pydl.set_num_threads(previous))
    except (ImportError, AttributeError):
        pass
    torch = sys.modules.get("torch")
    if torch is not None:
        previous_torch = torch.get_num_threads()
        torch.set_num_threads(n)
        restore.append(lambda: torch.set_num_threads(previous_torch))
    with contextlib.ExitStack() as stack:
        try:
            from threadpoolctl import threadpool_limits

            stack.enter_context(threadpool_limits(limits=n, user_api="blas"))
        except ImportError:
            pass
        try:
            yield
        finally:
            for undo in reversed(restore):
                undo()
