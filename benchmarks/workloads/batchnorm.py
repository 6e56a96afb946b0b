"""BatchNormalization in training: 784-512-BN-256-BN-10 against the same network without BN.

Samples/s of one epoch (shuffle, gather, step per batch), softmax cross-entropy, batch
128. pydl: Sequential + compile + fit(epochs=1) on the fused plan -- Dense(512) ->
BatchNormalization -> Activation("relu") -> Dense(256) -> BatchNormalization ->
Activation("relu") -> Dense(10, softmax) -- beside "pydl no BN", the 784-512-256-10
network of the `train` workload (relu fused into the GEMM epilogue), and "pydl tape",
the BN network on the GradientTape. torch: nn.Linear -> nn.BatchNorm1d(eps=1e-3,
momentum=0.01: Keras' defaults) -> nn.ReLU, eager and torch.compile (the model and the
optimizer step). Targets: pydl BN >= 0.9x pydl no BN, ahead of torch eager and compile.
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

WORKLOAD = "bn"
SIZES = (784, 512, 256, 10)


def _data(spec, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = spec["steps"] * spec["batch"]
    x = rng.standard_normal((n, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], n).astype(np.int32)
    return x, y


def _pydl_model(optimizer: str, batchnorm: bool):
    import pydl

    layers = pydl.layers
    pydl.utils.set_random_seed(0)
    stack = [pydl.Input((SIZES[0],))]
    for width in SIZES[1:-1]:
        if batchnorm:
            stack += [layers.Dense(width), layers.BatchNormalization(), layers.Activation("relu")]
        else:
            stack.append(layers.Dense(width, activation="relu"))
    stack.append(layers.Dense(SIZES[-1], activation="softmax"))
    model = pydl.Sequential(stack)
    opt = (pydl.optimizers.SGD(0.01, momentum=0.9) if optimizer == "sgd"
           else pydl.optimizers.Adam(0.001))
    model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
    return model


def _pydl_epoch(spec, x, y, optimizer: str, batchnorm: bool, tape: bool = False):
    model = _pydl_model(optimizer, batchnorm)
    return pydl_fit_epoch(model, x, y, spec["batch"], tape)


def _torch_epoch(torch, spec, x, y, optimizer: str, compiled: bool):
    torch.manual_seed(0)
    nn = torch.nn
    stack = []
    for fan_in, fan_out in zip(SIZES[:-2], SIZES[1:-1]):
        stack += [nn.Linear(fan_in, fan_out), nn.BatchNorm1d(fan_out, eps=1e-3, momentum=0.01),
                  nn.ReLU()]
    stack.append(nn.Linear(SIZES[-2], SIZES[-1]))
    model = nn.Sequential(*stack)
    model.train()
    opt = (torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=0.001, eps=1e-7))
    loss_fn = nn.CrossEntropyLoss()
    forward = torch.compile(model) if compiled else model
    step = torch.compile(opt.step, fullgraph=False) if compiled else opt.step
    X, Y = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    batch = spec["batch"]
    xb = torch.empty((batch, X.shape[1]), dtype=X.dtype)
    yb = torch.empty((batch,), dtype=Y.dtype)
    generator = torch.Generator().manual_seed(0)

    def run_epoch():
        order = torch.randperm(X.shape[0], generator=generator)
        loss = None
        for start in range(0, X.shape[0] - batch + 1, batch):
            index = order[start:start + batch]
            torch.index_select(X, 0, index, out=xb)
            torch.index_select(Y, 0, index, out=yb)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(forward(xb), yb)
            loss.backward()
            step()
        return float(loss.detach())

    return run_epoch


def _label(optimizer: str, spec) -> str:
    opt = "SGD-momentum" if optimizer == "sgd" else "Adam"
    return f"784-512-BN-256-BN-10 softmax-CE {opt} b{spec['batch']}"


COMPETITORS = ("pydl", "pydl no BN", "pydl tape", "torch", "torch.compile")


def measure(run: Run, spec, threads: int) -> None:
    x, y = _data(spec)
    for optimizer in spec["optimizers"]:
        last_loss = {}

        def recording(name, make):
            def build():
                epoch = make()

                def call():
                    last_loss[name] = epoch()
                    return last_loss[name]
                return call
            return build

        makers = {
            "pydl": lambda: _pydl_epoch(spec, x, y, optimizer, True),
            "pydl no BN": lambda: _pydl_epoch(spec, x, y, optimizer, False),
            "pydl tape": lambda: _pydl_epoch(spec, x, y, optimizer, True, tape=True),
        }
        torch = torch_or_none(run, "BatchNormalization training")
        if torch is not None:
            makers["torch"] = lambda: _torch_epoch(torch, spec, x, y, optimizer, False)
            if run.settings.use_torch_compile:
                makers["torch.compile"] = lambda: _torch_epoch(torch, spec, x, y, optimizer,
                                                               True)
        makers = {name: recording(name, make) for name, make in makers.items()}
        timings = time_competitors(run, makers, threads,
                                   f"training {_label(optimizer, spec)}", min_sample_s=0.0)
        n = spec["steps"] * spec["batch"]
        record_timings(run, WORKLOAD, _label(optimizer, spec), threads, timings, "samples/s",
                       value=lambda s: n / s,
                       extra=lambda name, v: {"final_loss": last_loss.get(name),
                                              "loss_finite": math.isfinite(
                                                  last_loss.get(name, math.nan))})


def _verdict(value: dict) -> str:
    pydl = value.get("pydl")
    if pydl is None:
        return "n/a"
    parts = []
    if value.get("pydl no BN"):
        parts.append(">= 0.9x no BN: " + ("met" if pydl >= 0.9 * value["pydl no BN"]
                                          else "missed"))
    for rival in ("torch", "torch.compile"):
        if value.get(rival):
            parts.append(f"vs {rival}: " + ("ahead" if pydl > value[rival] else "behind"))
    return "; ".join(parts) or "n/a"


def table(run: Run, spec, threads: int) -> Table:
    cases = [_label(o, spec) for o in spec["optimizers"]]
    competitors = present(run, WORKLOAD, cases, threads, COMPETITORS)
    headers = (["network"] + [f"{c} samples/s" for c in competitors]
               + [f"pydl / {c}" for c in competitors if c != "pydl"] + ["target"])
    rows, notes, series = [], [], {c: [] for c in competitors}
    for case in cases:
        recs = {c: run.find(WORKLOAD, case, threads, c) for c in competitors}
        value = {c: r["value"] for c, r in recs.items() if r}
        for c in competitors:
            series[c].append(value.get(c))
            if recs[c] and not recs[c]["loss_finite"]:
                notes.append(f"{c}: the loss on {case} was not finite ({recs[c]['final_loss']})")
        rows.append([case] + [fmt(value.get(c)) if c in value else "n/a" for c in competitors]
                    + [ratio(value.get("pydl"), value.get(c)) for c in competitors
                       if c != "pydl"] + [_verdict(value)])
    notes.append(f"One timed sample = one epoch of {spec['steps']} steps; 'pydl no BN' is "
                 "784-512-256-10 (relu in the GEMM epilogue); 'pydl tape' the BN network on "
                 "the GradientTape.")
    return Table(f"BatchNormalization training, {threads} thread(s)", headers, rows, notes,
                 chart={"ylabel": "samples/s", "categories": cases, "series": series})


def run_workload(run: Run) -> None:
    per_thread_count(run, lambda threads: measure(run, run.settings.bn_model, threads),
                     lambda threads: table(run, run.settings.bn_model, threads))
