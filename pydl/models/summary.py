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


def print_summary(model, line_length=None, positions=None, print_fn=None) -> None:
    """Writes ``model``'s table with ``print_fn`` (``print`` by default), line by line."""
    line_length = line_length or 65
    positions = positions or [0.45, 0.85, 1.0]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    emit = print_fn or print
    shapes = getattr(model, "_layer_output_shapes", None) or {}

    emit(f'Model: "{model.name}"')
    emit("_" * line_length)
    emit(_row([" Layer (type)", "Output Shape", "Param #"], positions))
    emit("=" * line_length)
    layers = model.layers
    for i, layer in enumerate(layers):
        fields = [f" {layer.name} ({type(layer).__name__})",
                  format_shape(shapes.get(id(layer))),
                  f"{_count(layer.weights):,}"]
        emit(_row(fields, positions))
        if i < len(layers) - 1:
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
