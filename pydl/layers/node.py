"""Symbolic calls: a layer called on KerasTensors records a ``Node``.

    x = pydl.Input(shape=(4,))
    y = pydl.layers.Dense(3)(x)      # Dense built for (None, 4); y: KerasTensor (None, 3)
    y._keras_history                 # (dense, 0, 0): dense._inbound_nodes[0], output 0

``symbolic_call`` (what ``Layer.__call__`` does when its arguments hold
KerasTensors) builds the layer from the input shapes if needed, works out the
output shapes and dtypes, records a ``Node`` on ``layer._inbound_nodes`` and
returns fresh KerasTensors in the structure of the layer's output.

Output shapes come from, in order: the layer's ``compute_output_spec`` (models
define it and check their inputs themselves), its ``compute_output_shape``, or
a probe -- the layer called on zeros (twice, with different sizes in the unknown
dimensions, so that the dimensions that follow them come out as None). A layer
that was already built for other input shapes is probed too, so that a call it
cannot take (a Dense built for 64 features called on 32) fails here, as a
ValueError naming the layer and both shapes, not later on data.
"""

from __future__ import annotations

import numpy as np

from .. import _tree as tree
from .keras_tensor import KerasHistory, KerasTensor

_BUILD_SHAPES = "_pydl_build_shapes"  # the input shapes a symbolic call built the layer for
_PROBE_SIZES = (2, 3)  # sizes given to unknown dimensions in the two probes


class Node:
    """One call of ``layer`` on symbolic tensors.

    Args:
        layer: the layer called.
        call_args: the positional arguments (the first is the inputs), with
            KerasTensors where tensors were passed.
        call_kwargs: the keyword arguments (``training`` only if given explicitly).
        outputs: the KerasTensors the call returned (any structure).

    ``input_tensors`` are the KerasTensors among the arguments (flattened: args,
    then kwargs by sorted key); ``outputs`` the flattened outputs, each given
    ``_keras_history = (layer, index of this node, position)``.
    """

    __slots__ = ("layer", "call_args", "call_kwargs", "outputs", "input_tensors")

    def __init__(self, layer, call_args=(), call_kwargs=None, outputs=()):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.input_tensors = [x for x in tree.flatten([list(self.call_args), self.call_kwargs])
                              if isinstance(x, KerasTensor)]
        for x in self.input_tensors:
            if getattr(x, "_keras_history", None) is None:
                raise ValueError(
                    f"Layer {layer.name!r} was called on {x!r}, which no Input or layer call "
                    "produced; start a model from pydl.Input(shape=...)")
        self.outputs = tree.flatten(outputs)
        for x in self.outputs:
            if not isinstance(x, KerasTensor):
                raise TypeError(f"Node: the outputs of layer {layer.name!r} must be "
                                f"KerasTensors, received {type(x).__name__}")
        nodes = layer._inbound_nodes
        index = len(nodes)
        nodes.append(self)
        for i, x in enumerate(self.outputs):
            x._keras_history = KerasHistory(layer, index, i)

    @property
    def is_input(self) -> bool:
        """True for the node of an InputLayer (a call on nothing)."""
        return not self.input_tensors

    @property
    def parent_nodes(self) -> list:
        """The nodes that produced this node's input tensors."""
        return [x._keras_history.layer._inbound_nodes[x._keras_history.node_index]
                for x in self.input_tensors]

    def __repr__(self) -> str:
        return f"<Node layer={self.layer.name}, inputs={len(self.input_tensors)}, " \
               f"outputs={len(self.outputs)}>"


def is_symbolic(inputs, args, kwargs) -> bool:
    """Whether a layer call's arguments hold a KerasTensor (then it builds a graph)."""
    if isinstance(inputs, KerasTensor):
        return True
    if not (args or kwargs or tree.is_nested(inputs)):
        return False
    return any(isinstance(x, KerasTensor) for x in tree.flatten([inputs, list(args), kwargs]))


def symbolic_call(layer, inputs, args=(), training=None, kwargs=None):
    """``layer(inputs, *args, training=training, **kwargs)`` on KerasTensors: builds
    the layer if needed, records a Node, returns the output KerasTensors."""
    kwargs = dict(kwargs or {})
    for leaf in tree.flatten(inputs):
        if not isinstance(leaf, KerasTensor):
            raise ValueError(
                f"Layer {layer.name!r} ({type(layer).__name__}) was called on symbolic tensors "
                f"mixed with a {type(leaf).__name__}; when building a model, a layer's inputs "
                "must all be KerasTensors (from pydl.Input or another layer call)")
    if training is not None:
        kwargs["training"] = training
    call_args = (inputs,) + tuple(args)
    outputs = output_spec(layer, call_args, kwargs)
    Node(layer, call_args, kwargs, outputs)
    return outputs


def shapes_of(inputs):
    """The shapes of a structure of KerasTensors, in the same structure."""
    return tree.map_structure(lambda x: x.shape, inputs)


def format_shapes(shapes) -> str:
    if isinstance(shapes, tuple) and all(d is None or isinstance(d, int) for d in shapes):
        return str(shapes)
    return str(shapes).replace("'", "")


def output_spec(layer, call_args, kwargs):
    """Fresh KerasTensors (no history yet) for the outputs of ``layer(*call_args, **kwargs)``."""
    shapes = shapes_of(call_args[0])
    if not layer.built:
        layer.build(shapes)
        layer.built = True
        layer.__dict__[_BUILD_SHAPES] = shapes
    spec = getattr(layer, "compute_output_spec", None)
    if spec is not None:
        return spec(*call_args, **kwargs)
    built_for = layer.__dict__.get(_BUILD_SHAPES)
    if built_for is None or not compatible(built_for, shapes):
        return _probe(layer, call_args, kwargs, built_for)  # also checks that the call works
    try:
        out_shapes = layer.compute_output_shape(shapes)
    except NotImplementedError:
        out_shapes = None
    if out_shapes is None:
        return _probe(layer, call_args, kwargs, built_for)
    # The arrays a layer hands on are in its variable dtype (float32 under
    # mixed_bfloat16: only the operands of its matrix products are rounded).
    dtype = getattr(layer, "dtype", None) or "float32"
    return _map_shapes(lambda s: KerasTensor(s, dtype), out_shapes)


def compatible(expected, received) -> bool:
    """Same structure and ranks; equal dimensions where both are known (batch ignored)."""
    flat_e, flat_r = _flat_shapes(expected), _flat_shapes(received)
    if flat_e is None or flat_r is None or len(flat_e) != len(flat_r):
        return False
    for e, r in zip(flat_e, flat_r):
        if len(e) != len(r):
            return False
        if any(a is not None and b is not None and a != b for a, b in zip(e[1:], r[1:])):
            return False
    return True


def is_shape(value) -> bool:
    """A shape is a tuple or list of ints and Nones (a list of those is several shapes)."""
    return isinstance(value, (tuple, list)) and all(
        d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool))
        for d in value)


def _flat_shapes(shapes):
    if is_shape(shapes):
        return [tuple(shapes)]
    if isinstance(shapes, dict):
        shapes = [shapes[k] for k in sorted(shapes)]
    if not isinstance(shapes, (list, tuple)):
        return None
    out = []
    for s in shapes:
        inner = _flat_shapes(s)
        if inner is None:
            return None
        out.extend(inner)
    return out


def _map_shapes(fn, shapes):
    if is_shape(shapes):
        return fn(tuple(None if d is None else int(d) for d in shapes))
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    if isinstance(shapes, (list, tuple)):
        return [_map_shapes(fn, s) for s in shapes]
    raise TypeError(f"compute_output_shape returned {shapes!r}; expected a shape (a tuple of "
                    "ints or None) or a list/dict of shapes")


def _probe(layer, call_args, kwargs, built_for):
    """Calls ``layer`` on zeros shaped like its symbolic inputs and reads the output shapes.

    Unknown dimensions take the sizes of ``_PROBE_SIZES`` in turn; an output
    dimension that changes between the two calls is unknown (None)."""
    inputs = call_args[0]
    unknown = any(d is None for x in tree.flatten([list(call_args), kwargs])
                  if isinstance(x, KerasTensor) for d in x.shape)
    results = []
    for size in (_PROBE_SIZES if unknown else _PROBE_SIZES[:1]):
        def zeros(x, size=size):
            if not isinstance(x, KerasTensor):
                return x
            return np.zeros(tuple(size if d is None else d for d in x.shape), dtype=x.dtype)

        args = tree.map_structure(zeros, list(call_args))
        kw = tree.map_structure(zeros, kwargs)
        kw["training"] = False  # inference: no dropout draws, no statistics updates
        try:
            with np.errstate(all="ignore"):
                out = layer(*args, **kw)
        except Exception as exc:  # any failure of the call: the shapes do not fit the layer
            raise ValueError(_probe_failure(layer, inputs, built_for, exc)) from exc
        results.append(tree.map_structure(_leaf_spec, out))
    flat = [tree.flatten(r) for r in results]
    merged = []
    for i, (shape, dtype) in enumerate(flat[0]):
        if len(flat) > 1:
            other = flat[1][i].shape
            shape = tuple(a if a == b else None for a, b in zip(shape, other))
        merged.append(KerasTensor(shape, dtype))
    return tree.pack_sequence_as(results[0], merged)


def _leaf_spec(value):
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    return _LeafSpec(array.shape, array.dtype.name)


class _LeafSpec:
    """(shape, dtype) of one probe output: a leaf for _tree (not a tuple)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape, dtype):
        self.shape = tuple(shape)
        self.dtype = dtype

    def __iter__(self):
        return iter((self.shape, self.dtype))


def _probe_failure(layer, inputs, built_for, exc) -> str:
    received = format_shapes(shapes_of(inputs))
    what = f"Layer {layer.name!r} ({type(layer).__name__})"
    if built_for is not None and not compatible(built_for, shapes_of(inputs)):
        return (f"{what} is incompatible with its input: it was built for input shape "
                f"{format_shapes(built_for)}, received input shape {received} "
                f"({type(exc).__name__}: {exc})")
    return (f"{what} cannot be called on input shape {received}: "
            f"{type(exc).__name__}: {exc}")
