"""Training state backups (callbacks.BackupAndRestore): one file, written atomically,
that lets a killed ``fit`` resume with the bits an uninterrupted run would have.

A backup holds the weights, the optimizer state, every layer generator's state, the
running metric states, and where training stood: the epoch, the steps done in it,
and pydl's global generator both at the start of that epoch (to draw the epoch's
shuffle again) and now. It is one zip (pydl's format helpers, saving.py) written to
a temporary file and renamed into place, so a crash mid-write leaves the previous
backup whole.
"""

from __future__ import annotations

import json

import numpy as np

from . import saving

_MANIFEST = "training_state.json"
FORMAT = "pydl-training-backup"


def _metric_arrays(model) -> list:
    arrays = []
    for metric in model.metrics:
        if hasattr(metric, "get_state"):
            arrays.extend(np.asarray(v, np.float64) for v in metric.get_state())
        else:
            arrays.extend(np.array(v.value, copy=True) for v in metric.variables)
    return arrays


def _set_metric_arrays(model, arrays: list) -> None:
    arrays = iter(arrays)
    for metric in model.metrics:
        if hasattr(metric, "get_state"):
            metric.set_state([float(next(arrays)) for _ in metric.get_state()])
        else:
            for v in metric.variables:
                v.assign(next(arrays))


def write(model, path: str, training: dict) -> None:
    """Writes the backup of `model` with the JSON-able `training` position."""
    optimizer = model.optimizer
    optimizer_state = list(optimizer.variables) if optimizer is not None and optimizer.built \
        else []
    metrics = _metric_arrays(model)
    manifest = {
        "format": FORMAT,
        "training": training,
        "weights": len(model.weights),
        "optimizer_variables": len(optimizer_state),
        "metric_arrays": len(metrics),
        "generator_states": saving._generator_states(model),
    }
    with saving._atomic_zip(path) as archive:
        archive.writestr(_MANIFEST, json.dumps(manifest, default=saving._json_default))
        for i, w in enumerate(model.weights):
            saving._write_array(archive, f"weights/{i:05d}.npy", w.value)
        for i, array in enumerate(optimizer_state):
            saving._write_array(archive, f"optimizer/{i:05d}.npy", np.asarray(array))
        for i, array in enumerate(metrics):
            saving._write_array(archive, f"metrics/{i:05d}.npy", array)


def read(model, path: str) -> dict:
    """Restores `model` from the backup at `path`; returns its training position.

    Raises:
        ValueError: the file is damaged, foreign, or does not fit the model.
    """
    with saving._Reader(path) as reader:
        if _MANIFEST not in reader.names:
            raise reader.error(f"no {_MANIFEST}: not a pydl training backup")
        manifest = reader.json(_MANIFEST)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise reader.error("not a pydl training backup")
        counts = {key: manifest.get(key) for key in ("weights", "optimizer_variables",
                                                     "metric_arrays")}
        if any(not isinstance(c, int) or c < 0 for c in counts.values()):
            raise reader.error("the backup's array counts are invalid")
        weights = [reader.array(f"weights/{i:05d}.npy") for i in range(counts["weights"])]
        saving._assign(reader, model.weights, weights, f"model {model.name!r}")
        if counts["optimizer_variables"]:
            state = [reader.array(f"optimizer/{i:05d}.npy")
                     for i in range(counts["optimizer_variables"])]
            try:
                model.optimizer.set_variables(state, var_list=model.trainable_weights)
            except (ValueError, TypeError, AttributeError) as exc:
                raise reader.error(f"the optimizer state does not fit the model: {exc}") \
                    from None
        saving._restore_generators(reader, model, manifest.get("generator_states") or {})
        metrics = [reader.array(f"metrics/{i:05d}.npy") for i in range(counts["metric_arrays"])]
        training = manifest.get("training")
        if not isinstance(training, dict):
            raise reader.error("the backup has no training position")
        training["metric_arrays"] = metrics
        return training


def restore_metrics(model, arrays: list) -> None:
    """The running metric states of a backup taken mid-epoch (after reset_metrics)."""
    if arrays:
        try:
            _set_metric_arrays(model, arrays)
        except (StopIteration, ValueError, TypeError) as exc:
            raise ValueError(f"the backup's metric states do not fit the model's metrics: "
                             f"{exc}") from None
