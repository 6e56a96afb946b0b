"""GEMM float32: out = A @ B with a preallocated out, in GFLOP/s.

pydl: _core.gemm(a, b, out); NumPy: np.matmul(a, b, out=out) (BLAS sgemm);
PyTorch: torch.matmul(a, b, out=out).
"""

from __future__ import annotations

import numpy as np

from .. import pydl_side
from ..other_builds import other_names, remote_makers
from ..machine import peak_reference
from ..results import Run, Table, fmt, ratio
from .common import (close, present, publish, record_timings, shape_label, time_competitors,
                     torch_or_none, wrong_notes)

WORKLOAD = "gemm"
COMPETITORS = ("NumPy", "pydl", "torch")


def measure(run: Run, shapes, threads: int) -> None:
    """Adds one record per (shape, competitor) at this thread count."""
    funcs, reason = pydl_side.core_functions("gemm")
    if funcs is None:
        run.say_unavailable("pydl GEMM", reason)
    torch = torch_or_none(run, "GEMM")
    rng = np.random.default_rng(0)
    for m, k, n in shapes:
        case = shape_label(m, k, n)
        if run.find(WORKLOAD, case, threads, "NumPy"):
            continue  # measured already (the scaling workload reuses these)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        reference = a.astype(np.float64) @ b.astype(np.float64)
        outs = {name: np.empty((m, n), np.float32) for name in COMPETITORS}
        makers = {"NumPy": lambda: lambda o=outs["NumPy"]: np.matmul(a, b, out=o)}
        if funcs is not None:
            gemm = funcs[0]
            makers["pydl"] = lambda: lambda o=outs["pydl"]: gemm(a, b, o)
        if torch is not None:
            def torch_gemm(ta=torch.from_numpy(a), tb=torch.from_numpy(b),
                           to=torch.from_numpy(outs["torch"])):
                return lambda: torch.matmul(ta, tb, out=to)
            makers["torch"] = torch_gemm
        errors = {}  # other builds check their own result against a float64 product
        request = {"op": "gemm", "shape": [m, k, n], "threads": threads}
        for name, make in remote_makers(run, request).items():
            def remote(make=make, name=name):
                competitor = make()
                errors[name] = competitor.setup.get("relative_error")
                return competitor
            makers[name] = remote
        timings = time_competitors(run, makers, threads, "GEMM")

        def correct(name):
            if name in outs:
                return close(outs[name], reference)
            return errors.get(name) is not None and errors[name] <= 1e-3

        record_timings(run, WORKLOAD, case, threads, timings, "GFLOP/s",
                       value=lambda s: 2.0 * m * k * n / s / 1e9,
                       extra=lambda name, v: {"correct": correct(name)})


def best_per_core(run: Run) -> float | None:
    """The fastest correct GEMM of this run, in GFLOP/s per thread (any thread count)."""
    rates = [r["value"] / r["threads"] for r in run.records
             if r["workload"] == WORKLOAD and r.get("value") and r.get("correct")]
    return max(rates, default=None)


def percent_reference(run: Run) -> dict:
    """What "% of ..." divides by, per core (machine.peak_reference); kept in the
    machine description so that the machine lines say the same as the tables."""
    run.machine["peak_used"] = peak_reference(run.machine["peak"], best_per_core(run))
    return run.machine["peak_used"]


def _verdict(pydl: float | None, numpy_: float | None, square: bool) -> str:
    """design.md: at least 0.9x NumPy on large squares, 1.0x on MLP shapes."""
    goal = 0.9 if square else 1.0
    if pydl is None or numpy_ is None:
        return "n/a"
    if pydl >= goal * numpy_:
        return f">= {goal}x: met"
    return f">= {goal}x: missed by {100 * (1 - pydl / (goal * numpy_)):.0f}%"


def table(run: Run, shapes, threads: int) -> Table:
    cases = [shape_label(*s) for s in shapes]
    competitors = present(run, WORKLOAD, cases, threads, COMPETITORS + tuple(other_names(run)))
    others = [c for c in competitors if c.startswith("pydl@")]
    ref = percent_reference(run)
    ceiling = ref["gflops_per_core"] * threads
    headers = ["shape (M x K . K x N)"] + [f"{c} GFLOP/s" for c in competitors]
    headers += ["pydl / NumPy"] + [f"pydl / {c}" for c in others]
    headers += [f"pydl % of {ref['label']}", f"NumPy % of {ref['label']}", "target"]
    rows, series = [], {c: [] for c in competitors}
    for (m, k, n), case in zip(shapes, cases):
        values = {c: run.value(WORKLOAD, case, threads, c) for c in competitors}
        for c in competitors:
            series[c].append(values[c])
        pydl, numpy_ = values.get("pydl"), values.get("NumPy")
        percent = lambda v: f"{100 * v / ceiling:.0f}%" if v else "n/a"  # noqa: E731
        rows.append([case] + [fmt(values[c]) for c in competitors]
                    + [ratio(pydl, numpy_)] + [ratio(pydl, values[c]) for c in others]
                    + [percent(pydl), percent(numpy_), _verdict(pydl, numpy_, m == k == n)])
    notes = wrong_notes(run, WORKLOAD, cases, threads, competitors, "result")
    if ref["source"] == "estimate":
        notes.append(f"% of peak (est.): of the ESTIMATED peak at {threads} core(s), "
                     f"{fmt(ceiling)} GFLOP/s (see the Peak line).")
    else:
        notes.append(f"% of best GEMM: of {fmt(ref['gflops_per_core'])} GFLOP/s per core x "
                     f"{threads} core(s) = {fmt(ceiling)} GFLOP/s, the fastest GEMM per core "
                     f"measured in this run (the estimated peak is below it; see the Peak line).")
    return Table(f"GEMM float32, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "GFLOP/s", "categories": cases, "series": series})


def run_workload(run: Run) -> None:
    # Every thread count first: the "% of" reference is the best rate of all of them,
    # and each table must divide by the same one.
    for threads in run.settings.threads:
        measure(run, run.settings.gemm_shapes, threads)
    for threads in run.settings.threads:
        publish(run, table(run, run.settings.gemm_shapes, threads))


def measured_peak(run: Run, threads: int) -> tuple[float, str]:
    """The best GEMM rate any competitor reached at this thread count (for rooflines).

    Measures NumPy on a 1024 square when the GEMM workload did not run.
    """
    def rates():
        return [r["value"] for r in run.records
                if r["workload"] == WORKLOAD and r["threads"] == threads and r.get("value")]

    if not rates():
        measure(run, [(1024, 1024, 1024)], threads)
    return max(rates()), "best GEMM GFLOP/s measured in this run"
