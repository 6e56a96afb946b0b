"""A Functional model's config, in Keras 3's layout, and the model rebuilt from it.

    {"name": "mlp", "trainable": true,
     "layers": [{"class_name": "InputLayer", "config": {...}, "name": "pixels",
                 "inbound_nodes": []},
                {"class_name": "Dense", "config": {...}, "name": "dense",
                 "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
                                              "config": {"shape": [null, 784],
                                                         "dtype": "float32",
                                                         "keras_history": ["pixels", 0, 0]}}],
                                    "kwargs": {}}]}],
     "input_layers": ["pixels", 0, 0], "output_layers": ["dense", 0, 0]}

A node is referred to by its index among the layer's nodes that belong to this
model (a shared layer may have nodes in other models). ``input_layers`` and
``output_layers`` keep the structure the model was built with. As Keras 3 does,
the node index of a nested Functional model in ``input_layers``/``output_layers``
counts from 1 (Keras' models start with a node of their own there); inbound
nodes count from 0. Rebuilding calls each layer on the tensors its nodes name,
in the order of the config, retrying nodes whose inputs do not exist yet.
"""

from __future__ import annotations

from .. import _tree as tree
from ..layers.keras_tensor import KerasTensor
from ..layers.layer import Layer
from . import serialization

_TENSOR = "__keras_tensor__"


def _own_indices(model) -> dict:
    """(id(layer), node index) -> index among the layer's nodes in ``model``."""
    own = {id(n) for n in model._state.nodes}
    mapping = {}
    for layer in model.layers:
        kept = 0
        for i, node in enumerate(layer._inbound_nodes):
            if id(node) in own:
                mapping[(id(layer), i)] = kept
                kept += 1
    return mapping, own


def get_config(model, functional_class) -> dict:
    """``model``'s config; ``functional_class``: the Functional class (nested models)."""
    mapping, own = _own_indices(model)

    def history(x, offset=0) -> list:
        layer, node_index, tensor_index = x._keras_history
        return [layer.name, mapping[(id(layer), node_index)] + offset, tensor_index]

    def encode(value):
        if isinstance(value, KerasTensor):
            return {"class_name": _TENSOR,
                    "config": {"shape": list(value.shape), "dtype": value.dtype,
                               "keras_history": history(value)}}
        if isinstance(value, dict):
            return {str(k): encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v) for v in value]
        return value

    layers = []
    for layer in model.layers:
        entry = serialization.serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            {"args": encode(list(node.call_args)), "kwargs": encode(node.call_kwargs)}
            for node in layer._inbound_nodes if id(node) in own and not node.is_input]
        layers.append(entry)

    def endpoint(x):
        return history(x, 1 if isinstance(x._keras_history.layer, functional_class) else 0)

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": tree.map_structure(endpoint, model._state.inputs),
            "output_layers": tree.map_structure(endpoint, model._state.outputs)}


class _NotYet(Exception):
    """A node names a tensor of a node not rebuilt yet."""


def from_config(cls, config, custom_objects, functional_class):
    """An instance of ``cls`` (Functional or a subclass) rebuilt from ``get_config``;
    ``functional_class``: the Functional class (nested models)."""
    if not isinstance(config, dict):
        raise ValueError(f"Functional config: expected a dict, received {type(config).__name__}")
    for key in ("layers", "input_layers", "output_layers"):
        if key not in config:
            raise ValueError(f"Functional config: the key {key!r} is missing")
    if not isinstance(config["layers"], list):
        raise ValueError("Functional config: 'layers' must be a list")
    created, pending, order = {}, {}, []
    for entry in config["layers"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValueError(f"Functional config: each layer needs a 'name', received "
                             f"{entry!r}"[:300])
        layer = serialization.deserialize_layer(entry, custom_objects)
        if not isinstance(layer, Layer):
            raise ValueError(f"Functional config: {entry['name']!r} is not a layer")
        name = entry["name"]
        if name in created:
            raise ValueError(f"Functional config: two layers are named {name!r}")
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise ValueError(f"Functional config: 'inbound_nodes' of {name!r} must be a list")
        created[name] = layer
        pending[name] = list(nodes)
        order.append(name)

    while any(pending.values()):
        progress = False
        for name in order:
            queue = pending[name]
            while queue:
                try:
                    args, kwargs = _decode_node(queue[0], created)
                except _NotYet:
                    break
                created[name](*args, **kwargs)
                queue.pop(0)
                progress = True
        if not progress:
            left = {name: len(queue) for name, queue in pending.items() if queue}
            raise ValueError("Functional config: the graph has loops or nodes whose inputs "
                             f"never appear; unresolved nodes per layer: {left}")

    def endpoint(ref):
        layer, node_index, tensor_index = _check_ref(ref, created)
        if isinstance(layer, functional_class):
            node_index -= 1  # see the module docstring
        return _tensor_at(layer, node_index, tensor_index, strict=True)

    inputs = _map_refs(endpoint, config["input_layers"])
    outputs = _map_refs(endpoint, config["output_layers"])
    return cls(inputs, outputs, name=config.get("name"), trainable=config.get("trainable", True))


def _is_ref(value) -> bool:
    return isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str)


def _map_refs(fn, refs):
    if _is_ref(refs):
        return fn(refs)
    if isinstance(refs, dict):
        return {k: _map_refs(fn, v) for k, v in refs.items()}
    if isinstance(refs, (list, tuple)):
        return [_map_refs(fn, v) for v in refs]
    raise ValueError(f"Functional config: expected [layer name, node index, tensor index] "
                     f"entries, received {refs!r}"[:300])


def _check_ref(ref, created) -> tuple:
    name, node_index, tensor_index = ref
    if name not in created:
        raise ValueError(f"Functional config: a tensor refers to the unknown layer {name!r}")
    if not isinstance(node_index, int) or not isinstance(tensor_index, int) or \
            isinstance(node_index, bool) or isinstance(tensor_index, bool):
        raise ValueError(f"Functional config: invalid tensor reference {ref!r}")
    return created[name], node_index, tensor_index


def _tensor_at(layer, node_index, tensor_index, strict=False):
    nodes = layer._inbound_nodes
    if not 0 <= node_index < len(nodes):
        if strict:
            raise ValueError(f"Functional config: layer {layer.name!r} has no node {node_index}")
        raise _NotYet()
    outputs = nodes[node_index].outputs
    if not 0 <= tensor_index < len(outputs):
        raise ValueError(f"Functional config: node {node_index} of layer {layer.name!r} has no "
                         f"output {tensor_index}")
    return outputs[tensor_index]


def _decode_node(data, created) -> tuple:
    if not isinstance(data, dict) or not isinstance(data.get("args", []), (list, tuple)) or \
            not isinstance(data.get("kwargs", {}), dict):
        raise ValueError(f"Functional config: a node must be {{'args': [...], 'kwargs': {{...}}}},"
                         f" received {data!r}"[:300])

    def decode(value):
        if isinstance(value, dict):
            kind = value.get("class_name")
            if kind == _TENSOR:
                ref = (value.get("config") or {}).get("keras_history")
                if not _is_ref(ref):
                    raise ValueError(f"Functional config: invalid tensor entry {value!r}"[:300])
                return _tensor_at(*_check_ref(ref, created))
            if kind == "__tuple__":  # how Keras writes a tuple
                return tuple(decode(v) for v in (value.get("config") or {}).get("value", []))
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(decode(v) for v in value)
        return value

    args = list(decode(data.get("args", [])))
    if not args:
        raise ValueError(f"Functional config: a node without inputs: {data!r}"[:300])
    kwargs = decode(data.get("kwargs", {}))
    if kwargs.get("mask", 0) is None:  # Keras writes mask=None for nested models; no masks here
        del kwargs["mask"]
    return args, kwargs
