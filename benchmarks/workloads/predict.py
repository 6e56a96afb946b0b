"""Inference latency: one predict call on a batch of 1 and of 128 (784-512-256-10).

pydl: model.predict(x, batch_size=len(x), verbose=0) (the Keras call users make) and
model.predict_on_batch(x); NumPy: NumpyMLP.predict; PyTorch: eager forward under
inference_mode (+ softmax), and torch.compile of the model.
"""

from __future__ import annotations

import numpy as np

from .. import pydl_side, torch_side
from ..numpy_mlp import SGD, NumpyMLP
from ..results import Run, Table, fmt
from ..settings import MNIST_SIZES, Net
from .common import per_thread_count, present, record_timings, time_competitors, torch_or_none

WORKLOAD = "predict"
COMPETITORS = ("NumPy", "pydl predict", "pydl predict_on_batch", "torch", "torch.compile")


def _net(run: Run) -> Net:
    sizes = MNIST_SIZES if run.settings.mode != "smoke" else run.settings.nets[0].sizes
    return Net(sizes, "sparse_categorical_crossentropy", "sgd", 128, 1)


def measure(run: Run, threads: int) -> None:
    net = _net(run)
    rng = np.random.default_rng(2)
    numpy_mlp = NumpyMLP(net.sizes, net.loss, SGD(0.01), seed=0)
    model, reason = None, pydl_side.keras_api_reason()
    if reason is None:
        try:
            model = pydl_side.build_model(net)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
    if reason is not None:
        run.say_unavailable("pydl predict", reason)
    torch = torch_or_none(run, "predict")
    for batch in run.settings.predict_batches:
        x = rng.standard_normal((batch, net.sizes[0]), dtype=np.float32)
        makers = {"NumPy": lambda: (lambda x=x: numpy_mlp.predict(x))}
        if model is not None:
            # batch_size=len(x): one forward pass, as the others do (Keras' default is 32).
            makers["pydl predict"] = lambda: (
                lambda x=x: model.predict(x, batch_size=len(x), verbose=0))
            if hasattr(model, "predict_on_batch"):
                makers["pydl predict_on_batch"] = lambda: (lambda x=x: model.predict_on_batch(x))
        if torch is not None:
            makers["torch"] = lambda: (lambda x=x, f=torch_side.predict_fn(net, torch, False): f(x))
            if run.settings.use_torch_compile:
                makers["torch.compile"] = lambda: (
                    lambda x=x, f=torch_side.predict_fn(net, torch, True): f(x))

        def check(out, batch=batch):
            if out.shape != (batch, net.sizes[-1]):
                raise ValueError(f"output shape {out.shape}, expected {(batch, net.sizes[-1])}")

        timings = time_competitors(run, makers, threads, f"on batch {batch}", check)
        record_timings(run, WORKLOAD, f"batch {batch}", threads, timings, "us",
                       value=lambda s: s * 1e6)


def _bandwidth_note(run: Run, net: Net, threads: int) -> str:
    """Why batch 1 is slow per sample: every weight is read for a single multiply-add."""
    nbytes = net.weight_bytes
    note = (f"Batch 1: a call reads all {fmt(nbytes / 1e6)} MB of float32 weights for "
            f"{fmt(nbytes / 2 / 1e6)} MFLOP (one multiply-add per weight)")
    if nbytes >= 1e6:  # a small network's latency is call overhead, not weight traffic
        note += ", so its latency is bound by streaming the weights from cache, not by arithmetic"
    latency_us = run.value(WORKLOAD, "batch 1", threads, "pydl predict")
    if latency_us:
        note += (f"; pydl predict moves {fmt(nbytes / (latency_us * 1e-6) / 1e9)} GB/s "
                 f"(weight bytes / latency)")
    return note + "."


def table(run: Run, threads: int) -> Table:
    cases = [f"batch {b}" for b in run.settings.predict_batches]
    competitors = present(run, WORKLOAD, cases, threads, COMPETITORS)
    headers = ["batch"] + [f"{c} us" for c in competitors] + ["torch / pydl predict"]
    rows, series = [], {c: [] for c in competitors}
    for case in cases:
        val = {c: run.value(WORKLOAD, case, threads, c) for c in competitors}
        for c in competitors:
            series[c].append(val[c])
        pydl, torch = val.get("pydl predict"), val.get("torch")
        speedup = f"{torch / pydl:.1f}x" if pydl and torch else "n/a"
        rows.append([case.split()[1]] + [fmt(val[c]) for c in competitors] + [speedup])
    net = _net(run)
    notes = ["torch: eager forward + softmax under torch.inference_mode()."]
    if "batch 1" in cases:
        notes.append(_bandwidth_note(run, net, threads))
    return Table(f"Inference latency ({net.name}, microseconds per call, lower is better), "
                 f"{threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "microseconds per call", "categories": cases,
                        "series": series, "log": True})


def run_workload(run: Run) -> None:
    per_thread_count(run, lambda threads: measure(run, threads),
                     lambda threads: table(run, threads))
