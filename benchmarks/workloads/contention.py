"""Throughput on a busy machine, and next to other thread pools in one process.

Busy machine: every subject (the training networks, the large GEMMs) is timed for
every framework quiet, with 1 and with 2 competing busy processes
(benchmarks/busy.py), at all cores (``--threads``' largest count). Repeats rotate
the conditions and, inside each, the frameworks, so drift hits all alike; the
table gives each framework's busy / quiet ratio. On a 2-core machine the fair share
is 2/3 of the quiet rate with one busy process and 1/2 with two. Keras on TensorFlow
trains the networks too, in a child process asked for one sample at a time
(benchmarks/keras_tf.py), so it takes its turn in the same rotation.

Interplay: pydl's matmul alternating with NumPy's (OpenBLAS) and with torch's in
one process, time per pair against the sum of each alone. No pause between the
calls of a sample (that is the point); a pause before each sample lets every
pool fall asleep first.

``--compare "LABEL=PYTHON [VAR=VALUE ...]"`` adds other pydl builds (main's venv,
say) as competitors "pydl@LABEL" of the busy-machine tables (and of the gemm and
train workloads), run in child interpreters (benchmarks/other_builds.py).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from .. import jax_side, keras_tf, pydl_side, torch_side
from ..busy import busy_processes
from ..other_builds import RemoteCompetitor
from ..results import Run, Table, fmt
from ..settings import MNIST_SIZES, SMALL_SIZES, WIDE_SIZES
from ..threads import use_threads
from ..timing import _calls_for
from . import train
from .common import publish, shape_label, torch_or_none

WORKLOAD = "contention"
INTERPLAY = "interplay"
CONDITIONS = (0, 1, 2)  # competing busy processes
TARGETS = {1: 0.45, 2: 0.35}  # pydl's busy / quiet ratio (issue 17)
PAIR_TARGET = 1.15  # alternating pair / sum alone
FRAMEWORKS = ("pydl", "torch", keras_tf.NAME, "jax.jit", "NumPy")
# pydl stays ahead of their busy throughput (issue 17); their names in the notes.
RIVALS = {"torch": "PyTorch eager", keras_tf.NAME: "Keras/TF"}


def contention_nets(settings) -> list:
    """The SGD networks of the run (784-512-256-10, 64-32-10, 1024-4096-4096-1024)."""
    wanted = (MNIST_SIZES, SMALL_SIZES, WIDE_SIZES)
    nets = [n for n in settings.nets if n.optimizer == "sgd" and n.sizes in wanted]
    return nets or [n for n in settings.nets if n.optimizer == "sgd"]


# -- competitors: sample(calls) -> seconds per call ---------------------------------------
def _local(fn):
    def sample(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls
    return sample


def _jax_ready(run: Run, threads: int):
    if not run.settings.use_jax:
        return None, None
    jax, jnp, reason = jax_side.import_jax(run.settings.threads)
    if jax is None:
        run.say_unavailable("JAX column (contention)", reason)
        return None, None
    if jax_side.thread_count() != threads:
        run.say_unavailable(f"jax.jit at {threads} thread(s) (contention)",
                            f"XLA's pool has {jax_side.thread_count()} thread(s)")
        return None, None
    return jax, jnp


def _train_makers(run: Run, net, threads: int) -> dict:
    x, y = train.make_data(net, net.steps * net.batch)
    makers = {"NumPy": lambda: train.numpy_epoch(net, x, y)}
    if pydl_side.keras_api_reason() is None:
        makers["pydl"] = lambda: train.pydl_epoch(net, x, y)
    torch = torch_or_none(run, "contention")
    if torch is not None:
        makers["torch"] = lambda: torch_side.epoch_fn(net, x, y, torch, compiled=False)
    jax, jnp = _jax_ready(run, threads)
    if jax is not None:
        makers["jax.jit"] = lambda: jax_side.epoch_fn(net, x, y, jax, jnp)
    return makers


def _gemm_makers(run: Run, shape, threads: int) -> dict:
    m, k, n = shape
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k), dtype=np.float32)
    b = rng.standard_normal((k, n), dtype=np.float32)
    makers = {"NumPy": lambda out=np.empty((m, n), np.float32): lambda: np.matmul(a, b, out=out)}
    funcs, reason = pydl_side.core_functions("gemm")
    if funcs is not None:
        makers["pydl"] = lambda out=np.empty((m, n), np.float32): lambda: funcs[0](a, b, out)
    else:
        run.say_unavailable("pydl GEMM (contention)", reason)
    torch = torch_or_none(run, "contention")
    if torch is not None:
        def torch_gemm():
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            to = torch.empty((m, n), dtype=torch.float32)
            return lambda: torch.matmul(ta, tb, out=to)
        makers["torch"] = torch_gemm
    jax, jnp = _jax_ready(run, threads)
    if jax is not None:
        def jax_gemm():
            ja, jb = jnp.asarray(a), jnp.asarray(b)
            product = jax.jit(jnp.matmul)
            return lambda: product(ja, jb).block_until_ready()
        makers["jax.jit"] = jax_gemm
    return makers


def _build(run: Run, makers: dict, request: dict, what: str, children=()) -> dict:
    """name -> (sample(calls), fn or None, fields for its records); each warmed up once;
    a failing one is reported and left out. Other builds (--compare) and `children`
    (Keras/TF) time themselves; their setup reply's fields go into the records."""
    samplers = {}
    for name, make in makers.items():
        try:
            fn = make()
            fn()
        except Exception as exc:
            run.say_unavailable(f"{name} {what}", f"{type(exc).__name__}: {exc}"[:300])
            continue
        samplers[name] = (_local(fn), fn, {})
    for build in [*run.others, *children]:
        try:
            remote = RemoteCompetitor(build, request)
        except Exception as exc:
            run.say_unavailable(f"{build.name} {what}", str(exc)[:300])
            continue
        fields = {k: v for k, v in remote.setup.items() if k != "ok"}
        samplers[build.name] = (remote.sample, None, fields)
    return samplers


def _calls(run: Run, sampler, fn) -> int:
    """Calls per sample, picked quiet: one sample lasts at least min_sample_s."""
    target = run.settings.min_sample_s
    if target <= 0:
        return 1
    if fn is not None:
        return _calls_for(fn, target, warm_up=False)
    seconds = sampler(1)
    return max(1, math.ceil(1.2 * target / max(seconds, 1e-9)))


def _rotate(items, r: int) -> list:
    items = list(items)
    return items[r % len(items):] + items[:r % len(items)]


def case_label(subject: str, busy: int) -> str:
    return f"{subject} [{busy} busy]"


def measure_subject(run: Run, subject: str, samplers: dict, threads: int, unit: str,
                    value) -> None:
    """Times every sampler under every condition, interleaved; one record per
    (condition, competitor) with value(median seconds per call) in `unit`."""
    calls = {name: _calls(run, s, fn) for name, (s, fn, _) in samplers.items()}
    samples = {(busy, name): [] for busy in CONDITIONS for name in samplers}
    settle = run.settings.settle_s
    for r in range(run.settings.repeats):
        for busy in _rotate(CONDITIONS, r):
            with busy_processes(busy, settle_s=max(settle, 0.2) if busy else 0.0):
                for name in _rotate(samplers, r):
                    if settle:
                        time.sleep(settle)
                    samples[(busy, name)].append(samplers[name][0](calls[name]))
    for (busy, name), secs in samples.items():
        median = float(np.median(secs))
        run.add(WORKLOAD, case_label(subject, busy), threads, name, subject=subject, busy=busy,
                value=value(median), unit=unit, median_s=median, samples_s=secs,
                calls_per_sample=calls[name], **samplers[name][2])


def _names(run: Run, subjects, threads: int) -> list:
    """Competitors measured, frameworks first, then the other builds."""
    seen = []
    for record in run.records:
        if (record["workload"] == WORKLOAD and record["threads"] == threads
                and record["subject"] in subjects and record["competitor"] not in seen):
            seen.append(record["competitor"])
    return [c for c in FRAMEWORKS if c in seen] + [c for c in seen if c not in FRAMEWORKS]


def _verdict(run: Run, subject: str, threads: int, name: str) -> str:
    if not name.startswith("pydl"):
        return ""
    quiet = run.value(WORKLOAD, case_label(subject, 0), threads, name)
    parts = []
    for busy, goal in TARGETS.items():
        v = run.value(WORKLOAD, case_label(subject, busy), threads, name)
        if quiet and v is not None:
            parts.append(f"{busy} busy >= {goal}x: " + ("met" if v >= goal * quiet else "missed"))
        for rival in RIVALS:
            other = run.value(WORKLOAD, case_label(subject, busy), threads, rival)
            if v is not None and other is not None:
                parts.append(f"{busy} busy vs {rival}: " + ("ahead" if v > other else "behind"))
    return "; ".join(parts)


def table(run: Run, title: str, subjects: list, threads: int, unit: str) -> Table:
    headers = ["subject", "framework", f"quiet {unit}"]
    for busy in CONDITIONS[1:]:
        headers += [f"{busy} busy {unit}", f"{busy} busy / quiet"]
    headers.append("target (pydl)")
    rows = []
    names = _names(run, subjects, threads)
    for subject in subjects:
        for name in _names(run, [subject], threads):
            quiet = run.value(WORKLOAD, case_label(subject, 0), threads, name)
            row = [subject, name, fmt(quiet)]
            for busy in CONDITIONS[1:]:
                v = run.value(WORKLOAD, case_label(subject, busy), threads, name)
                row += [fmt(v), f"{v / quiet:.2f}x" if v and quiet else "n/a"]
            rows.append(row + [_verdict(run, subject, threads, name)])
    fair = ", ".join(f"{b} busy {threads / (threads + b):.2f}x" for b in CONDITIONS[1:])
    notes = [f"Busy: `python -c \"while True: pass\"` children of the benchmark, started "
             f"before and killed after each condition's samples. Fair share of {threads} "
             f"core(s) for {threads} thread(s): {fair} (each runnable thread an equal share).",
             _target_note(names),
             "Medians of the repeats; conditions and frameworks rotate every repeat."]
    return Table(title, headers, rows, notes + _keras_tf_notes(run, subjects, threads))


def _target_note(names: list) -> str:
    """Issue 17's targets, naming the rivals this table has."""
    rivals = " and of ".join(label for rival, label in RIVALS.items() if rival in names)
    return (f"Targets (issue 17): pydl keeps >= {TARGETS[1]}x of quiet with 1 busy process, "
            f">= {TARGETS[2]}x with 2" + (f", and stays ahead of the busy throughput of "
                                         f"{rivals}." if rivals else "."))


def _keras_tf_notes(run: Run, subjects: list, threads: int) -> list[str]:
    """How Keras/TF ran, when it is in the table."""
    records = [r for r in run.records if r["workload"] == WORKLOAD and r["threads"] == threads
               and r["competitor"] == keras_tf.NAME and r["subject"] in subjects]
    if not records:
        return []
    info = run.machine.get("keras_tf", {})
    jit = sorted({str(r.get("jit_compile")) for r in records})
    why = " (Keras uses no XLA on a CPU-only TensorFlow)" if jit == ["False"] else ""
    return [f"Keras/TF: Keras {info.get('keras', '?')} on TensorFlow "
            f"{info.get('tensorflow', '?')} ({info.get('python', '?')}): one "
            "model.fit(epochs=1, verbose=0, shuffle=True) per epoch, like pydl's, on the same "
            "data and network; TensorFlow's intra-op pool at "
            f"{info.get('intra_op_threads', '?')} thread(s), inter-op at 1; jit_compile left "
            f"at compile's default \"auto\", which resolved to {' / '.join(jit)}{why}. It "
            "runs in one child process for the run, asked for each sample in its turn of the "
            "rotation under the same busy processes; the child times its own calls (pipe "
            "overhead left out)."]


# -- in-process interplay ---------------------------------------------------------------
def measure_interplay(run: Run, shapes, threads: int) -> Table | None:
    funcs, reason = pydl_side.core_functions("gemm")
    if funcs is None:
        run.say_unavailable("pydl interplay", reason)
        return None
    torch = torch_or_none(run, "interplay")
    rows = []
    for m, k, n in shapes:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        outs = [np.empty((m, n), np.float32) for _ in range(3)]
        single = {"pydl": lambda: funcs[0](a, b, outs[0]),
                  "NumPy": lambda: np.matmul(a, b, out=outs[1])}
        if torch is not None:
            ta, tb, to = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(outs[2])
            single["torch"] = lambda: torch.matmul(ta, tb, out=to)
        pairs = {f"pydl + {other}": (single["pydl"], single[other])
                 for other in single if other != "pydl"}
        loops = dict(single)
        for label, (f, g) in pairs.items():
            loops[label] = lambda f=f, g=g: (f(), g())
        with use_threads(threads):
            for fn in loops.values():
                fn()
            calls = {name: _calls_for(fn, run.settings.min_sample_s, warm_up=False)
                     for name, fn in loops.items()}
            samples = {name: [] for name in loops}
            for r in range(run.settings.repeats):
                for name in _rotate(loops, r):
                    if run.settings.settle_s:
                        time.sleep(run.settings.settle_s)
                    samples[name].append(_local(loops[name])(calls[name]))
        median = {name: float(np.median(s)) for name, s in samples.items()}
        case = shape_label(m, k, n)
        for name, secs in samples.items():
            run.add(INTERPLAY, f"{case} {name}", threads, name, value=median[name] * 1e3,
                    unit="ms", samples_s=secs, calls_per_sample=calls[name])
        for label in pairs:
            other = label.split(" + ")[1]
            alone = median["pydl"] + median[other]
            ratio = median[label] / alone
            run.add(INTERPLAY, f"{case} {label} ratio", threads, label, value=ratio,
                    unit="pair / sum alone")
            rows.append([case, label, f"{median['pydl'] * 1e3:.2f}", f"{median[other] * 1e3:.2f}",
                         f"{median[label] * 1e3:.2f}", f"{ratio:.2f}x",
                         f"<= {PAIR_TARGET}x: " + ("met" if ratio <= PAIR_TARGET else "missed")])
    headers = ["shape (M x K . K x N)", "pair", "pydl alone ms", "other alone ms",
               "pair ms", "pair / sum alone", "target"]
    notes = ["One sample loops pydl's call and the other library's call back to back, "
             "without pauses; 'alone' loops one library's call. OpenBLAS's workers spin "
             "about 0.1 s after each of its calls and libgomp's (torch) a few ms: a core "
             "lost to them is what the ratio shows."]
    return Table(f"In-process interplay, {threads} thread(s) (ms per call or pair)", headers,
                 rows, notes)


def run_workload(run: Run) -> None:
    threads = max(run.settings.threads)
    nets = contention_nets(run.settings)
    shapes = run.settings.contention_gemms
    with use_threads(threads):
        child = keras_tf.start(run, threads, "(contention)") if nets else None
        try:
            for net in nets:
                request = {"op": "train", "net": dataclasses.asdict(net), "threads": threads}
                samplers = _build(run, _train_makers(run, net, threads), request,
                                  f"training on {net.label} (contention)",
                                  children=[child] if child else [])
                measure_subject(run, net.label, samplers, threads, "samples/s",
                                lambda s, net=net: net.steps * net.batch / s)
        finally:
            if child is not None:
                child.close()
        for shape in shapes:
            request = {"op": "gemm", "shape": list(shape), "threads": threads}
            samplers = _build(run, _gemm_makers(run, shape, threads), request,
                              f"GEMM {shape_label(*shape)} (contention)")
            measure_subject(run, shape_label(*shape), samplers, threads, "GFLOP/s",
                            lambda s, shape=shape: 2.0 * math.prod(shape) / s / 1e9)
    publish(run, table(run, f"Training on a busy machine, {threads} thread(s) (samples/s)",
                       [n.label for n in nets], threads, "samples/s"))
    publish(run, table(run, f"GEMM float32 on a busy machine, {threads} thread(s) (GFLOP/s)",
                       [shape_label(*s) for s in shapes], threads, "GFLOP/s"))
    interplay = measure_interplay(run, run.settings.interplay_gemms, threads)
    if interplay is not None:
        publish(run, interplay)
