"""Where pydl's training time goes: cProfile of one fit epoch per network.

    python -m benchmarks --profile [--quick] [--threads 1]

Prints, per network, the functions with the most own time (tottime). Time inside
a C++ kernel shows up as its binding (e.g. ``pydl._core.dense_forward``); time
in Python glue (tape, batching, callbacks) shows up as the Python functions, which
is what a missed per-step target usually points at.
"""

from __future__ import annotations

import cProfile
import io
import pstats

from . import pydl_side
from .results import Run
from .threads import use_threads
from .workloads.train import make_data, pydl_epoch


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
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("tottime").print_stats(top)
        text = stream.getvalue()
        body = text[text.find("   ncalls"):] if "   ncalls" in text else text
        report.append(f"### pydl fit, {net.label}, {net.steps} steps, {threads} thread(s)\n\n"
                      f"```\n{body.rstrip()}\n```\n")
    out = "\n".join(report)
    print(out, flush=True)
    return out
