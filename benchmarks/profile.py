"""Where pydl's training time goes: cProfile of one fit epoch per network.

    python -m benchmarks --profile [--quick] [--threads 1]

Prints, per network (and for predict on one sample), the functions with the most own time (tottime). Time inside
a C++ kernel shows up as its binding (e.g. ``pydl._core.dense_forward``); time
in Python glue (tape, batching, callbacks) shows up as the Python functions, which
is what a missed per-step target usually points at.
"""

from __future__ import annotations

import cProfile
import io
import pstats

import numpy as np

from . import pydl_side
from .results import Run
from .settings import MNIST_SIZES, Net
from .threads import use_threads
from .workloads.train import make_data, pydl_epoch


def _top(profiler: cProfile.Profile, top: int) -> str:
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    text = stream.getvalue()
    return (text[text.find("   ncalls"):] if "   ncalls" in text else text).rstrip()


def _profile_predict(run: Run, threads: int, top: int, calls: int = 200) -> str:
    """predict on one sample, `calls` times: the per-call overhead, function by function."""
    net = Net(MNIST_SIZES if run.settings.mode != "smoke" else run.settings.nets[0].sizes,
              "sparse_categorical_crossentropy", "sgd", 1, 1)
    model = pydl_side.build_model(net)
    x = np.zeros((1, net.sizes[0]), np.float32)
    with use_threads(threads):
        model.predict(x, batch_size=1, verbose=0)  # warm-up
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            model.predict(x, batch_size=1, verbose=0)
        profiler.disable()
    return (f"### pydl predict on 1 sample, {net.name}, {calls} calls, {threads} thread(s)\n\n"
            f"```\n{_top(profiler, top)}\n```\n")


def run_profile(run: Run, top: int = 15) -> str:
    reason = pydl_side.keras_api_reason()
    if reason is not None:
        run.say_unavailable("pydl profile", reason)
        return ""
    report = []
    threads = max(run.settings.threads)
    for net in run.settings.nets:
        x, y = make_data(net, net.steps * net.batch)
        with use_threads(threads):
            epoch = pydl_epoch(net, x, y)
            epoch()  # warm-up
            profiler = cProfile.Profile()
            profiler.enable()
            epoch()
            profiler.disable()
        report.append(f"### pydl fit, {net.label}, {net.steps} steps, {threads} thread(s)\n\n"
                      f"```\n{_top(profiler, top)}\n```\n")
    report.append(_profile_predict(run, threads, top))
    out = "\n".join(report)
    print(out, flush=True)
    return out
