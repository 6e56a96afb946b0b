"""Competing busy processes: what a browser tab, a second Jupyter kernel or another
job does to the cores while a benchmark runs.

Each is ``python -c "while True: pass"``: one thread that always wants a core. They
are children of this process (same session, so the scheduler weighs each thread of
theirs like each thread of ours) and are killed when the block ends, whatever
happens inside it.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time

SPIN_CODE = "while True: pass"


@contextlib.contextmanager
def busy_processes(count: int, settle_s: float = 0.2):
    """Runs `count` busy processes for the duration of the block.

    settle_s: time given to them to start spinning before the block runs.
    """
    procs = []
    try:
        for _ in range(count):
            procs.append(subprocess.Popen([sys.executable, "-c", SPIN_CODE],
                                          stdin=subprocess.DEVNULL))
        if procs and settle_s > 0:
            time.sleep(settle_s)
        yield procs
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()
