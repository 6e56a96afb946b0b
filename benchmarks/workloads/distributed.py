"""Data-parallel training (pydl.distribution): 1 process x 2 threads against 2 processes
x 1 thread, on the same cores.

Each configuration is a fresh job (benchmarks/distributed_child.py): plain ``python``
for 1 process, ``mpiexec -n 2`` for 2; the jobs alternate (1x2, 2x1, 1x2, ...) so that
a change of load hits both, and each reports its timed epochs. The table gives the
median samples/s, the share of the step spent inside the gradient Allreduce, and the
Allreduce's measured bandwidth on a buffer of the gradients' size: algorithm bandwidth
(bytes / time) and bus bandwidth (x 2(P-1)/P, what a ring moves per process).
"""

from __future__ import annotations

import json
import os
import statistics
import sys

from ..child_process import run_child
from ..results import Run, Table, fmt
from ..settings import MNIST_SIZES, WIDE_SIZES
from .common import publish

WORKLOAD = "distributed"
TARGET = 0.85  # 2 processes x 1 thread over 1 process x 2 threads, on the wide network
# The N-node projection (docs/distributed.md): Ethernet links (bytes/s) and the latency
# of one message of the ring (TCP through the kernel: tens of microseconds).
LINKS = {"10 GbE": 10e9 / 8, "25 GbE": 25e9 / 8, "100 GbE": 100e9 / 8}
LATENCY_S = 25e-6
NODES = (2, 8, 64)


def ring_allreduce_seconds(gradient_bytes: float, nodes: int, bandwidth: float,
                           latency: float = LATENCY_S) -> float:
    """A ring Allreduce over `nodes`: 2(N-1)/N x bytes / bandwidth + 2(N-1) x latency."""
    steps = 2 * (nodes - 1)
    return steps / nodes * gradient_bytes / bandwidth + steps * latency


def efficiency(rate: float, local_batch: int, comm_seconds: float) -> float:
    """Compute time over step time, the Allreduce not overlapped: (b / R) / (b / R + t)."""
    compute = local_batch / rate
    return compute / (compute + comm_seconds)


def batch_for(rate: float, comm_seconds: float, target: float = 0.9) -> float:
    """The local batch at which efficiency reaches `target`: b = target / (1 - target) x t x R."""
    return target / (1 - target) * comm_seconds * rate


def projection_table(cases: list) -> Table:
    """cases: (network label, samples/s of one node, gradient bytes, local batch)."""
    rows = []
    for label, rate, size, local in cases:
        for link, bandwidth in LINKS.items():
            times = [ring_allreduce_seconds(size, n, bandwidth) for n in NODES]
            rows.append([label, link] + [f"{1e3 * t:.2f} ms" for t in times] +
                        [f"{100 * efficiency(rate, local, t):.0f}%" for t in times] +
                        [f"{batch_for(rate, t):,.0f}" for t in times])
    return Table("Projection to N nodes (ring Allreduce, no overlap)",
                 ["network", "link"] + [f"allreduce N={n}" for n in NODES] +
                 [f"efficiency N={n}" for n in NODES] +
                 [f"batch/node for 90% N={n}" for n in NODES], rows,
                 [f"A node computes at the 1 x 2 rate measured above. Allreduce: 2(N-1)/N x "
                  f"gradient bytes / bandwidth + 2(N-1) x {1e6 * LATENCY_S:.0f} us. Efficiency "
                  "at the benchmark's batch per node = compute / (compute + allreduce); the "
                  "batch for 90% is 9 x allreduce time x samples/s."])


def _job(spec: dict, processes: int, threads: int, timeout: float) -> dict:
    from pydl.distribution.launcher import mpiexec_command

    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PMI_", "MPI_LOCAL", "OMPI_", "SLURM_"))}
    env["PYDL_NUM_THREADS"] = str(threads)
    command = [sys.executable, "-m", "benchmarks.distributed_child", json.dumps(spec)]
    if processes > 1:
        command = mpiexec_command(processes) + command
    proc = run_child(command, env, timeout)
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _nets(run: Run) -> list:
    by_sizes = {}
    for net in run.settings.nets:
        if net.optimizer == "sgd":
            by_sizes.setdefault(net.sizes, net)
    if run.settings.mode == "smoke":
        return list(by_sizes.values())[:1]
    return [by_sizes[s] for s in (MNIST_SIZES, WIDE_SIZES) if s in by_sizes]


def _spec(run: Run, net) -> dict:
    smoke = run.settings.mode == "smoke"
    # at least 8 steps an epoch for the wide network too: the allreduce share of a
    # step, not the start of an epoch, is what is measured
    steps = max(net.steps, 2 if smoke else 8)
    return {"sizes": list(net.sizes), "loss": net.loss, "optimizer": net.optimizer,
            "batch": net.batch, "steps": steps, "learning_rate": net.learning_rate,
            "warmup": 0 if smoke else 1, "epochs": 1 if smoke else 3,
            "bandwidth_calls": 1 if smoke else 10}


def run_workload(run: Run) -> None:
    try:
        import mpi4py  # noqa: F401

        from pydl.distribution.launcher import mpiexec_command

        mpiexec_command(2)
    except (ImportError, FileNotFoundError) as exc:
        run.say_unavailable("distributed", f"{exc} (pip install 'pydl[mpi]')")
        return
    rounds = 1 if run.settings.mode == "smoke" else max(2, run.settings.repeats // 2)
    configs = [(1, 2), (2, 1)]  # (processes, threads each)
    rows, notes, projected = [], [], []
    for net in _nets(run):
        spec = _spec(run, net)
        jobs = {c: [] for c in configs}
        for _ in range(rounds):
            for processes, threads in configs:
                try:
                    jobs[(processes, threads)].append(
                        _job(spec, processes, threads, timeout=900))
                except Exception as exc:  # noqa: BLE001 -- reported, the others go on
                    run.say_unavailable(f"distributed {net.name} {processes}x{threads}",
                                        f"{type(exc).__name__}: {exc}"[:300])
        base = None
        for processes, threads in configs:
            results = jobs[(processes, threads)]
            if not results:
                continue
            epochs = [e for r in results for e in r["epochs"]]
            rate = statistics.median(e["samples_per_s"] for e in epochs)
            share = statistics.median(e["allreduce_seconds"] / e["seconds"] for e in epochs)
            calls = [c for r in results for c in r.get("allreduce_call_seconds", [])]
            call = statistics.median(calls) if calls else None
            size = results[0]["gradient_bytes"]
            algbw = size / call / 1e9 if call else None
            busbw = algbw * 2 * (processes - 1) / processes if algbw else None
            base = rate if processes == 1 else base
            if processes == 1:
                projected.append((f"{net.name} b{net.batch}", rate, results[0]["gradient_bytes"],
                                  net.batch))
            case = f"{net.name} b{net.batch} {processes}x{threads}"
            run.add(WORKLOAD, case, threads, f"pydl {processes} process(es)", value=rate,
                    unit="samples/s", samples=[e["samples_per_s"] for e in epochs],
                    allreduce_share=share, allreduce_call_s=call, gradient_bytes=size,
                    algbw_gbs=algbw, busbw_gbs=busbw, trained_on=results[0]["trained_on"])
            ratio = f"{rate / base:.2f}x" if base and processes > 1 else "1.00x"
            rows.append([f"{net.name} b{net.batch}", f"{processes} x {threads}", fmt(rate),
                         ratio, f"{100 * share:.1f}%" if processes > 1 else "-",
                         f"{1e3 * call:.2f} ms" if call else "-",
                         f"{algbw:.2f} / {busbw:.2f}" if algbw else "-",
                         f"{size / 2**20:.1f} MiB"])
    notes.append(f"Processes x threads each on the same cores; jobs alternate, {rounds} each; "
                 "medians of their timed epochs. Target: 2 x 1 at >= "
                 f"{TARGET:.2f}x of 1 x 2 on {'-'.join(map(str, WIDE_SIZES))}.")
    notes.append("Allreduce share: time inside the per-step gradient Allreduce over the "
                 "epoch's time. Bandwidth: the Allreduce alone on a buffer of the gradients' "
                 "size, GB/s algorithm (bytes / time) / bus (x 2(P-1)/P).")
    publish(run, Table("Data-parallel training (pydl.distribution, SGD-momentum)",
                       ["network", "processes x threads", "samples/s", "vs 1 x 2",
                        "allreduce share", "allreduce call", "GB/s alg / bus", "gradients"],
                       rows, notes))
    if projected:
        publish(run, projection_table(projected))
