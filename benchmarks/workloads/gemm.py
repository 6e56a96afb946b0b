"""GEMM float32: out = A @ B with a preallocated out, in GFLOP/s.

pydl: _core.gemm(a, b, out); NumPy: np.matmul(a, b, out=out) (BLAS sgemm);
PyTorch: torch.matmul(a, b, out=out).
"""

from __future__ import annotations

import numpy as np

from .. import pydl_side
from ..results import Run, Table, fmt, ratio
from ..threads import use_threads
from ..timing import interleaved
from .common import close, settle, peak_gflops, shape_label, torch_or_none

WORKLOAD = "gemm"


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
        outs = {}
        competitors = {}
        outs["NumPy"] = np.empty((m, n), np.float32)
        competitors["NumPy"] = lambda a=a, b=b, o=outs["NumPy"]: np.matmul(a, b, out=o)
        if funcs is not None:
            gemm = funcs[0]
            outs["pydl"] = np.empty((m, n), np.float32)
            competitors["pydl"] = lambda a=a, b=b, o=outs["pydl"]: gemm(a, b, o)
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            outs["torch"] = np.empty((m, n), np.float32)
            to = torch.from_numpy(outs["torch"])
            competitors["torch"] = lambda ta=ta, tb=tb, to=to: torch.matmul(ta, tb, out=to)
        with use_threads(threads):
            timings = interleaved(competitors, run.settings.repeats, run.settings.min_sample_s,
                                  settle(run, threads))
        flops = 2.0 * m * k * n
        for name, timing in timings.items():
            gflops = flops / timing.median_s / 1e9
            run.add(WORKLOAD, case, threads, name, value=gflops, unit="GFLOP/s",
                    median_s=timing.median_s, samples_s=timing.samples_s,
                    calls_per_sample=timing.calls_per_sample,
                    percent_of_peak=100.0 * gflops / peak_gflops(run, threads),
                    correct=close(outs[name], reference))


def table(run: Run, shapes, threads: int) -> Table:
    competitors = [c for c in ("NumPy", "pydl", "torch")
                   if any(run.find(WORKLOAD, shape_label(*s), threads, c) for s in shapes)]
    headers = ["shape (M x K . K x N)"] + [f"{c} GFLOP/s" for c in competitors]
    headers += ["pydl / NumPy", "pydl % of peak", "NumPy % of peak", "target"]
    rows, notes = [], []
    series = {c: [] for c in competitors}
    for m, k, n in shapes:
        case = shape_label(m, k, n)
        values = {c: run.value(WORKLOAD, case, threads, c) for c in competitors}
        for c in competitors:
            series[c].append(values[c])
            record = run.find(WORKLOAD, case, threads, c)
            if record and not record["correct"]:
                notes.append(f"{c} gave a WRONG result on {case} (vs a float64 reference)")
        pydl, numpy_ = values.get("pydl"), values.get("NumPy")
        square = m == k == n
        goal = 0.9 if square else 1.0
        if pydl is None or numpy_ is None:
            verdict = "n/a"
        elif pydl >= goal * numpy_:
            verdict = f">= {goal}x: met"
        else:
            verdict = f">= {goal}x: missed by {100 * (1 - pydl / (goal * numpy_)):.0f}%"
        pct = lambda c: run.find(WORKLOAD, case, threads, c)  # noqa: E731
        rows.append([case] + [fmt(values[c]) for c in competitors]
                    + [ratio(pydl, numpy_),
                       f"{pct('pydl')['percent_of_peak']:.0f}%" if pct("pydl") else "n/a",
                       f"{pct('NumPy')['percent_of_peak']:.0f}%" if pct("NumPy") else "n/a",
                       verdict])
    notes.append(f"% of peak: of the ESTIMATED peak at {threads} core(s), "
                 f"{fmt(peak_gflops(run, threads))} GFLOP/s (see the machine line).")
    return Table(f"GEMM float32, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "GFLOP/s", "categories": [shape_label(*s) for s in shapes],
                        "series": series})


def run_workload(run: Run) -> None:
    for threads in run.settings.threads:
        measure(run, run.settings.gemm_shapes, threads)
        t = table(run, run.settings.gemm_shapes, threads)
        run.tables.append(t)
        print(t.markdown(), flush=True)


def measured_peak(run: Run, threads: int) -> tuple[float, str]:
    """The best GEMM rate any competitor reached at this thread count (for rooflines).

    Measures NumPy on a 1024 square when the GEMM workload did not run.
    """
    rates = [r["value"] for r in run.records
             if r["workload"] == WORKLOAD and r["threads"] == threads and r.get("value")]
    if not rates:
        measure(run, [(1024, 1024, 1024)], threads)
        rates = [r["value"] for r in run.records
                 if r["workload"] == WORKLOAD and r["threads"] == threads and r.get("value")]
    return max(rates), "best GEMM GFLOP/s measured in this run"
