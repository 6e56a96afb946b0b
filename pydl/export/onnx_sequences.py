"""ONNX converters of the token and sequence layers, and how masks travel.

    Embedding               Gather(embeddings, Cast(ids, int64))     (ids truncated as pydl)
                            mask_zero: the mask Cast(ids, int64) != 0 rides along
    GlobalAveragePooling1D  ReduceMean over the steps; with a mask, sum(x * mask) / sum(mask)
    GlobalMaxPooling1D      ReduceMax over the steps
    CategoryEncoding        OneHot(ids, num_tokens); multi_hot: its max over the tokens,
                            count: its sum

A mask (float, (batch, steps)) is kept per tensor in ``builder.masks``: a layer that
supports masking passes its input's mask on (onnx.py), Embedding makes one, the average
pooling consumes it, as pydl's Keras-3 masking does.
"""

from __future__ import annotations

import numpy as np

from .onnx_layers import _builtin


def _ids(builder, x, base):
    return builder.op("Cast", [x], base, to=builder.onnx.TensorProto.INT64)


@_builtin("Embedding")
def _embedding(builder, layer, x, base):
    ids = _ids(builder, x, base)
    out = builder.op("Gather", [builder.constant(f"{base}/embeddings", layer.embeddings.value),
                                ids], base, axis=0)
    if layer.mask_zero:
        zero = builder.constant(f"{base}/zero", 0, dtype=np.int64)
        keep = builder.op("Not", [builder.op("Equal", [ids, zero], base)], base)
        builder.masks[out] = builder.op("Cast", [keep], base,
                                        to=builder.helper.np_dtype_to_tensor_dtype(builder.dtype))
    else:
        builder.masks[out] = None
    return out


def _steps_axis(layer) -> int:
    return 1 if layer.data_format == "channels_last" else 2


@_builtin("GlobalAveragePooling1D")
def _global_average(builder, layer, x, base):
    axis, keep = _steps_axis(layer), int(layer.keepdims)
    mask = builder.masks.get(x)
    if mask is None:
        out = builder.reduce("ReduceMean", x, [axis], base, keepdims=keep)
    else:
        feature_axis = 2 if axis == 1 else 1
        unsqueezed = builder.op("Unsqueeze", [mask, builder.constant(
            f"{base}/axes", [feature_axis], dtype=np.int64)], base)
        total = builder.reduce("ReduceSum", builder.op("Mul", [x, unsqueezed], base), [axis],
                               base, keepdims=keep)
        count = builder.reduce("ReduceSum", unsqueezed, [axis], base, keepdims=keep)
        out = builder.op("Div", [total, count], base)
    builder.masks[out] = None  # the mask stops here
    return out


@_builtin("GlobalMaxPooling1D")
def _global_max(builder, layer, x, base):
    return builder.reduce("ReduceMax", x, [_steps_axis(layer)], base, keepdims=int(layer.keepdims))


@_builtin("CategoryEncoding")
def _category_encoding(builder, layer, x, base):
    shape = builder.shapes.get(x)
    if shape is None:
        raise ValueError(f"export: the input shape of {layer.name!r} is unknown")
    ids = _ids(builder, x, base)
    depth = builder.constant(f"{base}/depth", [layer.num_tokens], dtype=np.int64)
    values = builder.constant(f"{base}/values", [0.0, 1.0])
    if layer.output_mode == "one_hot":
        if len(shape) > 1 and shape[-1] == 1:
            ids = builder.op("Squeeze", [ids, builder.constant(f"{base}/last", [-1],
                                                               dtype=np.int64)], base)
        return builder.op("OneHot", [ids, depth, values], base, axis=-1)
    if len(shape) == 1:  # one token per sample
        ids = builder.op("Unsqueeze", [ids, builder.constant(f"{base}/last", [-1],
                                                             dtype=np.int64)], base)
    hot = builder.op("OneHot", [ids, depth, values], base, axis=-1)
    reduce = "ReduceMax" if layer.output_mode == "multi_hot" else "ReduceSum"
    return builder.reduce(reduce, hot, [-2], base, keepdims=0)
