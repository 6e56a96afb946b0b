"""Runs one training job in a fresh process and prints its memory use as JSON.

    python -m benchmarks.memory_child '{"framework": "pydl", "sizes": [...], ...}'

RSS is read from /proc/self/statm (current) and VmHWM (peak); the baseline is
the RSS once the data is made and the model built, before the first epoch.
"""

from __future__ import annotations

import json
import os
import resource
import sys

import numpy as np


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (reset by exec, unlike getrusage's ru_maxrss,
    which Linux carries over from the parent that spawned us)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(spec: dict) -> dict:
    from .settings import Net
    from .workloads.train import make_data

    net = Net(tuple(spec["sizes"]), spec["loss"], spec["optimizer"], spec["batch"], 1,
              spec["learning_rate"])
    x, y = make_data(net, spec["samples"])
    framework = spec["framework"]
    if framework == "pydl":
        from . import pydl_side

        model = pydl_side.build_model(net)
        epoch = lambda: model.fit(x, y, batch_size=net.batch, epochs=1, verbose=0)  # noqa: E731
    elif framework == "NumPy":
        from .workloads.train import numpy_epoch

        epoch = numpy_epoch(net, x, y)
    elif framework == "torch":
        import torch

        from . import torch_side

        epoch = torch_side.epoch_fn(net, x, y, torch, compiled=False)
    else:
        raise ValueError(f"framework: expected pydl, NumPy or torch, received {framework!r}")
    before = rss_mb()
    after_epochs = []
    for _ in range(spec["epochs"]):
        epoch()
        after_epochs.append(rss_mb())
    return {"data_mb": (x.nbytes + y.nbytes) / 2**20, "weights_mb": net.weight_bytes / 2**20,
            "rss_before_mb": before, "peak_rss_mb": peak_rss_mb(),
            "rss_after_epochs_mb": after_epochs}


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
