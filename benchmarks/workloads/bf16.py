"""bfloat16 (issue 16): pydl's bf16 GEMM against its float32 GEMM, as a percentage of
the peaks that register-only loops of VDPBF16PS and of VFMADD231PS measure on this core
(`_core._peak_probe`), timed interleaved with the GEMMs; then `mixed_bfloat16` training
against float32 training and against PyTorch with
`torch.autocast("cpu", dtype=torch.bfloat16)` (and PyTorch float32), on
1024-4096-4096-1024 (MSE, b256) and 784-512-256-10 (softmax-CE, b128), SGD-momentum.

Every competitor is timed interleaved in this process (medians of the repeats); the
1-minute load average before each table is printed with it, since a loaded machine
lowers every rate (the ratios less so).
"""

from __future__ import annotations

import math
import os

import numpy as np

from .. import torch_side
from ..results import Run, Table, fmt, ratio
from .common import close, present, publish, record_timings, shape_label, time_competitors, \
    torch_or_none

WORKLOAD = "bf16"
GEMM_TARGET = 1.7  # bf16 / float32 GEMM
TRAIN_TARGETS = {(1024, 4096, 4096, 1024): 1.5, (784, 512, 256, 10): 1.3}
GEMMS = ("pydl float32", "pydl bf16")
PEAKS = ("float32 peak", "bf16 peak")
TRAINERS = ("pydl float32", "pydl mixed_bfloat16", "torch float32", "torch autocast bf16")
PROBE_ROUNDS = 1 << 20  # ~7 ms of VDPBF16PS on one Zen 4 core; looped to the sample time


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def _core():
    from pydl import _core

    return _core


# -- GEMM ----------------------------------------------------------------------------
def _probe(kind: str):
    core = _core()

    def run():
        flops, _, _ = core._peak_probe(kind, PROBE_ROUNDS)
        if flops <= 0:
            raise RuntimeError(f"the active SIMD path ({core.active_isa()}) has no {kind} probe")
        return flops
    return run


def measure_peaks(run: Run) -> None:
    """The one-core probes alone (when no 1-thread GEMM table times them alongside)."""
    makers = {"float32 peak": lambda: _probe("float32"), "bf16 peak": lambda: _probe("bfloat16")}
    for name, timing in time_competitors(run, makers, 1, "peak probe").items():
        flops = 24 * (64 if name == "bf16 peak" else 32) * PROBE_ROUNDS
        record_timings(run, WORKLOAD, "peak", 1, {name: timing}, "GFLOP/s",
                       value=lambda s, f=flops: f / s / 1e9)


def measure_gemm(run: Run, shapes, threads: int) -> None:
    core = _core()
    if not core.bf16_kernels():
        run.say_unavailable("pydl bf16 GEMM", "no bfloat16 kernels here (show_config()['bf16'] "
                                              "is False): bf16=True runs the float32 kernels")
    rng = np.random.default_rng(0)
    for m, k, n in shapes:
        case = shape_label(m, k, n)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        outs = {name: np.empty((m, n), np.float32) for name in GEMMS}
        makers = {"pydl float32": lambda o=outs["pydl float32"]: lambda: core.gemm(a, b, o),
                  "pydl bf16": lambda o=outs["pydl bf16"]: lambda: core.gemm(a, b, o, bf16=True)}
        if threads == 1:  # the probes are one-core loops
            makers.update({"float32 peak": lambda: _probe("float32"),
                           "bf16 peak": lambda: _probe("bfloat16")})
        timings = time_competitors(run, makers, threads, f"GEMM {case}")
        reference = a.astype(np.float64) @ b.astype(np.float64)
        # bf16 operands: ~2^-9 relative rounding each, so 1e-2 norm-wise (1e-5 for float32)
        tolerance = {"pydl float32": 1e-5, "pydl bf16": 1e-2}

        def value(name):
            if name in PEAKS:
                return lambda s: 24 * (64 if name == "bf16 peak" else 32) * PROBE_ROUNDS / s / 1e9
            return lambda s: 2.0 * m * k * n / s / 1e9

        for name, timing in timings.items():
            extra = {"correct": close(outs[name], reference, rtol=tolerance[name])} \
                if name in GEMMS else {}
            record_timings(run, WORKLOAD, case if name in GEMMS else "peak", threads,
                           {name: timing}, "GFLOP/s", value=value(name),
                           extra=lambda _n, _v, e=extra: e)


def _peak(run: Run, name: str) -> float | None:
    """The per-core peak: the best probe rate of the run (each GEMM shape times one)."""
    rates = [r["value"] for r in run.records if r["workload"] == WORKLOAD
             and r["competitor"] == name and r.get("value")]
    return max(rates, default=None)


def gemm_table(run: Run, shapes, threads: int, load: str) -> Table:
    cases = [shape_label(*s) for s in shapes]
    names = present(run, WORKLOAD, cases, threads, GEMMS)
    peaks = {name: _peak(run, name) for name in PEAKS}
    headers = (["shape (M x K . K x N)"] + [f"{c} GFLOP/s" for c in names]
               + ["bf16 / float32", "bf16 % of bf16 peak", "float32 % of float32 peak",
                  "target"])
    rows, series, notes = [], {c: [] for c in names}, []
    for case in cases:
        v = {c: run.value(WORKLOAD, case, threads, c) for c in names}
        for c in names:
            series[c].append(v[c])
            record = run.find(WORKLOAD, case, threads, c)
            if record and not record["correct"]:
                notes.append(f"{c} gave a WRONG product on {case}")

        def percent(value, peak):
            return f"{100 * value / (peak * threads):.0f}%" if value and peak else "n/a"

        f32, bf16 = v.get("pydl float32"), v.get("pydl bf16")
        verdict = "n/a" if not (f32 and bf16) else (
            f">= {GEMM_TARGET}x: met" if bf16 >= GEMM_TARGET * f32 else
            f">= {GEMM_TARGET}x: missed by {100 * (1 - bf16 / (GEMM_TARGET * f32)):.0f}%")
        rows.append([case] + [fmt(v[c]) for c in names]
                    + [ratio(bf16, f32), percent(bf16, peaks["bf16 peak"]),
                       percent(f32, peaks["float32 peak"]), verdict])
    notes.append(f"Peaks measured on one core in this run, interleaved with the 1-thread "
                 f"GEMMs: bf16 {fmt(peaks['bf16 peak'])} GFLOP/s (24 independent VDPBF16PS "
                 f"on zmm, 64 FLOPs each), float32 {fmt(peaks['float32 peak'])} GFLOP/s "
                 f"(VFMADD231PS, 32 FLOPs each); at {threads} thread(s) the peak is "
                 f"{threads} x that.")
    notes.append(f"bf16: A and B rounded to bfloat16 in the packing, float32 sums and output "
                 f"(checked against a float64 product: norm-wise within 1e-2). Load average "
                 f"(1 min) before these measurements: {load} on {os.cpu_count()} CPUs.")
    return Table(f"bfloat16 GEMM, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "GFLOP/s", "categories": cases, "series": series})


# -- training ------------------------------------------------------------------------
def _data(net, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = net.steps * net.batch
    x = rng.standard_normal((n, net.sizes[0]), dtype=np.float32)
    if net.loss == "mse":
        return x, 0.5 * rng.standard_normal((n, net.sizes[-1]), dtype=np.float32)
    return x, rng.integers(0, net.sizes[-1], n).astype(np.int32)


def pydl_epoch(net, x, y, policy: str):
    import pydl

    pydl.utils.set_random_seed(0)
    head = "softmax" if net.loss != "mse" else None
    hidden = [pydl.layers.Dense(n, activation="relu", dtype=policy) for n in net.sizes[1:-1]]
    model = pydl.Sequential([pydl.Input(shape=(net.sizes[0],)), *hidden,
                             pydl.layers.Dense(net.sizes[-1], activation=head, dtype=policy)])
    model.compile(optimizer=pydl.optimizers.SGD(learning_rate=net.learning_rate, momentum=0.9),
                  loss=net.loss)

    def run_epoch():
        history = model.fit(x, y, batch_size=net.batch, epochs=1, verbose=0, shuffle=True)
        return history.history["loss"][-1]
    return run_epoch


def measure_training(run: Run, nets, threads: int) -> None:
    torch = torch_or_none(run, "bf16 training")
    for net in nets:
        x, y = _data(net)
        losses = {}
        makers = {"pydl float32": lambda: pydl_epoch(net, x, y, "float32"),
                  "pydl mixed_bfloat16": lambda: pydl_epoch(net, x, y, "mixed_bfloat16")}
        if torch is not None:
            makers["torch float32"] = lambda: torch_side.epoch_fn(net, x, y, torch, False)
            makers["torch autocast bf16"] = lambda: torch_side.epoch_fn(
                net, x, y, torch, False, autocast=torch.bfloat16)

        def recording(name, make):
            def build():
                epoch = make()

                def call():
                    losses[name] = epoch()
                    return losses[name]
                return call
            return build

        timings = time_competitors(run, {k: recording(k, m) for k, m in makers.items()},
                                   threads, f"bf16 training on {net.label}", min_sample_s=0.0)
        record_timings(run, WORKLOAD, net.label, threads, timings, "samples/s",
                       value=lambda s: net.steps * net.batch / s,
                       extra=lambda name, v: {"final_loss": losses.get(name),
                                              "loss_finite": math.isfinite(losses.get(name,
                                                                                      math.nan))})


def train_table(run: Run, nets, threads: int, load: str) -> Table:
    labels = [n.label for n in nets]
    names = present(run, WORKLOAD, labels, threads, TRAINERS)
    headers = (["network"] + [f"{c} samples/s" for c in names]
               + ["mixed / float32", "mixed / torch autocast", "torch autocast / torch float32",
                  "target"])
    rows, series, notes = [], {c: [] for c in names}, []
    for net in nets:
        v = {c: run.value(WORKLOAD, net.label, threads, c) for c in names}
        for c in names:
            series[c].append(v[c])
            record = run.find(WORKLOAD, net.label, threads, c)
            if record and not record["loss_finite"]:
                notes.append(f"{c}: the loss on {net.label} was not finite")
        mixed, f32 = v.get("pydl mixed_bfloat16"), v.get("pydl float32")
        autocast = v.get("torch autocast bf16")
        goal = TRAIN_TARGETS.get(net.sizes)
        parts = []
        if goal and mixed and f32:
            short = 100 * (1 - mixed / (goal * f32))
            parts.append(f">= {goal}x float32: "
                         + ("met" if mixed >= goal * f32 else f"missed by {short:.0f}%"))
        if mixed and autocast:
            parts.append("vs torch autocast: " + ("ahead" if mixed > autocast else "behind"))
        rows.append([net.label] + [fmt(v[c]) for c in names]
                     + [ratio(mixed, f32), ratio(mixed, autocast),
                        ratio(autocast, v.get("torch float32")), "; ".join(parts) or "n/a"])
    notes.append("One timed sample = one epoch (shuffle, gather, step per batch): "
                 + ", ".join(f"{n.name}: {n.steps} steps" for n in nets)
                 + ". pydl through Sequential/compile/fit with dtype='mixed_bfloat16' on every "
                   "Dense; torch: the same nn.Sequential with torch.autocast('cpu', "
                   "dtype=torch.bfloat16) around forward and loss.")
    notes.append(f"Load average (1 min) before these measurements: {load} on "
                 f"{os.cpu_count()} CPUs.")
    return Table(f"mixed_bfloat16 training, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "samples/s", "categories": labels, "series": series,
                        "log": True})


def run_workload(run: Run) -> None:
    shapes, nets = run.settings.bf16_gemms, run.settings.bf16_nets
    loads = {}
    if 1 not in run.settings.threads:
        measure_peaks(run)
    for threads in sorted(run.settings.threads):
        loads[threads] = _load()
        measure_gemm(run, shapes, threads)
    for threads in sorted(run.settings.threads):
        publish(run, gemm_table(run, shapes, threads, loads[threads]))
    for threads in run.settings.threads:
        load = _load()
        measure_training(run, nets, threads)
        publish(run, train_table(run, nets, threads, load))
