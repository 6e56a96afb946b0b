"""``model.summary()``: the Keras table of layers, output shapes and parameter counts.

    Model: "sequential"
    _________________________________________________________________
     Layer (type)                Output Shape              Param #
    =================================================================
     dense (Dense)               (None, 512)               401,920
     dense_1 (Dense)             (None, 10)                5,130
    =================================================================
    Total params: 407,050 (1.55 MB)
    Trainable params: 407,050 (1.55 MB)
    Non-trainable params: 0 (0.00 B)
    _________________________________________________________________

A Functional model lists its InputLayers too, and -- unless its graph is a plain
chain -- a "Connected to" column: for each layer, the tensors it was called on,
as ``layer_name[node_index][tensor_index]`` (Keras 3), one per line.
"""

from __future__ import annotations

import numpy as np


def _count(variables) -> int:
    return int(sum(int(np.prod(v.value.shape)) for v in variables))


def _bytes(variables) -> int:
    return int(sum(v.value.nbytes for v in variables))


def format_bytes(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.2f} {unit}"
    return f"{n:.2f} B"


def format_shape(shape) -> str:
    if shape is None:
        return "?"
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def _row(fields, positions) -> str:
    line = ""
    for i, field in enumerate(fields):
        if i > 0:
            line = line[:-1] + " "  # at least one space between columns
        line += str(field)
        line = line[: positions[i]].ljust(positions[i])
    return line.rstrip()


def _chain(nodes: list) -> bool:
    """Whether nodes (InputLayer first) form one chain: each reads the last one's output."""
    for previous, node in zip(nodes, nodes[1:]):
        if len(previous.outputs) != 1 or node.input_tensors != previous.outputs:
            return False
    return True


def _layer_rows(model) -> tuple:
    """(header, rows): one row of fields per layer (a field is a str or a list of lines)."""
    info = getattr(model, "_summary_info", None)
    if info is None:
        shapes = getattr(model, "_layer_output_shapes", None) or {}
        rows = [[f" {layer.name} ({type(layer).__name__})", format_shape(shapes.get(id(layer))),
                 f"{_count(layer.weights):,}"] for layer in model.layers]
        return [" Layer (type)", "Output Shape", "Param #"], rows
    layers, own = info()
    per_layer = [[n for n in layer._inbound_nodes if id(n) in own] for layer in layers]
    connected = any(len(nodes) != 1 for nodes in per_layer) or \
        not _chain([nodes[0] for nodes in per_layer])
    rows = []
    for layer, nodes in zip(layers, per_layer):
        outputs = [format_shape(x.shape) for x in nodes[-1].outputs] if nodes else ["?"]
        shape = outputs[0] if len(outputs) == 1 else \
            [("[" if i == 0 else "") + o + ("," if i < len(outputs) - 1 else "]")
             for i, o in enumerate(outputs)]
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        row = [f" {layer.name} ({type(layer).__name__})", shape, params]
        if connected:
            sources = [f"{x._keras_history.layer.name}[{x._keras_history.node_index}]"
                       f"[{x._keras_history.tensor_index}]"
                       for node in nodes for x in node.input_tensors]
            row.append([s + ("," if i < len(sources) - 1 else "")
                        for i, s in enumerate(sources)] or ["-"])
        rows.append(row)
    header = [" Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    return header, rows


def print_summary(model, line_length=None, positions=None, print_fn=None) -> None:
    """Writes ``model``'s table with ``print_fn`` (``print`` by default), line by line."""
    header, rows = _layer_rows(model)
    wide = len(header) == 4
    line_length = line_length or (98 if wide else 65)
    positions = positions or ([0.33, 0.55, 0.67, 1.0] if wide else [0.45, 0.85, 1.0])
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    emit = print_fn or print

    emit(f'Model: "{model.name}"')
    emit("_" * line_length)
    emit(_row(header, positions))
    emit("=" * line_length)
    for i, fields in enumerate(rows):
        # A field is a str or a list of lines (several outputs, several connections).
        cells = [field if isinstance(field, list) else [field] for field in fields]
        for k in range(max(len(cell) for cell in cells)):
            emit(_row([cell[k] if k < len(cell) else "" for cell in cells], positions))
        if i < len(rows) - 1:
            emit("")
    emit("=" * line_length)
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    total = _count(trainable) + _count(non_trainable)
    total_bytes = _bytes(trainable) + _bytes(non_trainable)
    emit(f"Total params: {total:,} ({format_bytes(total_bytes)})")
    emit(f"Trainable params: {_count(trainable):,} ({format_bytes(_bytes(trainable))})")
    emit(f"Non-trainable params: {_count(non_trainable):,} "
         f"({format_bytes(_bytes(non_trainable))})")
    emit("_" * line_length)
