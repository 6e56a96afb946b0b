"""One data-parallel training job, timed from inside; prints JSON (rank 0).

    python -m benchmarks.distributed_child '{"sizes": [...], ...}'               # 1 process
    mpiexec -n 2 python -m benchmarks.distributed_child '{"sizes": [...], ...}'  # 2 processes

Runs `warmup` epochs, then `epochs` timed epochs of `steps` global batches through
``fit`` under ``DataParallel`` (a no-op in a world of one), and reports per epoch:
samples/s, the seconds spent inside the gradient Allreduce (the reducer's clock),
then the Allreduce alone (persistent, as the steps run it) on a buffer of the
gradients' size: seconds per call.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np


def main(spec: dict) -> dict | None:
    import pydl
    from pydl import distribution

    from .pydl_side import build_model
    from .settings import Net
    from .workloads.train import make_data

    distribution.initialize()
    net = Net(tuple(spec["sizes"]), spec["loss"], spec["optimizer"], spec["batch"],
              spec["steps"], spec["learning_rate"])
    x, y = make_data(net, net.batch * net.steps)
    parallel = distribution.DataParallel()
    distribution.set_distribution(parallel)
    model = build_model(net)
    reducer = parallel._reducer
    for _ in range(spec["warmup"]):
        model.fit(x, y, batch_size=net.batch, epochs=1, verbose=0)
    epochs = []
    for _ in range(spec["epochs"]):
        before = reducer.seconds if reducer is not None else 0.0
        distribution.barrier()
        start = time.perf_counter()
        model.fit(x, y, batch_size=net.batch, epochs=1, verbose=0)
        seconds = time.perf_counter() - start
        reduce = (reducer.seconds - before) if reducer is not None else 0.0
        epochs.append({"seconds": seconds, "allreduce_seconds": reduce,
                       "samples_per_s": net.batch * net.steps / seconds})
    assert np.isfinite(model.evaluate(x[:net.batch], y[:net.batch], verbose=0))
    result = {"processes": distribution.size(), "threads": pydl.get_num_threads(),
              "epochs": epochs, "trained_on": model._trained_on,
              "gradient_bytes": 4 * sum(w.value.size for w in model.trainable_weights)}
    comm = distribution.world.comm()
    if comm is not None:  # the Allreduce alone, as the steps run it (a persistent request)
        buffer = np.zeros(result["gradient_bytes"] // 4, np.float32)
        request = reducer._persistent(buffer)
        calls = []
        for _ in range(spec["bandwidth_calls"] + 1):
            comm.Barrier()
            start = time.perf_counter()
            request.Start()
            request.Wait()
            calls.append(time.perf_counter() - start)
        request.Free()
        result["allreduce_call_seconds"] = calls[1:]  # the first one warms up
    distribution.set_distribution(None)
    return result if distribution.is_chief() else None


if __name__ == "__main__":
    out = main(json.loads(sys.argv[1]))
    if out is not None:
        print(json.dumps(out), flush=True)
