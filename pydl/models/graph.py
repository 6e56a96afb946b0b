"""``model._graph()``: a model's layer graph, as the native planner reads it.

    Graph(inputs=[0], outputs=[2],
          nodes=[GraphNode(dense, [0], [1], {}), GraphNode(dense_1, [1], [2], {})])

Tensors are int keys. ``inputs``: one key per model input, in ``model.inputs``
order; ``outputs``: one key per model output, in the flattened ``model.outputs``
order (dicts by sorted key, as Keras flattens them); ``nodes``: the layer calls
in an order that computes every key before it is read (InputLayers left out).
A node's ``inputs`` are the keys the layer receives, in the order it receives
them (a merge layer: its list order), its ``outputs`` the keys of its flattened
outputs, ``kwargs`` the call's non-tensor keyword arguments (``training`` only
when the model was built with an explicit value).

A model nested in another is ONE node whose ``layer`` is the inner model; its
own ``_graph()`` describes it, with keys of its own (its ``inputs`` line up with
the node's ``inputs``, its ``outputs`` with the node's ``outputs``).

``Sequential._graph()``: key 0 is the input, layer i reads key i and writes
key i + 1 (available once the model is built). ``Functional._graph()`` numbers
the model inputs 0..n-1, then each node's outputs in execution order.
"""

from __future__ import annotations

import collections

Graph = collections.namedtuple("Graph", ["inputs", "outputs", "nodes"])
GraphNode = collections.namedtuple("GraphNode", ["layer", "inputs", "outputs", "kwargs"])
