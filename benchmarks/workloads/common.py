"""Helpers shared by the workloads: optional competitors, building and timing them,
recording and publishing the results, checks."""

from __future__ import annotations

from typing import Callable, Iterable

import numpy as np

from .. import torch_side
from ..results import Run, Table
from ..threads import use_threads
from ..timing import Timing, interleaved

# A maker builds one competitor: a zero-argument callable doing one unit of work.
Maker = Callable[[], Callable[[], object]]


def torch_or_none(run: Run, what: str):
    """The torch module when enabled and importable; else None (and says why once)."""
    if not run.settings.use_torch:
        return None
    torch, reason = torch_side.import_torch()
    if torch is None:
        run.say_unavailable(f"PyTorch columns ({what})", reason)
    return torch


def time_competitors(run: Run, makers: dict[str, Maker], threads: int, what: str,
                     check: Callable[[object], None] | None = None,
                     min_sample_s: float | None = None) -> dict[str, Timing]:
    """Builds, warms up and times every competitor at `threads` threads, interleaved.

    Each maker is built and its competitor called once (the warm-up: first-call costs,
    compilation, and a binding that rejects the arguments all surface here); `check`,
    when given, gets that call's result and raises if it is wrong. A competitor that
    fails is reported as "<name> <what>: not available yet: <reason>" and left out, so
    one broken competitor never costs the others their numbers.
    min_sample_s: defaults to the run's setting (0: one call per sample).
    """
    if min_sample_s is None:
        min_sample_s = run.settings.min_sample_s
    with use_threads(threads):
        competitors = {}
        for name, make in makers.items():
            try:
                fn = make()
                result = fn()
                if check is not None:
                    check(result)
            except Exception as exc:
                run.say_unavailable(f"{name} {what}", f"{type(exc).__name__}: {exc}"[:300])
                continue
            competitors[name] = fn
        return interleaved(competitors, run.settings.repeats, min_sample_s,
                           settle(run, threads), warm_up=False)


def record_timings(run: Run, workload: str, case: str, threads: int,
                   timings: dict[str, Timing], unit: str, value: Callable[[float], float],
                   extra: Callable[[str, float], dict] = lambda name, value: {}) -> None:
    """One record per competitor: value(median seconds per call) in `unit`, the median,
    every sample, and extra(name, value)'s fields."""
    for name, timing in timings.items():
        v = value(timing.median_s)
        run.add(workload, case, threads, name, value=v, unit=unit, median_s=timing.median_s,
                samples_s=timing.samples_s, calls_per_sample=timing.calls_per_sample,
                **extra(name, v))


def present(run: Run, workload: str, cases: Iterable[str], threads: int,
            names: Iterable[str]) -> list[str]:
    """The competitors among `names`, in that order, measured on any of `cases`."""
    cases = list(cases)
    return [c for c in names if any(run.find(workload, k, threads, c) for k in cases)]


def wrong_notes(run: Run, workload: str, cases: Iterable[str], threads: int,
                competitors: Iterable[str], what: str) -> list[str]:
    """A table note for every record whose result failed its float64 check."""
    notes = []
    for case in cases:
        for c in competitors:
            record = run.find(workload, case, threads, c)
            if record and not record["correct"]:
                notes.append(f"{c} gave a WRONG {what} on {case} (vs a float64 reference)")
    return notes


def publish(run: Run, table: Table) -> None:
    """Adds the table to the run's report and prints it at once (long runs show progress)."""
    run.tables.append(table)
    print(table.markdown(), flush=True)


def per_thread_count(run: Run, measure: Callable[[int], None],
                     table: Callable[[int], Table]) -> None:
    """The usual workload: measure, then publish its table, at each thread count."""
    for threads in run.settings.threads:
        measure(threads)
        publish(run, table(threads))


def close(result: np.ndarray, reference: np.ndarray, rtol: float = 1e-3) -> bool:
    """float32 results agree with a float64 reference: relative Frobenius error <= rtol.

    A norm-wise test, because a relu mask legitimately flips on the few entries whose
    pre-activation rounds across zero in float32.
    """
    scale = float(np.linalg.norm(reference)) or 1.0
    return bool(np.linalg.norm(result - reference) <= rtol * scale)


def shape_label(m: int, k: int, n: int) -> str:
    return f"{m}x{k} . {k}x{n}"


def settle(run: Run, threads: int) -> float:
    """The pause before each timed sample: only worker threads need to fall asleep."""
    return run.settings.settle_s if threads > 1 else 0.0


def pydl_fit_epoch(model, x, y, batch: int, tape: bool = False) -> Callable[[], float]:
    """One timed sample: an epoch of `model.fit`, returning its loss. On the fused plan
    unless `tape` (then on the GradientTape); a model that should have taken the plan and
    did not is an error, not a slower number."""
    from pydl.models import plan

    def run_epoch():
        if tape:
            with plan.disabled():
                return model.fit(x, y, batch_size=batch, epochs=1, verbose=0).history["loss"][-1]
        history = model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        if model._trained_on != "plan":
            raise RuntimeError(f"the model trained on the tape: {plan.plan_reason(model)}")
        return history.history["loss"][-1]

    return run_epoch
