"""ONNX converters of the normalization and scaling layers (inference form).

    BatchNormalization   x * (gamma / sqrt(moving_variance + epsilon))
                           + (beta - moving_mean * gamma / sqrt(moving_variance + epsilon)),
                         the two constants folded at export, broadcast along `axis`
    LayerNormalization   (x - mean) / sqrt(var + epsilon) * gamma + beta over `axis`
                         (rms_scaling: x / sqrt(var + epsilon) * gamma), ReduceMean-based
    UnitNormalization    x / max(sqrt(sum(x ** 2, axis)), 1e-12)
    Normalization        (x - mean) / max(sqrt(variance), 1e-7)   (invert: x * std + mean)
    Rescaling            x * scale + offset
"""

from __future__ import annotations

import numpy as np

from .onnx_layers import _builtin


def _rank(builder, x, layer) -> int:
    shape = builder.shapes.get(x)
    if shape is None:
        raise ValueError(f"export: the input shape of {layer.name!r} is unknown")
    return len(shape)


def _along(values, axes, shape) -> np.ndarray:
    """``values`` (the sizes of ``axes`` of ``shape``) shaped to broadcast against ``shape``."""
    target = [shape[a] if a in axes else 1 for a in range(len(shape))]
    return np.asarray(values).reshape(target[1:])  # without the batch axis


def _axes(axis, rank) -> list:
    axis = [axis] if isinstance(axis, int) else list(axis)
    return sorted(int(a) % rank for a in axis)


@_builtin("BatchNormalization")
def _batch_normalization(builder, layer, x, base):
    rank = _rank(builder, x, layer)
    (axis,) = _axes(layer.axis, rank)
    shape = builder.shapes[x]
    mean = layer.moving_mean.value.astype(np.float64)
    inv_std = 1.0 / np.sqrt(layer.moving_variance.value.astype(np.float64) + layer.epsilon)
    scale = inv_std * (layer.gamma.value if layer.gamma is not None else 1.0)
    offset = (layer.beta.value if layer.beta is not None else 0.0) - mean * scale
    y = builder.op("Mul", [x, builder.constant(f"{base}/scale", _along(scale, [axis], shape))],
                   base)
    return builder.op("Add", [y, builder.constant(f"{base}/offset",
                                                  _along(offset, [axis], shape))], base)


@_builtin("LayerNormalization")
def _layer_normalization(builder, layer, x, base):
    rank = _rank(builder, x, layer)
    axes = _axes(layer.axis, rank)
    shape = builder.shapes[x]
    mean = builder.reduce("ReduceMean", x, axes, base)
    centered = builder.op("Sub", [x, mean], base)
    variance = builder.reduce("ReduceMean", builder.op("Mul", [centered, centered], base), axes,
                              base)
    std = builder.op("Sqrt", [builder.op("Add", [variance, builder.constant(
        f"{base}/epsilon", layer.epsilon)], base)], base)
    y = builder.op("Div", [x if layer.rms_scaling else centered, std], base)
    if layer.gamma is not None:
        y = builder.op("Mul", [y, builder.constant(f"{base}/gamma",
                                                   _along(layer.gamma.value, axes, shape))], base)
    if layer.beta is not None and not layer.rms_scaling:
        y = builder.op("Add", [y, builder.constant(f"{base}/beta",
                                                   _along(layer.beta.value, axes, shape))], base)
    return y


@_builtin("UnitNormalization")
def _unit_normalization(builder, layer, x, base):
    axes = _axes(layer.axis, _rank(builder, x, layer))
    total = builder.reduce("ReduceSum", builder.op("Mul", [x, x], base), axes, base)
    norm = builder.op("Max", [builder.op("Sqrt", [total], base),
                              builder.constant(f"{base}/epsilon", 1e-12)], base)
    return builder.op("Div", [x, norm], base)


@_builtin("Normalization")
def _normalization(builder, layer, x, base):
    from ..layers.preprocessing import _EPSILON

    mean, variance = (np.asarray(v, dtype=np.float64) for v in layer._statistics())
    std = np.maximum(np.sqrt(variance), _EPSILON)
    # the statistics broadcast against (batch, ...): drop their leading batch axis of 1
    mean_name = builder.constant(f"{base}/mean", mean.reshape(mean.shape[1:]))
    std_name = builder.constant(f"{base}/std", std.reshape(std.shape[1:]))
    if layer.invert:
        return builder.op("Add", [builder.op("Mul", [x, std_name], base), mean_name], base)
    return builder.op("Div", [builder.op("Sub", [x, mean_name], base), std_name], base)


@_builtin("Rescaling")
def _rescaling(builder, layer, x, base):
    y = builder.op("Mul", [x, builder.constant(f"{base}/scale", layer.scale)], base)
    return builder.op("Add", [y, builder.constant(f"{base}/offset", layer.offset)], base)
