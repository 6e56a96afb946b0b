"""A Sequential model as the graph ``model._graph()`` describes (inputs, outputs, nodes).

Stands in until models provide ``_graph()`` themselves (pydl/models/graph.py).
"""

from __future__ import annotations

from collections import namedtuple

Graph = namedtuple("Graph", "inputs outputs nodes")
GraphNode = namedtuple("GraphNode", "layer inputs outputs kwargs")


def graph(model) -> Graph:
    if type(model).__name__ != "Sequential":
        raise ValueError(
            f"export: the model {model.name!r} ({type(model).__name__}) has no graph of layers "
            f"to export: a subclassed model's call() is Python code. Export a Sequential or "
            f"functional model.")
    nodes = [GraphNode(layer, i, i + 1, {}) for i, layer in enumerate(model.layers)]
    return Graph([0], [len(nodes)], nodes)
