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
from .common import (close, per_thread_count, present, record_timings, shape_label,
                     time_competitors, torch_or_none, wrong_notes)

WORKLOAD = "dense"
COMPETITORS = ("NumPy", "pydl", "torch")


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
        x = rng.standard_normal((m, k), dtype=np.float32)
        w = (rng.standard_normal((k, n), dtype=np.float32) / np.sqrt(k)).astype(np.float32)
        b = rng.standard_normal(n, dtype=np.float32)
        dy = rng.standard_normal((m, n), dtype=np.float32)
        z64 = x.astype(np.float64) @ w + b
        dw_ref = x.T.astype(np.float64) @ (dy * (z64 > 0))
        dws = {}  # name -> the competitor's dW after its last call

        def numpy_dense():
            dense = _NumpyDense(x, w, b, dy)
            dws["NumPy"] = lambda: dense.dw
            return dense

        makers = {"NumPy": numpy_dense}
        if funcs is not None:
            def pydl_dense():
                dense = _PydlDense(funcs[0], funcs[1], x, w, b, dy)
                dws["pydl"] = lambda: dense.dw
                return dense

            makers["pydl"] = pydl_dense
        if torch is not None:
            def torch_dense():
                call, holder = _torch_dense(torch, x, w, b, dy)
                dws["torch"] = lambda: holder["dw"].numpy().T
                return call

            makers["torch"] = torch_dense
        # "pydl Dense forward/backward: not available yet: ..." when a binding rejects these.
        timings = time_competitors(run, makers, threads, "Dense forward/backward")
        record_timings(run, WORKLOAD, shape_label(m, k, n), threads, timings, "GFLOP/s",
                       value=lambda s: 6.0 * m * k * n / s / 1e9,
                       extra=lambda name, v: {"correct": close(dws[name](), dw_ref)})


def table(run: Run, shapes, threads: int) -> Table:
    cases = [shape_label(*s) for s in shapes]
    competitors = present(run, WORKLOAD, cases, threads, COMPETITORS)
    headers = (["shape (batch x in . in x out)"]
               + [f"{c} us/call" for c in competitors] + [f"{c} GFLOP/s" for c in competitors]
               + ["pydl / NumPy"])
    rows, series = [], {c: [] for c in competitors}
    for case in cases:
        recs = {c: run.find(WORKLOAD, case, threads, c) for c in competitors}
        for c, r in recs.items():
            series[c].append(r["value"] if r else None)
        us = [fmt(recs[c]["median_s"] * 1e6) if recs[c] else "n/a" for c in competitors]
        gf = [fmt(recs[c]["value"]) if recs[c] else "n/a" for c in competitors]
        p, q = recs.get("pydl"), recs.get("NumPy")
        rows.append([case] + us + gf + [ratio(p and p["value"], q and q["value"])])
    notes = wrong_notes(run, WORKLOAD, cases, threads, competitors, "dW")
    notes.append("One call: forward (bias + relu) and backward (dW, db, dx); 6*M*K*N FLOPs.")
    return Table(f"Dense layer forward + backward, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "GFLOP/s", "categories": cases, "series": series})


def run_workload(run: Run) -> None:
    per_thread_count(run, lambda threads: measure(run, run.settings.dense_shapes, threads),
                     lambda threads: table(run, run.settings.dense_shapes, threads))
