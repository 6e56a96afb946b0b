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
from ..threads import use_threads
from ..timing import interleaved
from .common import settle, torch_or_none

WORKLOAD = "predict"


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
        with use_threads(threads):
            competitors = {}
            for name, make in makers.items():
                try:
                    fn = make()
                    out = fn()
                    if out.shape != (batch, net.sizes[-1]):
                        raise ValueError(f"output shape {out.shape}, expected "
                                         f"{(batch, net.sizes[-1])}")
                except Exception as exc:
                    run.say_unavailable(f"{name} on batch {batch}",
                                        f"{type(exc).__name__}: {exc}"[:300])
                    continue
                competitors[name] = fn
            timings = interleaved(competitors, run.settings.repeats, run.settings.min_sample_s,
                                  settle(run, threads))
        for name, timing in timings.items():
            run.add(WORKLOAD, f"batch {batch}", threads, name, value=timing.median_s * 1e6,
                    unit="us", median_s=timing.median_s, samples_s=timing.samples_s,
                    calls_per_sample=timing.calls_per_sample)


def table(run: Run, threads: int) -> Table:
    names = ("NumPy", "pydl predict", "pydl predict_on_batch", "torch", "torch.compile")
    cases = [f"batch {b}" for b in run.settings.predict_batches]
    competitors = [c for c in names if any(run.find(WORKLOAD, k, threads, c) for k in cases)]
    headers = ["batch"] + [f"{c} us" for c in competitors] + ["torch / pydl predict", "target"]
    rows, series = [], {c: [] for c in competitors}
    for case in cases:
        val = {c: run.value(WORKLOAD, case, threads, c) for c in competitors}
        for c in competitors:
            series[c].append(val[c])
        pydl, torch = val.get("pydl predict"), val.get("torch")
        speedup = f"{torch / pydl:.1f}x" if pydl and torch else "n/a"
        verdict = "n/a"
        if case == "batch 1" and pydl and torch:
            verdict = ">= 10x: met" if torch >= 10 * pydl else \
                f">= 10x: missed ({torch / pydl:.1f}x)"
        rows.append([case.split()[1]] + [fmt(val[c]) for c in competitors] + [speedup, verdict])
    net = _net(run)
    return Table(f"Inference latency ({net.name}, microseconds per call, lower is better), "
                 f"{threads} thread(s)", headers, rows,
                 ["torch: eager forward + softmax under torch.inference_mode()."],
                 chart={"ylabel": "microseconds per call", "categories": cases,
                        "series": series, "log": True})


def run_workload(run: Run) -> None:
    for threads in run.settings.threads:
        measure(run, threads)
        t = table(run, threads)
        run.tables.append(t)
        print(t.markdown(), flush=True)
