"""The graph of a Functional model: which layer calls (nodes) it holds, in what order.

Walking the ``_keras_history`` of the output tensors back to the inputs gives the
nodes (``map_graph``). They run in decreasing depth (depth: the longest path
from the node to an output), so every tensor is computed before it is read;
``layers`` follow the same depths, ties broken by the order the walk first met
them -- Keras 3's order, InputLayers included.
"""

from __future__ import annotations

from .. import _tree as tree
from ..layers.input_layer import InputLayer
from ..layers.keras_tensor import KerasTensor
from ..layers.node import Node


def producer(x: KerasTensor) -> Node:
    """The node that made the symbolic tensor ``x``."""
    layer, node_index, _ = x._keras_history
    return layer._inbound_nodes[node_index]


def is_input_tensor(x: KerasTensor) -> bool:
    """Whether ``x`` is the output of an InputLayer (``pydl.Input``)."""
    return producer(x).is_input


def _build_map(inputs: list, outputs: list):
    """Nodes from the inputs to the outputs (a depth-first post-order), and the
    order in which the walk first met each layer."""
    input_ids = {id(x) for x in inputs}
    finished, in_progress = set(), set()
    ordered, layer_order = [], {}

    def visit(tensor):
        node = producer(tensor)
        if id(node) in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(id(node))  # an intermediate tensor used as a model input
            return
        if id(node) in in_progress:
            raise ValueError(f"The tensor {tensor.name!r} from layer {node.layer.name!r} is "
                             "part of a cycle")
        layer_order.setdefault(id(node.layer), len(layer_order))
        in_progress.add(id(node))
        if not node.is_input:
            for x in node.input_tensors:
                visit(x)
        in_progress.discard(id(node))
        finished.add(id(node))
        ordered.append(node)

    for x in outputs:
        visit(x)
    return ordered, layer_order


def map_graph(inputs: list, outputs: list):
    """``(nodes, layers)``: the model's nodes in execution order and its layers in
    Keras 3's order. Raises ValueError when an output cannot be computed from the
    inputs, or when two layers share a name."""
    ordered, layer_order = _build_map(inputs, outputs)
    position = {id(node): i for i, node in enumerate(ordered)}
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in position:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for x in inputs:  # inputs that no output uses are still the model's
        node = producer(x)
        if node.is_input and id(node.layer) not in layer_depth:
            layer_depth[id(node.layer)] = 0
            layer_order[id(node.layer)] = -1
            layers[id(node.layer)] = node.layer
            node_depth[id(node)] = 0
            position[id(node)] = len(ordered)
            ordered.append(node)
    nodes = sorted(ordered, key=lambda n: (-node_depth[id(n)], position[id(n)]))
    layer_list = sorted(layers.values(),
                        key=lambda layer: (-layer_depth[id(layer)], layer_order[id(layer)]))
    _check_connected(inputs, outputs, nodes)
    _check_unique_names(layer_list)
    return nodes, layer_list


def _check_connected(inputs: list, outputs: list, nodes: list) -> None:
    computable = {id(x) for x in inputs}
    reached = []
    input_names = [x.name for x in inputs]
    for node in nodes:
        if node.is_input:
            continue
        for i, x in enumerate(node.input_tensors):
            if id(x) not in computable:
                raise ValueError(
                    f"Graph disconnected: cannot reach the tensor {x.name!r} (shape {x.shape}, "
                    f"made by layer {x._keras_history.layer.name!r}), input {i} of layer "
                    f"{node.layer.name!r}, from the model's inputs {input_names}. Layers "
                    f"reached without issue: {reached}")
        reached.append(node.layer.name)
        computable.update(id(x) for x in node.outputs)
    for x in outputs:
        if id(x) not in computable:
            raise ValueError(
                f"Graph disconnected: the output {x.name!r} (shape {x.shape}, made by layer "
                f"{x._keras_history.layer.name!r}) cannot be computed from the model's inputs "
                f"{input_names}")


def _check_unique_names(layers: list) -> None:
    seen = {}
    for layer in layers:
        seen[layer.name] = seen.get(layer.name, 0) + 1
    for name, count in seen.items():
        if count > 1:
            raise ValueError(f'The name "{name}" is used {count} times in the model. All layer '
                             "names should be unique.")


def clone_graph_nodes(inputs, outputs):
    """New nodes between ``inputs`` and ``outputs`` when an input is an intermediate
    tensor (feature extraction from the middle of a model, as Keras 3): each such
    input gets an InputLayer of its own, and the layer calls after it are
    recorded again on fresh tensors (same layers, hence same weights), so the
    original tensors keep their history. Returns the new ``(inputs, outputs)``."""
    flat_inputs, flat_outputs = tree.flatten(inputs), tree.flatten(outputs)
    nodes, _ = _build_map(flat_inputs, flat_outputs)
    mapping = {}
    new_inputs = []
    for x in flat_inputs:
        if is_input_tensor(x):
            mapping[id(x)] = x
        else:
            mapping[id(x)] = InputLayer(batch_shape=x.shape, dtype=x.dtype,
                                        name=f"{x.name}CLONE").output
        new_inputs.append(mapping[id(x)])

    def swap(x):
        return mapping.get(id(x), x) if isinstance(x, KerasTensor) else x

    for node in nodes:
        if node.is_input:
            continue
        fresh = [KerasTensor(x.shape, x.dtype, name=f"{x.name}_clone") for x in node.outputs]
        args = tree.map_structure(swap, list(node.call_args))
        kwargs = tree.map_structure(swap, node.call_kwargs)
        mapping.update((id(x), y) for x, y in zip(node.outputs, fresh))
        Node(node.layer, args, kwargs, fresh)
    new_outputs = [mapping.get(id(x), x) for x in flat_outputs]
    return (tree.pack_sequence_as(inputs, new_inputs),
            tree.pack_sequence_as(outputs, new_outputs))
