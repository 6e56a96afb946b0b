"""BatchNormalization and LayerNormalization forward + backward on (batch, features) float32.

One call = training forward (batch statistics / per-row statistics) and backward (dx,
dgamma, dbeta) for an upstream gradient dy. Competitors:
- "pydl core": _core.batchnorm_forward/backward (layernorm_*) into preallocated
  buffers -- the kernels a fused training plan runs;
- "pydl tape": the layer's op on a GradientTape (batch_norm_training /
  layer_normalization, then tape.gradient), what a custom training loop runs today;
- "torch": torch.nn.functional.batch_norm / layer_norm in training mode, eager, with
  autograd's backward.
Checked: dx against a float64 NumPy reference.
"""

from __future__ import annotations

import numpy as np

from ..results import Run, Table, fmt, ratio
from .common import close, per_thread_count, present, record_timings, time_competitors, \
    torch_or_none, wrong_notes

WORKLOAD = "norm"
COMPETITORS = ("pydl core", "pydl tape", "torch")
KINDS = ("BatchNormalization", "LayerNormalization")
EPS = 1e-3


def _reference_dx(kind: str, x: np.ndarray, gamma: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dx in float64: statistics over the batch (BatchNormalization) or each row (Layer...)."""
    axis = 0 if kind == "BatchNormalization" else 1
    xd = x.astype(np.float64)
    inv = 1 / np.sqrt(xd.var(axis, keepdims=True) + EPS)
    xhat = (xd - xd.mean(axis, keepdims=True)) * inv
    g = dy.astype(np.float64) * gamma  # the gradient at xhat
    return inv * (g - g.mean(axis, keepdims=True) - xhat * (g * xhat).mean(axis, keepdims=True))


class _PydlCore:
    def __init__(self, kind, x, gamma, beta, dy):
        from pydl import _core

        self.core, self.kind = _core, kind
        self.x, self.gamma, self.beta, self.dy = x, gamma, beta, dy
        stats = x.shape[1] if kind == "BatchNormalization" else x.shape[0]
        self.y, self.dx = np.empty_like(x), np.empty_like(x)
        self.s0, self.s1, self.s2 = (np.empty(stats, np.float32) for _ in range(3))
        self.dgamma, self.dbeta = np.empty_like(gamma), np.empty_like(gamma)

    def __call__(self):
        c = self.core
        if self.kind == "BatchNormalization":
            c.batchnorm_forward(self.x, self.gamma, self.beta, self.s0, self.s1, self.s2, self.y,
                                epsilon=EPS)
            c.batchnorm_backward(self.x, self.gamma, self.s0, self.s2, self.dy, self.dx,
                                 self.dgamma, self.dbeta)
        else:
            c.layernorm_forward(self.x, self.gamma, self.beta, self.y, self.s0, self.s1,
                                epsilon=EPS)
            c.layernorm_backward(self.x, self.gamma, self.s0, self.s1, self.dy, self.dx,
                                 self.dgamma, self.dbeta)
        return self.dx


def _pydl_tape(kind, x, gamma, beta, dy):
    import pydl
    from pydl.ops.normalization import batch_norm_training

    xv, gv, bv = (pydl.Variable(a) for a in (x, gamma, beta))

    def call():
        with pydl.GradientTape() as tape:
            if kind == "BatchNormalization":
                y = batch_norm_training(xv, gv, bv, axis=-1, epsilon=EPS)[0]
            else:
                y = pydl.ops.layer_normalization(xv, gv, bv, axis=-1, epsilon=EPS)
        return tape.gradient(y, [xv, gv, bv], output_gradients=dy)[0]

    return call


def _torch(torch, kind, x, gamma, beta, dy):
    f = torch.nn.functional
    tx = torch.from_numpy(x.copy()).requires_grad_(True)
    tg = torch.from_numpy(gamma.copy()).requires_grad_(True)
    tb = torch.from_numpy(beta.copy()).requires_grad_(True)
    tdy = torch.from_numpy(dy)

    def call():
        tx.grad = tg.grad = tb.grad = None
        if kind == "BatchNormalization":
            y = f.batch_norm(tx, None, None, tg, tb, training=True, eps=EPS)
        else:
            y = f.layer_norm(tx, (x.shape[1],), tg, tb, eps=EPS)
        y.backward(tdy)
        return tx.grad.numpy()

    return call


def _case(kind: str, shape) -> str:
    return f"{kind} {shape[0]}x{shape[1]}"


def measure(run: Run, shapes, threads: int) -> None:
    torch = torch_or_none(run, "normalization")
    rng = np.random.default_rng(2)
    for shape in shapes:
        x = (rng.standard_normal(shape, dtype=np.float32) * 2 + 1).astype(np.float32)
        dy = rng.standard_normal(shape, dtype=np.float32)
        gamma = rng.standard_normal(shape[1], dtype=np.float32)
        beta = rng.standard_normal(shape[1], dtype=np.float32)
        for kind in KINDS:
            reference = _reference_dx(kind, x, gamma, dy)
            last = {}

            def recording(name, make):
                def build():
                    fn = make()

                    def call():
                        last[name] = fn()
                        return last[name]
                    return call
                return build

            makers = {"pydl core": recording("pydl core",
                                             lambda: _PydlCore(kind, x, gamma, beta, dy)),
                      "pydl tape": recording("pydl tape",
                                             lambda: _pydl_tape(kind, x, gamma, beta, dy))}
            if torch is not None:
                makers["torch"] = recording("torch",
                                            lambda: _torch(torch, kind, x, gamma, beta, dy))
            timings = time_competitors(run, makers, threads, f"{kind} forward/backward")
            record_timings(run, WORKLOAD, _case(kind, shape), threads, timings, "us/call",
                           value=lambda s: s * 1e6,
                           extra=lambda name, v: {"correct": close(np.asarray(last[name]),
                                                                   reference)})


def table(run: Run, shapes, threads: int) -> Table:
    cases = [_case(k, s) for s in shapes for k in KINDS]
    competitors = present(run, WORKLOAD, cases, threads, COMPETITORS)
    headers = (["layer, batch x features"] + [f"{c} us/call" for c in competitors]
               + [f"{c} speed / torch" for c in competitors if c != "torch"])
    rows, series = [], {c: [] for c in competitors}
    for case in cases:
        recs = {c: run.find(WORKLOAD, case, threads, c) for c in competitors}
        for c, r in recs.items():
            series[c].append(r["value"] if r else None)
        torch_us = recs.get("torch") and recs["torch"]["value"]
        rows.append([case] + [fmt(recs[c]["value"]) if recs[c] else "n/a" for c in competitors]
                    + [ratio(torch_us, recs[c] and recs[c]["value"]) for c in competitors
                       if c != "torch"])
    notes = wrong_notes(run, WORKLOAD, cases, threads, competitors, "dx")
    notes.append("One call: training forward and backward (dx, dgamma, dbeta); float32; "
                 "target: pydl core >= 1.5x torch eager.")
    return Table(f"Normalization forward + backward, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "us/call", "categories": cases, "series": series})


def run_workload(run: Run) -> None:
    per_thread_count(run, lambda threads: measure(run, run.settings.norm_shapes, threads),
                     lambda threads: table(run, run.settings.norm_shapes, threads))
