"""What every process must agree on when a data-parallel call starts, and the errors
that say who disagrees.

Each process describes its call -- its arguments, the per-sample shapes and dtypes
of its data (and, when all hold one data set, its sample count and a checksum of
its bits), the model's layers and weights, the compiled loss, metrics and
optimizer -- and one allgather gives every process every description. Each
compares them in the same order and raises the same ValueError (errors.everywhere):
no process is left waiting for one that stopped.
"""

from __future__ import annotations

import json

from . import collectives
from .errors import everywhere

# Arguments that carry data (compared through their shapes), or that may differ.
_NOT_COMPARED = {"self", "x", "y", "sample_weight", "validation_data", "verbose"}


def arguments_spec(arguments: dict) -> dict:
    out = {}
    for name, value in arguments.items():
        if name in _NOT_COMPARED:
            continue
        if name == "callbacks" and value is not None:
            items = value if isinstance(value, (list, tuple)) else [value]
            value = [type(cb).__name__ for cb in items]
        out[name] = repr(value)
    return out


def data_spec(data, with_checksums: bool) -> dict:
    """Per-sample shapes and dtypes of every array of a Dataset, its sample count and
    (with_checksums) the checksum of each array."""
    spec = {"samples": data.num_samples, "arrays": [], "checksums": None}
    for role, leaves in (("x", data.x_leaves), ("y", data.y_leaves),
                         ("sample_weight", data.sw_leaves)):
        for i, a in enumerate(leaves):
            name = role if len(leaves) == 1 else f"{role}[{i}]"
            spec["arrays"].append((name, tuple(a.shape[1:]), a.dtype.str))
    if with_checksums:
        spec["checksums"] = [collectives.checksum(a) for a in data._all]
    return spec


def _all_layers(model, out: list) -> list:
    for layer in getattr(model, "layers", None) or []:
        out.append(layer)
        _all_layers(layer, out)
    return out


def _canonical(value, names: dict):
    """A config with layer names replaced by their position (names may differ between
    processes that created other layers before)."""
    if isinstance(value, dict):
        return {k: _canonical(v, names) for k, v in value.items() if k != "name"}
    if isinstance(value, (list, tuple)):
        return [_canonical(v, names) for v in value]
    if isinstance(value, str):
        return names.get(value, value)
    return value


def _describe(obj) -> str:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return repr(obj)
    if isinstance(obj, (list, tuple)):
        return "[" + ", ".join(_describe(o) for o in obj) + "]"
    if isinstance(obj, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in sorted(obj.items())) + "}"
    config = getattr(obj, "get_config", None)
    try:
        config = config() if callable(config) else None
    except Exception:  # noqa: BLE001 -- a description, never an error
        config = None
    if isinstance(config, dict):
        config = {k: v for k, v in config.items() if k != "name"}
        return f"{type(obj).__name__}({json.dumps(config, sort_keys=True, default=str)})"
    return getattr(obj, "__name__", type(obj).__name__)


def model_spec(model) -> dict:
    layers = _all_layers(model, [])
    names = {layer.name: f"<layer {i}>" for i, layer in enumerate(layers)}
    described = []
    for layer in layers:
        try:  # JSON's round trip: comparable values (tuples as lists, objects as text)
            config = json.loads(json.dumps(_canonical(layer.get_config(), names),
                                           sort_keys=True, default=str))
        except Exception:  # noqa: BLE001 -- a layer without a config: its class
            config = {}
        described.append((type(layer).__name__, config))
    compiled = getattr(model, "_compile_config", None) or {}
    return {
        "class": type(model).__name__,
        "layers": described,
        "weights": [(tuple(w.value.shape), w.value.dtype.str, bool(w.trainable))
                    for w in model.weights],
        "compile": {k: _describe(v) for k, v in sorted(compiled.items())},
        "optimizer": _describe(getattr(model, "optimizer", None)),
    }


def _first_difference(every: list, key):
    """(rank, rank 0's value, that rank's value) of the first process whose `key` differs."""
    for r, spec in enumerate(every):
        if spec[key] != every[0][key]:
            return r, every[0][key], spec[key]
    return None


def _short(value, limit: int = 300) -> str:
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def check_call(call: str, every: list, auto: bool) -> None:
    """Raises (on every process alike) the first disagreement among the processes'
    call descriptions (`every`: one dict per rank, from call_spec)."""
    found = _first_difference(every, "arguments")
    if found:
        r, mine, theirs = found
        names = sorted(k for k in set(mine) | set(theirs) if mine.get(k) != theirs.get(k))
        pairs = ", ".join(f"{n}: {mine.get(n)} on rank 0, {theirs.get(n)} on rank {r}"
                          for n in names)
        raise everywhere(ValueError(
            f"{call}: the processes were called with different arguments ({pairs}); under "
            "DataParallel every process makes the same call"))
    for part in ("data", "validation"):
        specs = [spec[part] for spec in every]
        if specs[0] is None and all(s is None for s in specs):
            continue
        if any(s is None for s in specs):
            has = [r for r, s in enumerate(specs) if s is not None]
            raise everywhere(ValueError(
                f"{call}: validation data on ranks {has} only; pass the same kind of "
                "validation (validation_data or validation_split) on every process"))
        _check_data(call, part, specs, auto)
    found = _first_difference(every, "model")
    if found:
        r, mine, theirs = found
        field = next(f for f in ("class", "layers", "weights", "compile", "optimizer")
                     if mine[f] != theirs[f])
        a, b = _field_difference(mine[field], theirs[field])
        raise everywhere(ValueError(
            f"{call}: the model differs between rank 0 and rank {r} ({field}: {_short(a)} on "
            f"rank 0, {_short(b)} on rank {r}); every process must build and compile the "
            "same model"))


def _field_difference(a, b):
    """The first difference of two specs, as (rank 0's text, the other's text)."""
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f"{len(a)} entries", f"{len(b)} entries"
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                if isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], dict):
                    if x[0] != y[0]:
                        return f"[{i}] {x[0]}", f"[{i}] {y[0]}"
                    mine, theirs = _field_difference(x[1], y[1])
                    return f"[{i}] {x[0]} {mine}", f"[{i}] {y[0]} {theirs}"
                return f"[{i}] {x}", f"[{i}] {y}"
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return f"{k}={a.get(k)}", f"{k}={b.get(k)}"
    return a, b


def _check_data(call: str, part: str, specs: list, auto: bool) -> None:
    label = "validation data" if part == "validation" else "data"
    for r, spec in enumerate(specs):
        if spec["arrays"] == specs[0]["arrays"]:
            continue
        mine, theirs = specs[0]["arrays"], spec["arrays"]
        for a, b in zip(mine, theirs):
            if a != b:
                raise everywhere(ValueError(
                    f"{call}: {label} '{a[0]}' has samples of shape {a[1]} and dtype {a[2]} on "
                    f"rank 0, but '{b[0]}' has shape {b[1]} and dtype {b[2]} on rank {r}; every "
                    "process must pass data of the same per-sample shapes and dtypes"))
        raise everywhere(ValueError(
            f"{call}: {label} has {len(mine)} arrays on rank 0 and {len(theirs)} on rank {r}; "
            "every process must pass the same inputs, targets and sample weights"))
    counts = [spec["samples"] for spec in specs]
    if auto:
        for r, n in enumerate(counts):
            if n != counts[0]:
                raise everywhere(ValueError(
                    f"{call}: {label} has {counts[0]} samples on rank 0 and {n} on rank {r}; with "
                    "DataParallel(auto_shard_dataset=True) every process passes the same data "
                    "(each computes its part of every batch); pass "
                    "DataParallel(auto_shard_dataset=False) when each holds its own shard"))
        for r, spec in enumerate(specs):
            if spec["checksums"] != specs[0]["checksums"]:
                raise everywhere(ValueError(
                    f"{call}: {label} differs between rank 0 and rank {r} (same shapes, other "
                    "values); with DataParallel(auto_shard_dataset=True) every process passes "
                    "the same data; pass DataParallel(auto_shard_dataset=False) when each holds "
                    "its own shard"))
    else:
        empty = [r for r, n in enumerate(counts) if n == 0]
        if empty and part == "data":
            raise everywhere(ValueError(
                f"{call}: rank {empty[0]} holds no samples; with "
                "DataParallel(auto_shard_dataset=False) every process needs its own non-empty "
                "shard"))
