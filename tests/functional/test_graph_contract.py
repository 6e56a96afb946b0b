"""``model._graph()``: the Graph the native planner reads (pydl/models/graph.py)."""

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.models.graph import Graph, GraphNode


def run_graph(graph, values, training=False):
    """Evaluates a Graph the way a planner would: keys in, keys out, nested graphs recursed."""
    env = dict(zip(graph.inputs, values))
    for node in graph.nodes:
        args = [env[k] for k in node.inputs]
        inner = getattr(node.layer, "_graph", None)
        if inner is not None:
            outs = run_graph(inner(), args, training)
        else:
            out = node.layer(args if len(args) > 1 else args[0], training=training, **node.kwargs)
            outs = [out] if len(node.outputs) == 1 else list(out)
        for k, v in zip(node.outputs, outs):
            assert k not in env  # every key is written once
            env[k] = v
    return [env[k] for k in graph.outputs]


def test_sequential_graph_is_a_chain():
    model = pydl.Sequential([pydl.Input(shape=(5,)), layers.Dense(4), layers.Dropout(0.1),
                             layers.Dense(2)])
    graph = model._graph()
    assert isinstance(graph, Graph) and graph.inputs == [0] and graph.outputs == [3]
    assert graph.nodes == [GraphNode(layer, [i], [i + 1], {})
                           for i, layer in enumerate(model.layers)]
    assert model._graph() is graph  # cached


def test_sequential_graph_changes_with_add_and_pop_and_needs_a_build():
    model = pydl.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        model._graph()
    model.build((None, 4))
    first = model._graph()
    model.add(layers.Dense(2))
    model.build((None, 4))  # without a declared input, adding a layer unbuilds the model
    second = model._graph()
    assert second is not first and second.outputs == [2] and second.nodes[1].inputs == [1]
    declared = pydl.Sequential([pydl.Input(shape=(4,)), layers.Dense(3), layers.Dense(2)])
    before = declared._graph()
    declared.pop()
    assert declared._graph() is not before and declared._graph().outputs == [1]


def test_functional_graph_keys_order_and_kwargs():
    a = pydl.Input(shape=(4,), name="a")
    b = pydl.Input(shape=(3,), name="b")
    ha = layers.Dense(5, name="ha")(a)
    hb = layers.Dense(5, name="hb")(b)
    cat = layers.Concatenate(name="cat")([hb, ha])  # list order: hb first
    drop = layers.Dropout(0.5, name="drop")(cat, training=False)
    out = layers.Dense(2, name="out")(drop)
    model = pydl.Model([a, b], out)
    graph = model._graph()
    assert graph.inputs == [0, 1]
    names = [n.layer.name for n in graph.nodes]
    assert "a" not in names and "b" not in names  # InputLayers excluded
    keys = {}
    for node in graph.nodes:
        keys[node.layer.name] = node
    assert keys["ha"].inputs == [0] and keys["hb"].inputs == [1]
    assert keys["cat"].inputs == [keys["hb"].outputs[0], keys["ha"].outputs[0]]
    assert keys["drop"].kwargs == {"training": False} and keys["out"].kwargs == {}
    assert graph.outputs == keys["out"].outputs
    # topological: every key read was written before
    written = set(graph.inputs)
    for node in graph.nodes:
        assert set(node.inputs) <= written
        written.update(node.outputs)
    assert model._graph() is graph


def test_functional_graph_outputs_follow_flattened_outputs_and_inputs_model_inputs():
    a, b = pydl.Input(shape=(2,), name="a"), pydl.Input(shape=(2,), name="b")
    s = layers.add([a, b])
    model = pydl.Model({"b": b, "a": a}, {"z": layers.Dense(1, name="z")(s),
                                          "y": layers.Dense(3, name="y")(s)})
    graph = model._graph()
    producer = {k: n.layer.name for n in graph.nodes for k in n.outputs}
    assert [producer[k] for k in graph.outputs] == model.output_names == ["y", "z"]
    add = next(n for n in graph.nodes if n.layer.name.startswith("add"))
    assert add.inputs == [0, 1]  # a, b: model.inputs order (sorted dict keys)


def test_shared_layer_is_one_layer_in_two_nodes():
    shared = layers.Dense(3, name="sh")
    a, b = pydl.Input(shape=(4,)), pydl.Input(shape=(4,))
    model = pydl.Model([a, b], layers.add([shared(a), shared(b)]))
    nodes = [n for n in model._graph().nodes if n.layer is shared]
    assert len(nodes) == 2 and nodes[0].inputs == [0] and nodes[1].inputs == [1]
    assert nodes[0].outputs != nodes[1].outputs


def test_nested_models_are_one_node_each():
    ia = pydl.Input(shape=(4,))
    inner = pydl.Model(ia, [layers.Dense(3)(ia), layers.Dense(2)(ia)], name="two_out")
    seq = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(3)], name="chain")
    x = pydl.Input(shape=(4,))
    p, q = inner(x)
    out = layers.concatenate([seq(p), q])
    model = pydl.Model(x, out)
    graph = model._graph()
    assert [type(n.layer).__name__ for n in graph.nodes] == ["Functional", "Sequential",
                                                             "Concatenate"]
    inner_node, seq_node, cat_node = graph.nodes
    assert inner_node.inputs == [0] and len(inner_node.outputs) == 2
    assert len(inner._graph().outputs) == 2 and len(inner._graph().inputs) == 1
    assert seq_node.inputs == [inner_node.outputs[0]]
    assert cat_node.inputs == [seq_node.outputs[0], inner_node.outputs[1]]
    v = np.random.default_rng(0).normal(size=(3, 4)).astype("f4")
    (got,) = run_graph(graph, [v])
    np.testing.assert_array_equal(np.asarray(got), np.asarray(model(v)))


def test_graph_runner_matches_model_on_a_residual_model():
    x = pydl.Input(shape=(6,))
    h = layers.Dense(6, activation="relu")(x)
    h = layers.add([x, layers.Dense(6)(h)])
    out = layers.Dense(2, activation="softmax")(h)
    model = pydl.Model(x, out)
    v = np.random.default_rng(1).normal(size=(4, 6)).astype("f4")
    (got,) = run_graph(model._graph(), [v])
    np.testing.assert_array_equal(np.asarray(got), np.asarray(model(v)))
