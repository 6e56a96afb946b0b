"""Training throughput (samples/s): one timed sample = one epoch of `steps` batches.

Every competitor does the same work per epoch: shuffle, gather each batch, forward,
loss, backward, optimizer update. pydl goes through its public Keras API
(Sequential + compile + fit(epochs=1, verbose=0)); NumPy is benchmarks/numpy_mlp.py;
PyTorch is eager torch.nn + torch.optim and torch.compile of the model and of the
optimizer step; JAX is one jitted step.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from .. import jax_side, pydl_side, torch_side
from ..numpy_mlp import SGD, Adam, NumpyMLP
from ..other_builds import other_names, remote_makers
from ..results import Run, Table, fmt, ratio
from . import gemm
from .common import per_thread_count, present, record_timings, time_competitors, torch_or_none

WORKLOAD = "train"
TARGETS = {(784, 512, 256, 10): 2.5, (64, 32, 10): 5.0, (1024, 4096, 4096, 1024): 1.2}


def make_data(net, samples: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, net.sizes[0]), dtype=np.float32)
    if net.loss == "mse":
        y = 0.5 * rng.standard_normal((samples, net.sizes[-1]), dtype=np.float32)
    else:
        y = rng.integers(0, net.sizes[-1], samples).astype(np.int32)
    return x, y


def numpy_epoch(net, x, y):
    optimizer = (SGD(net.learning_rate, momentum=0.9) if net.optimizer == "sgd"
                 else Adam(net.learning_rate))
    mlp = NumpyMLP(net.sizes, net.loss, optimizer, seed=0)
    rng = np.random.default_rng(0)
    return lambda: mlp.fit_epoch(x, y, net.batch, rng)


def pydl_epoch(net, x, y):
    model = pydl_side.build_model(net)

    def run_epoch():
        history = model.fit(x, y, batch_size=net.batch, epochs=1, verbose=0, shuffle=True)
        return history.history["loss"][-1]

    return run_epoch


def _makers(run: Run, net, x, y, threads: int) -> dict:
    """name -> a function building that competitor's one-epoch callable."""
    makers = {"NumPy": lambda: numpy_epoch(net, x, y)}
    reason = pydl_side.keras_api_reason()
    if reason is None:
        makers["pydl"] = lambda: pydl_epoch(net, x, y)
    else:
        run.say_unavailable("pydl training (Sequential/compile/fit)", reason)
    torch = torch_or_none(run, "training")
    if torch is not None:
        makers["torch"] = lambda: torch_side.epoch_fn(net, x, y, torch, compiled=False)
        if run.settings.use_torch_compile:
            makers["torch.compile"] = lambda: torch_side.epoch_fn(net, x, y, torch, compiled=True)
    if run.settings.use_jax:
        jax, jnp, reason = jax_side.import_jax(run.settings.threads)
        if jax is None:
            run.say_unavailable("JAX column", reason)
        elif jax_side.thread_count() != threads:
            run.say_unavailable(f"jax.jit at {threads} thread(s)",
                                "XLA's CPU thread pool is sized once, when JAX is imported "
                                f"(here {jax_side.thread_count()} thread(s)), so JAX is timed "
                                "only in that table")
        else:
            makers["jax.jit"] = lambda: jax_side.epoch_fn(net, x, y, jax, jnp)
    makers.update(remote_makers(run, {"op": "train", "net": dataclasses.asdict(net),
                                      "threads": threads}))
    return makers


def measure(run: Run, nets, threads: int) -> None:
    for net in nets:
        if run.find(WORKLOAD, net.label, threads, "NumPy"):
            continue
        x, y = make_data(net, net.steps * net.batch)
        last_loss = {}

        def recording(name, make):
            def build():
                epoch = make()

                def call():
                    last_loss[name] = epoch()
                    return last_loss[name]
                return call
            return build

        makers = {name: recording(name, make)
                  for name, make in _makers(run, net, x, y, threads).items()}
        # One epoch per sample: long enough to time singly.
        timings = time_competitors(run, makers, threads, f"training on {net.label}",
                                   min_sample_s=0.0)
        peak, peak_source = gemm.measured_peak(run, threads)

        def extra(name, samples_per_s):
            loss = last_loss.get(name)
            return {"steps": net.steps, "batch": net.batch,
                    "roofline": samples_per_s * net.flops_per_sample / (peak * 1e9),
                    "gemm_peak_gflops": peak, "gemm_peak_source": peak_source,
                    "final_loss": loss, "loss_finite": loss is not None and math.isfinite(loss)}

        record_timings(run, WORKLOAD, net.label, threads, timings, "samples/s",
                       value=lambda s: net.steps * net.batch / s, extra=extra)


def _verdict(run: Run, net, threads: int) -> str:
    goal = TARGETS.get(net.sizes)
    pydl = run.value(WORKLOAD, net.label, threads, "pydl")
    numpy_ = run.value(WORKLOAD, net.label, threads, "NumPy")
    if goal is None or pydl is None or numpy_ is None:
        return "n/a"
    parts = [f">= {goal}x NumPy: " + ("met" if pydl >= goal * numpy_
                                      else f"missed by {100 * (1 - pydl / (goal * numpy_)):.0f}%")]
    for rival in ("torch", "torch.compile", "jax.jit"):
        other = run.value(WORKLOAD, net.label, threads, rival)
        if other is not None:
            parts.append(f"vs {rival}: " + ("ahead" if pydl > other else "behind"))
    return "; ".join(parts)


def _ceiling(numpy_record: dict | None) -> str:
    if not numpy_record or not numpy_record.get("roofline"):
        return "n/a"
    return f"{1 / numpy_record['roofline']:.2f}x"


def table(run: Run, nets, threads: int) -> Table:
    competitors = present(run, WORKLOAD, [n.label for n in nets], threads,
                          ("NumPy", "pydl", "torch", "torch.compile", "jax.jit")
                          + tuple(other_names(run)))
    step_cols = [c for c in ("NumPy", "pydl") if c in competitors]
    headers = (["network"] + [f"{c} samples/s" for c in competitors]
               + [f"{c} us/step" for c in step_cols]
               + [f"pydl / {c}" for c in competitors if c != "pydl"]
               + ["pydl roofline", "NumPy roofline", "ceiling", "target"])
    rows, notes, series = [], [], {c: [] for c in competitors}
    for net in nets:
        recs = {c: run.find(WORKLOAD, net.label, threads, c) for c in competitors}
        for c, r in recs.items():
            series[c].append(r["value"] if r else None)
            if r and not r["loss_finite"]:
                notes.append(f"{c}: the loss on {net.label} was not finite ({r['final_loss']})")
        val = {c: recs[c]["value"] if recs[c] else None for c in competitors}
        roof = lambda c: f"{100 * recs[c]['roofline']:.0f}%" if recs.get(c) else "n/a"  # noqa: E731
        rows.append([net.label] + [fmt(val[c]) for c in competitors]
                    + [fmt(net.batch / val[c] * 1e6) if val[c] else "n/a" for c in step_cols]
                    + [ratio(val.get("pydl"), val[c]) for c in competitors if c != "pydl"]
                    + [roof("pydl"), roof("NumPy"), _ceiling(recs.get("NumPy")),
                       _verdict(run, net, threads)])
    if run.records:
        peaks = [r for r in run.records if r["workload"] == WORKLOAD and r["threads"] == threads]
        if peaks:
            notes.append(f"Roofline: training FLOPs/s (6 x weights per sample) over the best "
                         f"GEMM rate measured at {threads} thread(s), "
                         f"{fmt(peaks[0]['gemm_peak_gflops'])} GFLOP/s.")
    notes.append("Ceiling: 1 / NumPy roofline, the largest pydl / NumPy ratio possible "
                 "without beating the GEMM rate measured here.")
    notes.append("The FLOP count includes the first layer's input gradient, which every "
                 "competitor skips (nothing needs it), so a roofline can exceed 100%.")
    notes.append("One timed sample = one epoch (shuffle, gather, step per batch); "
                 f"steps per epoch: {', '.join(f'{n.name}: {n.steps}' for n in nets)}.")
    return Table(f"Training throughput, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "samples/s", "categories": [n.label for n in nets],
                        "series": series, "log": True})


def run_workload(run: Run) -> None:
    per_thread_count(run, lambda threads: measure(run, run.settings.nets, threads),
                     lambda threads: table(run, run.settings.nets, threads))
