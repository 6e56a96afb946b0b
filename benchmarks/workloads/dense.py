"""Dense layer forward + backward (relu) at the GEMM shapes: (batch M, in K, out N).

One call = y = relu(x @ w + b), then dz = dy * relu'(y), dw = x.T @ dz,
db = sum(dz), dx = dz @ w.T: 6*M*K*N FLOPs. pydl: _core.dense_forward +
_core.dense_backward into preallocated outputs. NumPy: the same with np.matmul(out=)
and a preallocated mask. PyTorch: nn.Linear + relu, autograd backward.
"""

from __future__ import annotations

import numpy as np

from .. import pydl_side
from ..results import Run, Table, fmt, ratio
from ..threads import use_threads
from ..timing import interleaved
from .common import close, settle, shape_label, torch_or_none

WORKLOAD = "dense"


class _NumpyDense:
    def __init__(self, x, w, b, dy):
        self.x, self.w, self.b, self.dy = x, w, b, dy
        m, n = dy.shape
        self.y = np.empty((m, n), np.float32)
        self.mask = np.empty((m, n), bool)
        self.dz = np.empty((m, n), np.float32)
        self.dw = np.empty_like(w)
        self.db = np.empty_like(b)
        self.dx = np.empty_like(x)

    def __call__(self):
        np.matmul(self.x, self.w, out=self.y)
        self.y += self.b
        np.maximum(self.y, 0, out=self.y)
        np.greater(self.y, 0, out=self.mask)
        np.multiply(self.dy, self.mask, out=self.dz)
        np.matmul(self.x.T, self.dz, out=self.dw)
        np.sum(self.dz, axis=0, out=self.db)
        np.matmul(self.dz, self.w.T, out=self.dx)


class _PydlDense:
    def __init__(self, forward, backward, x, w, b, dy):
        self.forward, self.backward = forward, backward
        self.x, self.w, self.b, self.dy = x, w, b, dy
        m, n = dy.shape
        self.y = np.empty((m, n), np.float32)
        self.dz = np.empty((m, n), np.float32)
        self.dw = np.empty_like(w)
        self.db = np.empty_like(b)
        self.dx = np.empty_like(x)

    def __call__(self):
        self.forward(self.x, self.w, self.b, "relu", self.y, None)
        self.backward(self.x, self.w, None, self.y, self.dy, "relu",
                      self.dz, self.dx, self.dw, self.db)


def _torch_dense(torch, x, w, b, dy):
    layer = torch.nn.Linear(w.shape[0], w.shape[1])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w.T.copy()))
        layer.bias.copy_(torch.from_numpy(b))
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tdy = torch.from_numpy(dy)
    holder = {}

    def call():
        layer.zero_grad(set_to_none=True)
        tx.grad = None
        y = torch.relu(layer(tx))
        y.backward(tdy)
        holder["dw"] = layer.weight.grad

    return call, holder


def measure(run: Run, shapes, threads: int) -> None:
    funcs, reason = pydl_side.core_functions("dense_forward", "dense_backward")
    if funcs is None:
        run.say_unavailable("pydl Dense forward/backward", reason)
    torch = torch_or_none(run, "Dense")
    rng = np.random.default_rng(1)
    for m, k, n in shapes:
        case = shape_label(m, k, n)
        x = rng.standard_normal((m, k), dtype=np.float32)
        w = (rng.standard_normal((k, n), dtype=np.float32) / np.sqrt(k)).astype(np.float32)
        b = rng.standard_normal(n, dtype=np.float32)
        dy = rng.standard_normal((m, n), dtype=np.float32)
        z64 = x.astype(np.float64) @ w + b
        dw_ref = x.T.astype(np.float64) @ (dy * (z64 > 0))
        competitors, dws = {}, {}
        numpy_dense = _NumpyDense(x, w, b, dy)
        competitors["NumPy"], dws["NumPy"] = numpy_dense, lambda: numpy_dense.dw
        if funcs is not None:
            pydl_dense = _PydlDense(funcs[0], funcs[1], x, w, b, dy)
            competitors["pydl"], dws["pydl"] = pydl_dense, lambda: pydl_dense.dw
        if torch is not None:
            call, holder = _torch_dense(torch, x, w, b, dy)
            competitors["torch"] = call
            dws["torch"] = lambda: holder["dw"].numpy().T
        try:
            with use_threads(threads):
                timings = interleaved(competitors, run.settings.repeats,
                                      run.settings.min_sample_s, settle(run, threads))
        except Exception as exc:  # a pydl binding that exists but rejects these arguments
            run.say_unavailable("pydl Dense forward/backward", f"{type(exc).__name__}: {exc}")
            competitors.pop("pydl", None)
            with use_threads(threads):
                timings = interleaved(competitors, run.settings.repeats,
                                      run.settings.min_sample_s, settle(run, threads))
        for name, timing in timings.items():
            run.add(WORKLOAD, case, threads, name, value=6.0 * m * k * n / timing.median_s / 1e9,
                    unit="GFLOP/s", median_s=timing.median_s, samples_s=timing.samples_s,
                    calls_per_sample=timing.calls_per_sample,
                    correct=close(dws[name](), dw_ref))


def table(run: Run, shapes, threads: int) -> Table:
    competitors = [c for c in ("NumPy", "pydl", "torch")
                   if any(run.find(WORKLOAD, shape_label(*s), threads, c) for s in shapes)]
    headers = (["shape (batch x in . in x out)"]
               + [f"{c} us/call" for c in competitors] + [f"{c} GFLOP/s" for c in competitors]
               + ["pydl / NumPy"])
    rows, notes, series = [], [], {c: [] for c in competitors}
    for s in shapes:
        case = shape_label(*s)
        recs = {c: run.find(WORKLOAD, case, threads, c) for c in competitors}
        for c, r in recs.items():
            series[c].append(r["value"] if r else None)
            if r and not r["correct"]:
                notes.append(f"{c} gave a WRONG dW on {case} (vs a float64 reference)")
        us = [fmt(recs[c]["median_s"] * 1e6) if recs[c] else "n/a" for c in competitors]
        gf = [fmt(recs[c]["value"]) if recs[c] else "n/a" for c in competitors]
        p, q = recs.get("pydl"), recs.get("NumPy")
        rows.append([case] + us + gf + [ratio(p and p["value"], q and q["value"])])
    notes.append("One call: forward (bias + relu) and backward (dW, db, dx); 6*M*K*N FLOPs.")
    return Table(f"Dense layer forward + backward, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "GFLOP/s", "categories": [shape_label(*s) for s in shapes],
                        "series": series})


def run_workload(run: Run) -> None:
    for threads in run.settings.threads:
        measure(run, run.settings.dense_shapes, threads)
        t = table(run, run.settings.dense_shapes, threads)
        run.tables.append(t)
        print(t.markdown(), flush=True)
