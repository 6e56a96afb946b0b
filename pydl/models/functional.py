"""``Functional``: a model defined as a graph of layer calls (Keras' Functional API).

    inputs = pydl.Input(shape=(784,), name="pixels")
    x = pydl.layers.Dense(64, activation="relu")(inputs)
    outputs = pydl.layers.Dense(10, activation="softmax")(x)
    model = pydl.Model(inputs, outputs)          # Model.__new__ returns a Functional

Calling it on arrays or Tensors runs the recorded layer calls in order on real
values (a GradientTape records them; ``fit`` with one input and one output uses
that path); calling it on KerasTensors records one node, like any layer, so
models nest. Inputs are given as the structure the model was built with, a list
in ``model.inputs`` order, or a dict keyed by input name. Dicts are flattened in
sorted key order, as Keras does: ``model.inputs``/``model.outputs`` follow it.
"""

from __future__ import annotations

import warnings

import numpy as np

from .. import _tree as tree
from ..layers import node as node_module
from ..layers.keras_tensor import KerasTensor
from ..tensor import Tensor
from ..variable import Variable
from . import functional_config, topology
from .graph import Graph, GraphNode
from .model import Model


class _Key:
    """A placeholder for the value of tensor key ``k`` in a node's argument template."""

    __slots__ = ("k",)

    def __init__(self, k: int):
        self.k = k


class _Step:
    """One node of the model, ready to run: the layer, its argument template, and the
    keys it reads and writes. ``single`` is the key of the only tensor argument when the
    call has no other tensor (else None); ``plain``: the call is just ``layer(x)``."""

    __slots__ = ("layer", "node", "args", "kwargs", "training", "in_keys", "out_keys", "single",
                 "plain")

    def __init__(self, node, keys: dict, next_key: int):
        self.layer = node.layer
        self.node = node
        self.in_keys = [keys[id(x)] for x in node.input_tensors]

        def template(x):
            return _Key(keys[id(x)]) if isinstance(x, KerasTensor) else x

        self.args = tree.map_structure(template, list(node.call_args))
        kwargs = tree.map_structure(template, node.call_kwargs)
        self.training = kwargs.pop("training", None)
        self.kwargs = kwargs
        self.out_keys = list(range(next_key, next_key + len(node.outputs)))
        simple = len(node.call_args) == 1 and isinstance(node.call_args[0], KerasTensor) \
            and not any(isinstance(v, KerasTensor) for v in tree.flatten(node.call_kwargs))
        self.single = self.in_keys[0] if simple else None
        self.plain = simple and not kwargs


def _fill(template, values: list):
    return tree.map_structure(lambda v: values[v.k] if isinstance(v, _Key) else v, template)


def _unpack_singleton(x):
    return x[0] if isinstance(x, (list, tuple)) and len(x) == 1 else x


class Functional(Model):
    """A model made of the layer calls between ``inputs`` and ``outputs``.

    Args:
        inputs: a KerasTensor (from ``pydl.Input``), or a list or dict of them.
            Intermediate tensors also work (feature extraction from the middle of
            a model): each gets an InputLayer of its own, as in Keras 3.
        outputs: a KerasTensor, or a list or dict of them.
        name: the model's name (default "functional", numbered).
        trainable: whether its weights are trained.
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        if isinstance(inputs, dict):
            for key, value in inputs.items():
                if isinstance(value, KerasTensor) and key != value.name:
                    warnings.warn(
                        f"When providing `inputs` as a dict, all keys in the dict must match "
                        f"the names of the corresponding tensors. Received key {key!r} mapping "
                        f"to a tensor named {value.name!r}; name the Input {key!r} "
                        f"(pydl.Input(..., name={key!r}))", stacklevel=2)
        _check_symbolic("inputs", inputs)
        _check_symbolic("outputs", outputs)
        super().__init__(name=name, trainable=trainable, **kwargs)
        if not all(topology.is_input_tensor(x) for x in tree.flatten(inputs)):
            inputs, outputs = topology.clone_graph_nodes(inputs, outputs)
        flat_inputs, flat_outputs = tree.flatten(inputs), tree.flatten(outputs)
        nodes, layers = topology.map_graph(flat_inputs, flat_outputs)
        self._functional_layers = layers  # tracked: the model's weights, in Keras' order
        keys = {id(x): i for i, x in enumerate(flat_inputs)}
        steps, next_key = [], len(flat_inputs)
        for node in nodes:
            if node.is_input:
                continue
            step = _Step(node, keys, next_key)
            for x, k in zip(node.outputs, step.out_keys):
                keys[id(x)] = k
            next_key += len(step.out_keys)
            steps.append(step)
        state = _State(inputs, outputs, flat_inputs, flat_outputs, nodes, steps,
                       [keys[id(x)] for x in flat_outputs])
        object.__setattr__(self, "_state", state)
        self.built = True
        if not trainable:
            self.trainable = False  # the setter freezes every layer, as Keras 3
        if len(flat_inputs) == 1:
            self._build_input_shape = (None,) + tuple(flat_inputs[0].shape[1:])

    # -- structure -------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The layers, InputLayers included, in Keras 3's order (by depth in the graph)."""
        return list(self._functional_layers)

    @property
    def inputs(self) -> list:
        """The input KerasTensors, flattened (dicts in sorted key order)."""
        return list(self._state.flat_inputs)

    @property
    def outputs(self) -> list:
        """The output KerasTensors, flattened (dicts in sorted key order)."""
        return list(self._state.flat_outputs)

    @property
    def input(self):
        """The inputs in the structure given to the constructor."""
        return self._state.inputs

    @property
    def output(self):
        """The outputs in the structure given to the constructor."""
        return self._state.outputs

    @property
    def input_shape(self):
        return _unpack_singleton(node_module.shapes_of(self._state.inputs))

    @property
    def output_shape(self):
        return _unpack_singleton(node_module.shapes_of(self._state.outputs))

    @property
    def input_names(self) -> list:
        return [x.name for x in self._state.flat_inputs]

    @property
    def output_names(self) -> list:
        """The names of the layers that make the outputs, in ``outputs`` order (Keras 3)."""
        return [x._keras_history.layer.name for x in self._state.flat_outputs]

    def _graph(self) -> Graph:
        """The graph for the native planner (graph.py): inputs 0..n-1, then each node's
        outputs in execution order."""
        state = self._state
        if state.graph is None:
            nodes = [GraphNode(step.layer, list(step.in_keys), list(step.out_keys),
                               {k: v for k, v in step.node.call_kwargs.items()
                                if not isinstance(v, KerasTensor)})
                     for step in state.steps]
            state.graph = Graph(list(range(len(state.flat_inputs))), list(state.output_keys),
                                nodes)
        return state.graph

    def _summary_info(self):
        """(layers, ids of this model's nodes) for summary.py."""
        return self.layers, {id(n) for n in self._state.nodes}

    # -- calls -----------------------------------------------------------------
    def build(self, input_shape=None):
        self.built = True  # built from the graph at construction

    def _convert_inputs(self, inputs):
        return inputs  # each input is converted against its own Input (_standardize)

    def call(self, inputs, training=None):
        """Runs the layer calls in order on ``inputs`` (see the module docstring)."""
        values = self._standardize(inputs)
        return self._run(values, training)

    def _run(self, flat_inputs: list, training=None, call_fn=None, unpack=True):
        state = self._state
        values = list(flat_inputs) + state.slots  # one slot per tensor the nodes make
        for step in state.steps:
            node_training = step.training if training is None else training
            layer = step.layer
            if step.plain and call_fn is None:  # layer(x): the common node
                out = layer(values[step.single], training=node_training)
            elif call_fn is not None:
                args = _fill(step.args, values)
                kwargs = _fill(step.kwargs, values)
                if node_training is not None:
                    kwargs["training"] = node_training
                out = call_fn(layer, *args, **kwargs)
            elif step.single is not None:
                out = layer(values[step.single], training=node_training, **step.kwargs)
            else:
                out = layer(*_fill(step.args, values), training=node_training,
                            **_fill(step.kwargs, values))
            keys = step.out_keys
            if len(keys) == 1 and not tree.is_nested(out):
                values[keys[0]] = out
                continue
            flat = tree.flatten(out)
            if len(flat) != len(keys):
                raise ValueError(f"Layer {layer.name!r} returned {len(flat)} outputs in model "
                                 f"{self.name!r}, where the model's graph has {len(keys)}")
            for k, v in zip(keys, flat):
                values[k] = v
        if state.single_output and unpack:
            return values[state.output_keys[0]]
        outputs = tree.pack_sequence_as(state.outputs, [values[k] for k in state.output_keys])
        return _unpack_singleton(outputs) if unpack else outputs

    def _standardize(self, inputs) -> list:
        """The inputs as a flat list in ``model.inputs`` order, converted and checked."""
        state = self._state
        refs = state.flat_inputs
        if isinstance(inputs, dict):
            # Keys: those of a dict the model was built with, else the inputs' names.
            names = sorted(state.inputs) if isinstance(state.inputs, dict) and \
                len(state.inputs) == len(refs) else [x.name for x in refs]
            for key in inputs:
                if key not in names:
                    raise ValueError(f"Model {self.name!r} received an input dict with the key "
                                     f"{key!r}, which names no input; its inputs are {names}")
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Model {self.name!r}: missing data for input {missing[0]!r}; "
                                 f"received a dict with keys {list(inputs)}, expected {names}")
            flat = [inputs[n] for n in names]
        elif len(refs) == 1:
            one = isinstance(inputs, (list, tuple)) and len(inputs) == 1 and \
                isinstance(inputs[0], (np.ndarray, Tensor, Variable, KerasTensor))
            flat = [inputs[0] if one else inputs]
        elif isinstance(inputs, (list, tuple)) and len(inputs) == len(refs):
            flat = list(inputs)
        else:
            received = f"a {type(inputs).__name__} of {len(inputs)}" \
                if isinstance(inputs, (list, tuple)) else f"one {type(inputs).__name__}"
            raise ValueError(
                f"Model {self.name!r} expects {len(refs)} inputs {[x.name for x in refs]}, as a "
                f"list (in model.inputs order) or a dict keyed by name; received {received}")
        return [_conform(x, ref, self.name) for x, ref in zip(flat, refs)]

    def compute_output_spec(self, inputs, training=None, **kwargs):
        """The output KerasTensors of a symbolic call (this model nested in another)."""
        flat = self._standardize(inputs)
        batch = flat[0].shape[0] if flat and flat[0].shape else None
        outputs = [KerasTensor((batch,) + tuple(x.shape[1:]) if x.shape else (), x.dtype)
                   for x in self._state.flat_outputs]
        return _unpack_singleton(tree.pack_sequence_as(self._state.outputs, outputs))

    def compute_output_shape(self, input_shape):
        if node_module.is_shape(input_shape):
            input_shape = [input_shape]
        dummy = tree.pack_sequence_as(
            [0] * len(self._state.flat_inputs),
            [KerasTensor(s, x.dtype) for s, x in zip(_shape_list(input_shape),
                                                     self._state.flat_inputs)])
        return node_module.shapes_of(self.compute_output_spec(dummy))

    # -- config ----------------------------------------------------------------
    def get_config(self) -> dict:
        """Keras 3's functional config: ``layers`` (each with ``inbound_nodes``),
        ``input_layers``, ``output_layers`` (functional_config.py)."""
        return functional_config.get_config(self, Functional)

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        return functional_config.from_config(cls, config, custom_objects, Functional)


class _State:
    """The graph of a Functional model (one object: Layer does not scan it for weights)."""

    __slots__ = ("inputs", "outputs", "flat_inputs", "flat_outputs", "nodes", "steps",
                 "output_keys", "graph", "single_output", "slots")

    def __init__(self, inputs, outputs, flat_inputs, flat_outputs, nodes, steps, output_keys):
        self.inputs = list(inputs) if isinstance(inputs, tuple) else inputs
        self.outputs = list(outputs) if isinstance(outputs, tuple) else outputs
        self.flat_inputs = flat_inputs
        self.flat_outputs = flat_outputs
        self.nodes = nodes
        self.steps = steps
        self.output_keys = output_keys
        self.graph = None
        self.slots = [None] * sum(len(step.out_keys) for step in steps)
        self.single_output = isinstance(self.outputs, KerasTensor) or (
            isinstance(self.outputs, list) and len(self.outputs) == 1
            and isinstance(self.outputs[0], KerasTensor))


def _shape_list(shapes) -> list:
    if isinstance(shapes, dict):
        return [tuple(shapes[k]) for k in sorted(shapes)]
    return [tuple(s) for s in shapes]


def _check_symbolic(what: str, structure) -> None:
    flat = tree.flatten(structure)
    if not flat:
        raise ValueError(f"Model: `{what}` must not be empty, received {what}={structure!r}")
    for x in flat:
        if not isinstance(x, KerasTensor):
            raise ValueError(
                f"Model: all `{what}` values must be KerasTensors (from pydl.Input or a layer "
                f"called on one); received {what}={structure!r} including {x!r} of type "
                f"{type(x).__name__}")
        if getattr(x, "_keras_history", None) is None:
            raise ValueError(f"Model: the {what} tensor {x!r} was made by no Input or layer "
                             "call; build models from pydl.Input(shape=...)")


def _conform(x, ref: KerasTensor, model_name: str):
    """One input: converted (non-float data to the Input's dtype; float arrays and Tensors
    as they are, each layer casts to its own dtype), rank adjusted as Keras does (a
    trailing axis of size 1 added or removed), then checked against the Input's shape."""
    if x.__class__ is np.ndarray and x.dtype.kind == "f" and x.ndim == len(ref.shape):
        shape = x.shape  # the common case: no conversion, no rank change
    elif isinstance(x, KerasTensor):
        shape = x.shape
    else:
        if not isinstance(x, (np.ndarray, Tensor, Variable)):
            x = np.asarray(x, dtype=ref.dtype)
        elif isinstance(x, np.ndarray) and x.dtype.kind != "f":
            x = x.astype(ref.dtype)
        shape = tuple(x.shape)
        if len(shape) == len(ref.shape) + 1 and shape[-1] == 1:
            x = _reshape(x, shape[:-1])
        elif len(shape) == len(ref.shape) - 1 and ref.shape[-1] == 1:
            x = _reshape(x, shape + (1,))
        shape = tuple(x.shape)
    if len(shape) != len(ref.shape) or not _dims_fit(ref.shape, shape):
        raise ValueError(f"Input {ref.name!r} of model {model_name!r} is incompatible: expected "
                         f"shape {ref.shape}, received shape {tuple(shape)}")
    return x


def _dims_fit(expected, shape) -> bool:
    for e, d in zip(expected, shape):
        if e is not None and d is not None and e != d:
            return False
    return True


def _reshape(x, shape):
    if isinstance(x, np.ndarray):
        return x.reshape(shape)
    from .. import ops

    return ops.reshape(x, shape)

