"""GridSearchCV over small MLPs on the bundled digits: pydl's scikit-learn wrapper,
scikit-learn's MLPClassifier and Keras' wrapper (benchmarks/sklearn_grid.py says what
each runs). Wall time of the whole search (fits, scoring, the refit) and the test
accuracy of the refitted best model.

pydl and scikit-learn run in this process, interleaved, at each thread count (pydl's
threads, NumPy's BLAS via threadpoolctl); Keras runs in a child process of its own per
repeat (its backend and thread pools are fixed at import), pinned to one CPU for the
single-thread table; its time is measured inside the child, so Python and Keras
start-up are not counted. Medians of the repeats.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from ..results import Run, Table, fmt
from ..sklearn_grid import run_search, settings_for
from ..threads import use_threads
from .common import publish

WORKLOAD = "sklearn"
COMPETITORS = ("pydl", "scikit-learn", "keras")
LABELS = {"pydl": "pydl (SKLearnClassifier)", "scikit-learn": "scikit-learn MLPClassifier",
          "keras": "Keras 3 (SKLearnClassifier)"}
_CHILD = Path(__file__).resolve().parents[1] / "sklearn_grid.py"


def _repeats(run: Run) -> int:
    return {"smoke": 1, "quick": 2}.get(run.settings.mode, 3)


def _keras_backend(run: Run | None = None) -> str | None:
    """The backend Keras trains with: KERAS_BACKEND, else jax, else torch (those the run
    allows: --no-jax / --no-torch leave them out)."""
    import importlib.util

    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    allowed = {"jax": run is None or run.settings.use_jax,
               "torch": run is None or run.settings.use_torch}
    for backend in ("jax", "torch"):
        if allowed[backend] and importlib.util.find_spec(backend) is not None:
            return backend
    return None


def _keras_child(settings: dict, threads: int, backend: str) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend,
               OMP_NUM_THREADS=str(threads), PYTHONWARNINGS="ignore")
    pin = None
    if threads == 1 and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        pin = lambda: os.sched_setaffinity(0, {cpu})  # noqa: E731
    result = subprocess.run([sys.executable, str(_CHILD), "keras", json.dumps(settings)],
                            capture_output=True, text=True, env=env, preexec_fn=pin,
                            timeout=3600)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip().splitlines()[-1] if result.stderr.strip()
                           else f"exit code {result.returncode}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _available(run: Run) -> list[str]:
    import importlib.util

    names = []
    if importlib.util.find_spec("sklearn") is None:
        run.say_unavailable("sklearn workload", "scikit-learn is not installed")
        return names
    names += ["pydl", "scikit-learn"]
    if importlib.util.find_spec("keras") is None:
        run.say_unavailable("Keras (sklearn workload)", "Keras is not installed")
    elif _keras_backend(run) is None:
        run.say_unavailable("Keras (sklearn workload)", "no JAX or PyTorch (installed and not "
                                                        "left out) for Keras to train with")
    else:
        names.append("keras")
    return names


def measure(run: Run, threads: int, names: list[str]) -> None:
    settings = settings_for(run.settings.mode)
    samples = {name: [] for name in names}
    for repeat in range(_repeats(run)):
        order = names[repeat % len(names):] + names[:repeat % len(names)]
        for name in order:
            try:
                if name == "keras":
                    result = _keras_child(settings, threads, _keras_backend(run))
                else:
                    with use_threads(threads):
                        result = run_search(name, settings)
            except Exception as exc:  # one broken competitor costs the others nothing
                run.say_unavailable(f"{LABELS[name]} (sklearn workload)",
                                    f"{type(exc).__name__}: {exc}"[:300])
                samples.pop(name, None)
                names = [n for n in names if n != name]
                continue
            samples[name].append(result)
    case = "GridSearchCV digits"
    for name, results in samples.items():
        if not results:
            continue
        seconds = [r["seconds"] for r in results]
        run.add(WORKLOAD, case, threads, name, value=statistics.median(seconds), unit="s",
                samples_s=seconds, accuracy=statistics.median(r["accuracy"] for r in results),
                best=results[-1]["best"], fits=results[-1]["fits"],
                backend=_keras_backend(run) if name == "keras" else None)


def table(run: Run, threads: int) -> Table:
    settings = settings_for(run.settings.mode)
    rows = []
    pydl_seconds = run.value(WORKLOAD, "GridSearchCV digits", threads, "pydl")
    for name in COMPETITORS:
        record = run.find(WORKLOAD, "GridSearchCV digits", threads, name)
        if record is None:
            continue
        label = LABELS[name] + (f", {record['backend']} backend" if record.get("backend") else "")
        ratio = fmt(record["value"] / pydl_seconds) + "x" if pydl_seconds else "-"
        rows.append([label, fmt(record["value"]), ratio, f"{record['accuracy']:.3f}",
                     str(record["fits"]), record["best"].replace("|", "/")])
    grid = f"hidden {settings['hidden']} x learning rate {settings['learning_rate']}"
    return Table(
        f"GridSearchCV over small MLPs on the digits, {threads} thread(s)",
        ["framework", "wall s", "time / pydl's", "test accuracy", "fits", "best params"], rows,
        notes=[f"64-h-10 MLP (relu, softmax), Adam, batch {settings['batch']}, "
               f"{settings['epochs']} epochs; grid {grid}; {settings['cv']}-fold CV + refit; "
               f"n_jobs=1; median of {_repeats(run)} repeat(s)",
               "Keras times its search inside its own process (start-up not counted); the "
               "wrappers get fit_kwargs through the grid (Keras 3.15's wrapper drops them "
               "when scikit-learn clones it)"])


def run_workload(run: Run) -> None:
    names = _available(run)
    if not names:
        return
    for threads in run.settings.threads:
        measure(run, threads, list(names))
        publish(run, table(run, threads))
