"""Text classifier training: Embedding(vocab, dim) -> GlobalAveragePooling1D -> Dense(1, sigmoid).

Samples/s of one epoch (shuffle, gather, step per batch) on integer sequences, binary
cross-entropy, Adam(1e-3). pydl: Sequential + compile + fit(epochs=1) on the fused plan
(Embedding and the pooling are plan nodes), and "pydl tape", the same fit on the
GradientTape. torch: eager nn.Embedding, mean over the
steps, nn.Linear, BCEWithLogitsLoss (sigmoid + cross-entropy fused, as pydl fuses them),
torch.optim.Adam; the embedding gradient is dense in both (nn.Embedding's default).
"""

from __future__ import annotations

import math

import numpy as np

from ..results import Run, Table, fmt, ratio
from .common import (
    per_thread_count,
    present,
    pydl_fit_epoch,
    record_timings,
    time_competitors,
    torch_or_none,
)

WORKLOAD = "text"
COMPETITORS = ("pydl", "pydl tape", "torch")


def _data(spec, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = spec["steps"] * spec["batch"]
    x = rng.integers(0, spec["vocab"], size=(n, spec["length"])).astype(np.int64)
    y = (rng.uniform(size=(n, 1)) < 0.5).astype(np.float32)
    return x, y


def _pydl_epoch(spec, x, y, tape: bool = False):
    import pydl

    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([
        pydl.Input((spec["length"],)),
        pydl.layers.Embedding(spec["vocab"], spec["dim"]),
        pydl.layers.GlobalAveragePooling1D(),
        pydl.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=pydl.optimizers.Adam(learning_rate=1e-3),
                  loss="binary_crossentropy")
    return pydl_fit_epoch(model, x, y, spec["batch"], tape)


def _torch_epoch(torch, spec, x, y):
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(spec["vocab"], spec["dim"])
    dense = torch.nn.Linear(spec["dim"], 1)
    params = list(embedding.parameters()) + list(dense.parameters())
    optimizer = torch.optim.Adam(params, lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    batch = spec["batch"]
    xb = torch.empty((batch, x.shape[1]), dtype=X.dtype)
    yb = torch.empty((batch, 1), dtype=Y.dtype)
    generator = torch.Generator().manual_seed(0)

    def run_epoch():
        order = torch.randperm(X.shape[0], generator=generator)
        loss = None
        for start in range(0, X.shape[0] - batch + 1, batch):
            index = order[start:start + batch]
            torch.index_select(X, 0, index, out=xb)
            torch.index_select(Y, 0, index, out=yb)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(dense(embedding(xb).mean(1)), yb)
            loss.backward()
            optimizer.step()
        return float(loss.detach())

    return run_epoch


def _label(spec) -> str:
    return (f"Embedding({spec['vocab']}, {spec['dim']}) seq {spec['length']} "
            f"b{spec['batch']}")


def measure(run: Run, spec, threads: int) -> None:
    x, y = _data(spec)
    last_loss = {}

    def recording(name, make):
        def build():
            epoch = make()

            def call():
                last_loss[name] = epoch()
                return last_loss[name]
            return call
        return build

    makers = {"pydl": recording("pydl", lambda: _pydl_epoch(spec, x, y)),
              "pydl tape": recording("pydl tape", lambda: _pydl_epoch(spec, x, y, tape=True))}
    torch = torch_or_none(run, "text classifier")
    if torch is not None:
        makers["torch"] = recording("torch", lambda: _torch_epoch(torch, spec, x, y))
    timings = time_competitors(run, makers, threads, "text classifier training",
                               min_sample_s=0.0)
    n = spec["steps"] * spec["batch"]
    record_timings(run, WORKLOAD, _label(spec), threads, timings, "samples/s",
                   value=lambda s: n / s,
                   extra=lambda name, v: {"final_loss": last_loss.get(name),
                                          "loss_finite": math.isfinite(last_loss.get(name,
                                                                                     math.nan))})


def table(run: Run, spec, threads: int) -> Table:
    case = _label(spec)
    competitors = present(run, WORKLOAD, [case], threads, COMPETITORS)
    recs = {c: run.find(WORKLOAD, case, threads, c) for c in competitors}
    value = {c: recs[c]["value"] for c in competitors}
    headers = (["model"] + [f"{c} samples/s" for c in competitors]
               + [f"{c} ms/step" for c in competitors] + ["pydl / torch"])
    row = ([case] + [fmt(value[c]) for c in competitors]
           + [fmt(spec["batch"] / value[c] * 1e3) for c in competitors]
           + [ratio(value.get("pydl"), value.get("torch"))])
    if "pydl tape" in value:
        headers.append("pydl / pydl tape")
        row.append(ratio(value.get("pydl"), value.get("pydl tape")))
    notes = [f"{c}: the loss was not finite ({recs[c]['final_loss']})"
             for c in competitors if not recs[c]["loss_finite"]]
    notes.append(f"One timed sample = one epoch of {spec['steps']} steps; Adam, binary "
                 "cross-entropy; target: pydl ahead of torch eager.")
    return Table(f"Text classifier training, {threads} thread(s)", headers, [row], notes,
                 chart={"ylabel": "samples/s", "categories": [case],
                        "series": {c: [value[c]] for c in competitors}})


def run_workload(run: Run) -> None:
    per_thread_count(run, lambda threads: measure(run, run.settings.text_model, threads),
                     lambda threads: table(run, run.settings.text_model, threads))
