"""Timing: competitors interleaved round-robin in one process, medians of repeats.

A "competitor" is a zero-argument callable doing one unit of work (one GEMM, one
epoch of training, ...). ``interleaved`` warms each one up, picks for each an inner
loop count so that one sample lasts at least ``min_sample_s`` (short calls are timed
in a loop, never singly), then takes ``repeats`` samples of every competitor in
rotating order, so that drift on a noisy shared machine hits all of them alike.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Timing:
    """Seconds per call of one competitor: the median and every sample."""

    median_s: float
    samples_s: list[float] = field(default_factory=list)
    calls_per_sample: int = 1

    @property
    def spread(self) -> float:
        """(max - min) / median of the samples: how noisy the measurement was."""
        return (max(self.samples_s) - min(self.samples_s)) / self.median_s


def _run(fn, calls: int) -> float:
    """Seconds per call of `calls` calls of fn (a competitor run elsewhere times itself:
    `fn.sample(calls)`, benchmarks/other_builds.py)."""
    sample = getattr(fn, "sample", None)
    if sample is not None:
        return sample(calls)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def _calls_for(fn: Callable[[], object], min_sample_s: float, warm_up: bool) -> int:
    """Warms fn up, then picks an inner loop count so one sample lasts min_sample_s."""
    if warm_up:
        fn()  # first-call costs (allocation, compilation, page faults) stay out
    if min_sample_s <= 0:
        return 1
    calls = 1
    while True:
        elapsed = _run(fn, calls) * calls
        if elapsed >= min_sample_s or calls >= 1 << 20:
            return calls
        # Aim a little past the target so that one more round usually suffices.
        calls = max(calls * 2, int(calls * 1.2 * min_sample_s / max(elapsed, 1e-9)))


def interleaved(competitors: dict[str, Callable[[], object]], repeats: int,
                min_sample_s: float, settle_s: float = 0.0,
                warm_up: bool = True) -> dict[str, Timing]:
    """Times every competitor `repeats` times, round-robin; returns seconds per call.

    settle_s: a pause before each sample, so that the worker threads the previous
    competitor left spinning (OpenBLAS spins about 0.1 s after a call, OpenMP
    runtimes a little) are asleep and do not steal a core from the next one. Callers
    pass it when timing more than one thread.
    warm_up: call each competitor once before timing (False: the caller just did).
    """
    calls = {name: _calls_for(fn, min_sample_s, warm_up) for name, fn in competitors.items()}
    samples: dict[str, list[float]] = {name: [] for name in competitors}
    names = list(competitors)
    for r in range(repeats):
        # Rotate the order so no competitor always runs right after the same other one.
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            fn, n = competitors[name], calls[name]
            if settle_s:
                time.sleep(settle_s)
            samples[name].append(_run(fn, n))
    return {name: Timing(statistics.median(s), s, calls[name]) for name, s in samples.items()}
