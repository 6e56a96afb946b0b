"""Logs over every process: the metrics' state summed across them, then ``result()``.

A metric's state is totals and counts (its Variables; a loss tracker's ``total`` and
``count``), so the state of the whole global data is the sum of every process's --
or, for a custom metric variable made with ``add_variable(aggregation="mean")``, the
mean; with "only_first_replica" or "none", rank 0's. One Allreduce (float64) carries
all of it, plus any number a custom ``train_step`` logged that no metric backs (its
mean over the processes). The results are computed from the summed state, which is
then put back: each process keeps accumulating its own rows, and the next log sums
again. Every process thus logs the same numbers, and callbacks decide alike.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import collectives


def _aggregation(metric, variable) -> str:
    return metric.__dict__.get("_aggregations", {}).get(id(variable), "sum")


def _state(model) -> list:
    """[(read, write, aggregation)] of every piece of state of model.metrics, in order."""
    from ..models.compile_utils import CompileMetrics, LossTracker

    out = []

    def visit(metric):
        if isinstance(metric, LossTracker):
            for attr in ("total", "count"):
                out.append((lambda m=metric, a=attr: getattr(m, a),
                            lambda value, m=metric, a=attr: setattr(m, a, float(value)),
                            "sum"))
            return
        if isinstance(metric, CompileMetrics):
            for sub in metric.metrics:
                visit(sub)
            return
        for variable in metric.variables:
            array = variable.value

            def write(value, array=array):
                np.copyto(array, np.reshape(value, array.shape), casting="unsafe")
            out.append((lambda array=array: array, write, _aggregation(metric, variable)))

    for metric in model.metrics:
        visit(metric)
    return out


def _is_number(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, numbers.Number):
        return True
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        return False
    return array.dtype.kind in "iuf"


def global_results(comm, model, logs):
    """(the metric results over every process, `logs` with its numbers made global)."""
    state = _state(model)
    local = [np.array(read(), np.float64).reshape(-1) for read, _, _ in state]  # copies
    backed = set(model.get_metrics_result()) if logs else set()
    custom = sorted(k for k, v in (logs or {}).items() if k not in backed and _is_number(v))
    custom_values = [np.asarray(logs[k], np.float64).reshape(-1) for k in custom]
    parts = list(local) + custom_values
    buffer = np.concatenate(parts) if parts else np.zeros(0)
    rank, size = comm.Get_rank(), comm.Get_size()
    offset = 0
    spans = []
    for part, (_, _, aggregation) in zip(local, state):
        spans.append((offset, offset + part.size, aggregation))
        if aggregation in ("only_first_replica", "none") and rank != 0:
            buffer[offset:offset + part.size] = 0
        offset += part.size
    if buffer.size:
        collectives.allreduce_in_place(comm, buffer)
    for start, stop, aggregation in spans:
        if aggregation == "mean":
            buffer[start:stop] /= size
    for (_, write, _), (start, stop, _) in zip(state, spans):
        write(buffer[start:stop] if stop - start != 1 else buffer[start])
    try:
        results = model.get_metrics_result()
    finally:
        for (_, write, _), value in zip(state, local):
            write(value if value.size != 1 else value[0])
    if logs is None:
        return results, None
    merged = dict(logs)
    for key in backed & set(logs):
        merged[key] = results[key]
    for key, value in zip(custom, custom_values):
        start = offset
        offset += value.size
        reduced = buffer[start:offset] / size
        shape = np.shape(logs[key])
        merged[key] = float(reduced[0]) if shape == () else reduced.reshape(shape)
    return results, merged
