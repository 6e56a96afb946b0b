"""Keras 3 on TensorFlow, run in a child interpreter (benchmarks/keras_tf.py starts it).

It speaks build_worker's protocol, for training only, so that the contention workload
interleaves it sample by sample with the in-process frameworks under the same busy
processes; the child times itself, so pipe overhead stays out:

    {"op": "config", "threads": t}  -> {"config": {versions, backend, thread pools}}
    {"op": "train", "net": {<settings.Net fields>}, "threads": t}
        -> {"ok": true, "jit_compile": <what compile's default resolved to>}
    {"op": "sample", "calls": c}    -> {"seconds": <per call>, "result": <last loss>}

One call is ``model.fit(x, y, batch_size, epochs=1, verbose=0, shuffle=True)`` over the
data of benchmarks/workloads/train.py's make_data, as pydl's side does. KERAS_BACKEND
must be "tensorflow" in the environment (Keras reads it when imported).
"""

from __future__ import annotations

from .build_worker import serve

_state = {}  # "keras", "tf", "threads" once TensorFlow is set up


def _keras(threads: int):
    """keras, with TensorFlow's intra-op pool at `threads` threads and its inter-op pool
    at 1 (one step runs one op at a time, like every other competitor). TensorFlow
    sizes its pools at its first op and rejects later changes, so the first request
    fixes them, before anything imports Keras."""
    if not _state:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        import keras

        if keras.backend.backend() != "tensorflow":
            raise RuntimeError(f"Keras runs on {keras.backend.backend()!r}: set "
                               "KERAS_BACKEND=tensorflow before it is imported")
        _state.update(keras=keras, tf=tf, threads=threads)
    elif _state["threads"] != threads:
        raise ValueError(f"threads: TensorFlow's pools are fixed at {_state['threads']} in "
                         f"this worker, received {threads}")
    return _state["keras"]


def _subject(request: dict):
    from .pydl_side import build_model
    from .settings import Net
    from .workloads.train import make_data

    keras = _keras(int(request["threads"]))
    if request["op"] != "train":
        raise ValueError(f"op: Keras/TF runs 'train' requests only, received {request['op']!r}")
    net = Net(**{**request["net"], "sizes": tuple(request["net"]["sizes"])})
    x, y = make_data(net, net.steps * net.batch)
    model = build_model(net, api=keras)

    def run_epoch():
        history = model.fit(x, y, batch_size=net.batch, epochs=1, verbose=0, shuffle=True)
        return float(history.history["loss"][-1])

    return run_epoch, {"jit_compile": bool(model.jit_compile)}


def _config(request: dict) -> dict:
    keras = _keras(int(request["threads"]))
    tf = _state["tf"]
    return {"tensorflow": tf.__version__, "keras": keras.__version__,
            "backend": keras.backend.backend(),
            "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
            "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}


def main() -> None:
    serve(_subject, _config)


if __name__ == "__main__":
    main()
