"""``model.export(path, format="onnx")``: the inference graph of a model of built-in layers
as an ONNX model (needs ``pip install 'pydl[onnx]'``).

The exporter walks the model's graph (``model._graph()``: inputs, outputs and nodes, a
nested model being one node) in dependency order and asks a converter per layer class
(onnx_layers.py) for the ONNX nodes of that layer. Weights become initializers.

    default opset    17 (``opset_version=`` takes 17 .. the installed onnx's newest)
    inputs           one per model input, named after its InputLayer, batch dimension
                     dynamic ("batch"), the model's dtype (float32 or float64)
    outputs          one per model output, named after the layer that makes it
    inference only   Dropout and noise layers are the identity, normalization uses its
                     moving statistics

A layer without a converter (custom layers, Lambda) raises ValueError naming it. The
result passes ``onnx.checker.check_model`` before it is written (atomically).
"""

from __future__ import annotations

import os

import numpy as np

DEFAULT_OPSET = 17
MIN_OPSET = 17
_EXTRA = "pip install 'pydl[onnx]'"


def require_onnx():
    try:
        import onnx
    except ImportError as exc:
        raise ImportError(f"Exporting to ONNX needs the onnx package ({exc}). Install the "
                          f"extra: {_EXTRA}") from None
    return onnx


class Builder:
    """Collects the nodes and initializers of one ONNX graph, with unique names."""

    def __init__(self, onnx, opset: int, dtype: np.dtype):
        self.onnx, self.helper = onnx, onnx.helper
        self.opset = opset
        self.dtype = dtype
        self.nodes, self.initializers = [], []
        self.shapes: dict = {}  # tensor name -> shape (batch first, None where unknown)
        self.masks: dict = {}   # tensor name -> its Keras mask (float (batch, steps)) or None
        self._names: set = set()

    def name(self, base: str) -> str:
        base = base.replace(":", "_")
        name, n = base, 1
        while name in self._names:
            name, n = f"{base}_{n}", n + 1
        self._names.add(name)
        return name

    def constant(self, base: str, value, dtype=None) -> str:
        """An initializer holding ``value`` (in the model's dtype unless ``dtype`` is given)."""
        from onnx import numpy_helper

        array = np.asarray(value, dtype=dtype if dtype is not None else self.dtype)
        name = self.name(base)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type: str, inputs: list, base: str, outputs: int = 1, **attributes):
        """Adds one node; returns its output name (or names, when ``outputs`` > 1)."""
        names = [self.name(f"{base}/{op_type}" + (f"_{i}" if outputs > 1 else ""))
                 for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names,
                                                name=self.name(f"{base}/{op_type}_node"),
                                                **attributes))
        return names if outputs > 1 else names[0]

    def reduce(self, op_type: str, x: str, axes: list, base: str, keepdims: int = 1) -> str:
        """A Reduce* node; its axes are an attribute before opset 18, an input from 18 on
        (ReduceSum: from 13)."""
        moved = 13 if op_type == "ReduceSum" else 18
        if self.opset >= moved:
            axes_name = self.constant(f"{base}/axes", axes, dtype=np.int64)
            return self.op(op_type, [x, axes_name], base, keepdims=keepdims)
        return self.op(op_type, [x], base, axes=list(axes), keepdims=keepdims)


def _graph(model):
    graph = getattr(model, "_graph", None)
    if not callable(graph):
        raise ValueError(
            f"export: the model {model.name!r} ({type(model).__name__}) has no graph of layers "
            f"to export: a subclassed model's call() is Python code. Export a Sequential or "
            f"functional model.")
    return graph()


def _flat(value) -> list:
    if isinstance(value, (list, tuple)):
        out = []
        for item in value:
            out.extend(_flat(item))
        return out
    if isinstance(value, dict):
        return _flat(list(value.values()))
    return [value]


def _ordered(nodes, available: set) -> list:
    """The nodes in an order where each node's inputs are made before it."""
    pending, out = list(nodes), []
    while pending:
        ready = [n for n in pending if all(k in available for k in _flat(n.inputs))]
        if not ready:
            raise ValueError("export: the model's graph has nodes whose inputs nothing makes")
        for node in ready:
            out.append(node)
            available.update(_flat(node.outputs))
        pending = [n for n in pending if all(n is not r for r in ready)]
    return out


def _output_shapes(layer, in_shapes):
    try:
        shape = layer.compute_output_shape(in_shapes)
    except (NotImplementedError, ValueError, TypeError, AttributeError):
        return None
    return shape


def emit_model(builder: Builder, model, input_names: list, prefix: str = "") -> list:
    """Adds the ONNX nodes computing ``model`` from ``input_names``; returns output names."""
    from . import onnx_layers, onnx_normalization, onnx_sequences  # noqa: F401 (converters)

    graph = _graph(model)
    inputs = _flat(graph.inputs)
    if len(inputs) != len(input_names):
        raise ValueError(f"export: the model {model.name!r} takes {len(inputs)} inputs, "
                         f"received {len(input_names)}")
    names = dict(zip(inputs, input_names))
    for node in _ordered(graph.nodes, set(inputs)):
        layer = node.layer
        args = [names[k] for k in _flat(node.inputs)]
        base = prefix + layer.name
        if _is_model(layer):
            results = emit_model(builder, layer, args, prefix=base + "/")
        else:
            results = onnx_layers.convert(builder, layer, args, base, node.kwargs or {})
        outputs = _flat(node.outputs)
        results = results if isinstance(results, list) else [results]
        if len(results) != len(outputs):
            raise ValueError(f"export: the layer {layer.name!r} made {len(results)} outputs, "
                             f"the graph expects {len(outputs)}")
        shapes = [builder.shapes.get(name) for name in args]
        out_shapes = None
        if all(shape is not None for shape in shapes):
            out_shapes = _output_shapes(layer, shapes if onnx_layers.takes_list(layer)
                                        else shapes[0])
        if len(outputs) == 1:
            out_shapes = [out_shapes]
        for name, shape in zip(results, out_shapes or [None] * len(results)):
            if shape is not None:
                builder.shapes[name] = tuple(shape)
        _propagate_mask(builder, layer, args, results)
        names.update(zip(outputs, results))
    return [names[k] for k in _flat(graph.outputs)]


def _propagate_mask(builder, layer, args: list, results: list) -> None:
    """Keras 3 masking: a layer that supports masking passes its input's mask on (unless
    its converter set the output's mask itself); others drop it."""
    masks = [builder.masks.get(a) for a in args]
    if all(m is None for m in masks):
        return
    if len(args) > 1:
        raise ValueError(f"export: the layer {layer.name!r} ({type(layer).__name__}) receives "
                         f"masked inputs; masks through layers of several inputs are not "
                         f"exported")
    for out in results:
        if out not in builder.masks and getattr(layer, "supports_masking", False):
            builder.masks[out] = masks[0]


def _is_model(layer) -> bool:
    from ..models.model import Model

    return isinstance(layer, Model)


def _input_specs(model, input_signature) -> list:
    """(name, shape without batch, dtype) of each model input."""
    graph_inputs = _flat(_graph(model).inputs)
    declared = getattr(model, "inputs", None)
    if callable(declared) or not declared:
        layer = getattr(model, "_input_layer", None)
        shape = model._build_input_shape
        name = layer.name if layer is not None else "input"
        declared = [_Spec(name, shape, model._weights_dtype())]
    declared = list(declared)
    if input_signature is not None:
        signature = _flat(input_signature)
        if len(signature) != len(declared):
            raise ValueError(f"input_signature: expected {len(declared)} inputs, received "
                             f"{len(signature)}")
        for spec, given in zip(declared, signature):
            shape = tuple(getattr(given, "shape", given))
            if tuple(shape[1:]) != tuple(spec.shape[1:]):
                raise ValueError(f"input_signature: expected an input of shape "
                                 f"{tuple(spec.shape)}, received {shape}")
    if len(declared) != len(graph_inputs):
        raise ValueError("export: the model's inputs and its graph disagree")
    out = []
    for spec in declared:
        shape = tuple(spec.shape)
        if any(d is None for d in shape[1:]):
            raise ValueError(f"export: the input {spec.name!r} has unknown dimensions "
                             f"{shape}; only the batch dimension may be unknown")
        out.append((spec.name, shape[1:], np.dtype(getattr(spec.dtype, "name", spec.dtype))))
    return out


class _Spec:
    def __init__(self, name, shape, dtype):
        self.name, self.shape, self.dtype = name, shape, dtype


def to_onnx(model, input_signature=None, opset_version=None):
    """The ``onnx.ModelProto`` of ``model`` (checked with ``onnx.checker``)."""
    onnx = require_onnx()
    newest = onnx.defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset_version is None else opset_version
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"opset_version: expected an int in [{MIN_OPSET}, {newest}], received "
                         f"opset_version={opset_version!r}")
    model._require_built("export")
    specs = _input_specs(model, input_signature)
    dtype = np.dtype(model._weights_dtype())
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"export: the model's dtype {dtype} is not float32 or float64")
    builder = Builder(onnx, opset, dtype)
    element = onnx.helper.np_dtype_to_tensor_dtype(dtype)
    graph_inputs, input_names = [], []
    for name, shape, _ in specs:
        name = builder.name(name)
        input_names.append(name)
        builder.shapes[name] = (None, *shape)
        graph_inputs.append(onnx.helper.make_tensor_value_info(name, element, ["batch", *shape]))
    output_names = emit_model(builder, model, input_names)
    graph_outputs = []
    for i, name in enumerate(output_names):
        final = builder.name(f"output_{i}" if len(output_names) > 1 else "output")
        builder.nodes.append(onnx.helper.make_node("Identity", [name], [final],
                                                   name=builder.name(f"{final}/Identity")))
        shape = builder.shapes.get(name)
        if shape is None:
            raise ValueError(f"export: the shape of the output {name!r} is unknown")
        graph_outputs.append(onnx.helper.make_tensor_value_info(final, element,
                                                                ["batch", *shape[1:]]))
    graph = onnx.helper.make_graph(builder.nodes, model.name, graph_inputs, graph_outputs,
                                   initializer=builder.initializers)
    from .. import __version__

    proto = onnx.helper.make_model(graph, producer_name="pydl", producer_version=__version__,
                                   opset_imports=[onnx.helper.make_opsetid("", opset)])
    proto.ir_version = min(proto.ir_version, _ir_version_for(onnx, opset))
    onnx.checker.check_model(proto, full_check=True)
    return proto


def _ir_version_for(onnx, opset: int) -> int:
    for _, ir_version, ai_onnx, *_ in onnx.helper.VERSION_TABLE:
        if ai_onnx == opset:
            return ir_version
    return onnx.IR_VERSION


def export_onnx(model, filepath, verbose=None, input_signature=None, opset_version=None):
    """Writes ``model`` as an ONNX file at ``filepath`` (atomically)."""
    from ..saving.keras_file import _atomic_write

    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"filepath: expected a str or os.PathLike, received "
                        f"{type(filepath).__name__}")
    proto = to_onnx(model, input_signature=input_signature, opset_version=opset_version)
    path = os.fspath(filepath)
    _atomic_write(path, proto.SerializeToString())
    if verbose is None or verbose:
        print(f"Saved artifact at '{path}'.")
