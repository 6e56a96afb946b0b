"""Thread scaling: rate at n threads over rate at 1 thread, n = 1, 2, 4, ... all cores.

Reuses the GEMM (1024 square) and training (784-512-256-10 SGD) numbers measured
by those workloads in this run; measures whatever is missing.
"""

from __future__ import annotations

from ..results import Run, Table
from ..settings import MNIST_SIZES
from ..threads import all_cores
from . import gemm, train
from .common import publish, shape_label

WORKLOAD = "scaling"


def ladder(cores: int) -> list[int]:
    counts, n = [], 1
    while n < cores:
        counts.append(n)
        n *= 2
    return counts + [cores]


def run_workload(run: Run) -> None:
    counts = ladder(max(run.settings.threads + [all_cores()]))
    if len(counts) < 2:
        print("Thread scaling: only one core available; nothing to scale.", flush=True)
        return
    square = [s for s in run.settings.gemm_shapes if s[0] == s[1] == s[2]]
    shape = max(square, key=lambda s: s[0]) if square else run.settings.gemm_shapes[0]
    shape = (1024, 1024, 1024) if (1024, 1024, 1024) in run.settings.gemm_shapes else shape
    nets = [n for n in run.settings.nets if n.sizes == MNIST_SIZES and n.optimizer == "sgd"]
    net = nets[0] if nets else run.settings.nets[0]
    cases = [("GEMM " + shape_label(*shape), gemm.WORKLOAD, shape_label(*shape)),
             (f"train {net.label}", train.WORKLOAD, net.label)]
    for n in counts:
        gemm.measure(run, [shape], n)
        train.measure(run, [net], n)
    competitors = ("NumPy", "pydl", "torch", "torch.compile", "jax.jit")
    headers = ["workload", "competitor"] + [f"{n} thr" for n in counts[1:]]
    rows = []
    for title, workload, case in cases:
        for c in competitors:
            base = run.value(workload, case, 1, c)
            if base is None:
                continue
            speedups = []
            for n in counts[1:]:
                v = run.value(workload, case, n, c)
                speedups.append(f"{v / base:.2f}x" if v else "n/a")
                run.add(WORKLOAD, case, n, c, value=v / base if v else None, unit="speedup")
            rows.append([title, c] + speedups)
    t = Table("Thread scaling (speedup over 1 thread)", headers, rows,
              [f"Ideal at n threads: n x; {all_cores()} cores here."])
    publish(run, t)
