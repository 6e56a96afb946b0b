"""Memory: peak RSS of a training run and RSS growth across epochs, per framework.

Each framework trains 784-512-256-10 (SGD-momentum, batch 128) in its own fresh
process (benchmarks/memory_child.py), so imports and other workloads do not mix in.
"""

from __future__ import annotations

import json
import sys

from .. import pydl_side
from ..child_process import run_child
from ..results import Run, Table, fmt
from ..settings import MNIST_SIZES
from .common import publish

WORKLOAD = "memory"


def _child(run: Run, spec: dict) -> dict:
    proc = run_child([sys.executable, "-m", "benchmarks.memory_child", json.dumps(spec)])
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                           else f"exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_workload(run: Run) -> None:
    sizes = MNIST_SIZES if run.settings.mode != "smoke" else run.settings.nets[0].sizes
    frameworks = ["NumPy"]
    reason = pydl_side.keras_api_reason()
    if reason is None:
        frameworks.append("pydl")
    else:
        run.say_unavailable("pydl memory", reason)
    if run.settings.use_torch:
        try:
            import torch  # noqa: F401

            frameworks.append("torch")
        except ImportError:
            pass
    threads = max(run.settings.threads)
    batch = 128 if run.settings.mode != "smoke" else run.settings.nets[0].batch
    rows = []
    for framework in frameworks:
        spec = {"framework": framework, "sizes": list(sizes),
                "loss": "sparse_categorical_crossentropy", "optimizer": "sgd", "batch": batch,
                "learning_rate": 0.01, "samples": run.settings.memory_samples,
                "epochs": run.settings.memory_epochs}
        try:
            m = _child(run, spec)
        except Exception as exc:
            run.say_unavailable(f"{framework} memory run", f"{type(exc).__name__}: {exc}"[:300])
            continue
        over = m["peak_rss_mb"] - m["rss_before_mb"]
        growth = m["rss_after_epochs_mb"][-1] - m["rss_after_epochs_mb"][0]
        run.add(WORKLOAD, "-".join(map(str, sizes)), threads, framework, value=m["peak_rss_mb"],
                unit="MB", training_over_baseline_mb=over, growth_mb=growth, **m)
        rows.append([framework, fmt(m["data_mb"]), fmt(m["weights_mb"]),
                     fmt(m["rss_before_mb"]), fmt(m["peak_rss_mb"]), fmt(max(over, 0.0)),
                     f"{growth:+.1f}"])
    headers = ["framework", "data MB", "weights MB", "RSS before training MB",
               "peak RSS MB", "training above baseline MB",
               f"RSS growth epoch 1 -> {run.settings.memory_epochs} MB"]
    net = "-".join(map(str, sizes))
    t = Table(f"Memory while training {net} (batch {batch}, {run.settings.memory_samples} samples)",
              headers, rows, ["Each framework in a fresh process; peak RSS includes the "
                              "interpreter, the imports and the data."])
    publish(run, t)
