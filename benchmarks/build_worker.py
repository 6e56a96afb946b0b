"""pydl's side of a benchmark, run in another interpreter: another pydl build.

``--compare`` (benchmarks/other_builds.py) starts one of these per extra build, so
that two builds of pydl (this branch and main, say) are timed sample by sample in
one interleaved run, under the same load. One JSON request per line on stdin, one
JSON reply per line on stdout:

    {"op": "gemm", "shape": [m, k, n], "threads": t}
        -> {"ok": true, "relative_error": <vs a float64 product>}
    {"op": "train", "net": {<settings.Net fields>}, "threads": t} -> {"ok": true, ...}
    {"op": "sample", "calls": c}    -> {"seconds": <per call>, "result": <loss or null>}
    {"op": "config"}                -> {"config": <pydl.show_config()>}

The worker imports pydl from its own interpreter's packages (the repository is at
the end of sys.path, for the benchmarks package only). benchmarks/keras_tf_worker.py
answers the same protocol through serve(), with Keras on TensorFlow.
"""

from __future__ import annotations

import json
import sys
import time
import traceback


def _subject(request: dict):
    """(the subject's one-call function, fields for the setup reply)."""
    import numpy as np

    import pydl

    from .settings import Net
    from .workloads.train import make_data, pydl_epoch

    pydl.set_num_threads(int(request["threads"]))
    if request["op"] == "gemm":
        from pydl import _core

        m, k, n = request["shape"]
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        out = np.empty((m, n), np.float32)
        _core.gemm(a, b, out)
        reference = a.astype(np.float64) @ b.astype(np.float64)
        scale = float(np.linalg.norm(reference)) or 1.0
        return (lambda: _core.gemm(a, b, out),
                {"relative_error": float(np.linalg.norm(out - reference)) / scale})
    net = Net(**{**request["net"], "sizes": tuple(request["net"]["sizes"])})
    x, y = make_data(net, net.steps * net.batch)
    return pydl_epoch(net, x, y), {"relative_error": None}


def _config(request: dict) -> dict:
    import pydl

    return pydl.show_config(print_it=False)


def serve(subject_for, config) -> None:
    """Answers the requests on stdin, one JSON reply per line, until stdin closes.

    subject_for(request) -> (function, fields) for a "gemm" or "train" request: the
    function is called once (the warm-up) and the fields go into the reply;
    config(request) -> the "config" reply. A failing request is answered with its
    error, and the driver leaves this competitor out."""
    subject = None
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] in ("gemm", "train"):
                subject, fields = subject_for(request)
                subject()  # warm-up
                reply = {"ok": True, **fields}
            elif request["op"] == "sample":
                calls = int(request.get("calls", 1))
                start = time.perf_counter()
                for _ in range(calls):
                    result = subject()
                seconds = (time.perf_counter() - start) / calls
                reply = {"seconds": seconds,
                         "result": float(result) if isinstance(result, float) else None}
            elif request["op"] == "config":
                reply = {"config": config(request)}
            else:
                reply = {"error": f"unknown op {request['op']!r}"}
        except Exception as exc:
            reply = {"error": f"{type(exc).__name__}: {exc}",
                     "traceback": traceback.format_exc()[-2000:]}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main() -> None:
    serve(_subject, _config)


if __name__ == "__main__":
    main()
