"""Keras 3 on TensorFlow ("Keras/TF"), a competitor of the contention workload's training
networks (issue 17: pydl stays ahead of it on a busy machine).

It runs in a child interpreter (benchmarks/keras_tf_worker.py), driven one sample at a
time like --compare's builds: Keras fixes its backend when imported and TensorFlow its
thread pools at its first op, and TensorFlow's pins (h5py, say) need not fit next to
the other frameworks, so it may live in a venv of its own: ``--keras-tf-python PATH``.
Without that option, this interpreter runs it when it can import tensorflow.
"""

from __future__ import annotations

import importlib.util
import sys

from .other_builds import BuildSpec, OtherBuild

NAME = "Keras/TF"


def interpreter(run) -> tuple[str | None, str | None]:
    """(the interpreter that runs Keras/TF, None) or (None, why there is none)."""
    if not run.settings.use_keras_tf:
        return None, "left out of this run (--no-keras-tf)"
    if run.settings.keras_tf_python:
        return run.settings.keras_tf_python, None
    if importlib.util.find_spec("tensorflow") is not None:  # found, not imported here
        return sys.executable, None
    return None, ("TensorFlow is not installed in this interpreter (--keras-tf-python PATH "
                  "names one that has it)")


def start(run, threads: int, what: str) -> OtherBuild | None:
    """The Keras/TF child with TensorFlow set up at `threads` intra-op threads, its
    versions in run.machine["keras_tf"]; None (and why, once) when it cannot run."""
    python, reason = interpreter(run)
    if python is None:
        run.say_unavailable(f"{NAME} {what}", reason)
        return None
    env = {"KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "2",  # no INFO banners
           "OMP_NUM_THREADS": str(threads)}
    child = OtherBuild(BuildSpec(NAME, python, env), worker="keras_tf_worker", name=NAME)
    try:
        config = child.request(op="config", threads=threads)["config"]
    except Exception as exc:
        child.close()
        run.say_unavailable(f"{NAME} {what}", f"{python}: {exc}"[:300])
        return None
    run.machine["keras_tf"] = {"python": python, **config}
    return child
