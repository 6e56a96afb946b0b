"""The same Functional graphs built in pydl and in Keras 3 (numpy backend): forward values
with the same weights, layer order, output shapes and the config's graph layout."""

import os

import numpy as np
import pytest

import pydl

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "numpy":
        pytest.skip("Keras runs on another backend in this process")
    return keras


def merge_zoo(lib):
    """Two inputs through every merge and shape layer; explicit names everywhere."""
    L = lib.layers
    a = lib.Input(shape=(6,), name="a")
    b = lib.Input(shape=(4,), name="b")
    ha = L.Dense(8, activation="relu", name="ha")(a)
    hb = L.Dense(8, activation="tanh", name="hb")(b)
    added = L.Add(name="add")([ha, hb])
    sub = L.Subtract(name="sub")([ha, hb])
    mul = L.Multiply(name="mul")([added, sub])
    avg = L.Average(name="avg")([ha, hb, mul])
    mx = L.Maximum(name="max")([ha, hb])
    mn = L.Minimum(name="min")([ha, avg])
    cat = L.Concatenate(name="cat")([mx, mn, a])
    cos = L.Dot(axes=1, normalize=True, name="cos")([ha, hb])
    rep = L.RepeatVector(3, name="rep")(cos)
    grid = L.Reshape((2, 11), name="reshape")(cat)
    perm = L.Permute((2, 1), name="perm")(grid)
    dot = L.Dot(axes=(1, 2), name="dot")([perm, L.Reshape((4, 11), name="r2")(
        L.Dense(44, name="wide")(cat))])
    flat = L.Flatten(name="flat")(dot)
    out = L.Dense(3, activation="softmax", name="out")(L.Concatenate(name="cat2")(
        [flat, L.Flatten(name="flat2")(rep)]))
    return lib.Model([a, b], [out, grid], name="zoo")


def copy_weights(src, dst):
    dst.set_weights([np.asarray(w) for w in src.get_weights()])


def test_forward_values_match_keras(keras):
    mine, theirs = merge_zoo(pydl), merge_zoo(keras)
    assert [type(l).__name__ for l in mine.layers] == [type(l).__name__ for l in theirs.layers]
    assert [l.name for l in mine.layers] == [l.name for l in theirs.layers]
    assert [tuple(w.shape) for w in mine.weights] == [tuple(w.shape) for w in theirs.weights]
    copy_weights(mine, theirs)
    rng = np.random.default_rng(0)
    xa, xb = rng.normal(size=(5, 6)).astype("f4"), rng.normal(size=(5, 4)).astype("f4")
    got = mine([xa, xb])
    want = theirs([xa, xb])
    for g, w in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-5, atol=1e-6)
    assert [tuple(t.shape) for t in mine.outputs] == [tuple(t.shape) for t in theirs.outputs]


def test_shape_inference_matches_keras(keras):
    for lib_layers in ("Reshape((-1, 3))", "Permute((2, 1))", "RepeatVector(4)"):
        shapes = []
        for lib in (pydl, keras):
            x = lib.Input(shape=(6,)) if "Repeat" in lib_layers else lib.Input(shape=(2, 6))
            shapes.append(tuple(eval(f"lib.layers.{lib_layers}")(x).shape))
        assert shapes[0] == shapes[1], lib_layers
    for axes, sa, sb in [(1, (5,), (5,)), (-1, (3, 5), (4, 5)), ((2, 1), (3, 5), (5, 2)),
                         ((1, 1), (3, 5), (3, 2))]:
        got = pydl.layers.Dot(axes)([pydl.Input(shape=sa), pydl.Input(shape=sb)]).shape
        want = keras.layers.Dot(axes)([keras.Input(shape=sa), keras.Input(shape=sb)]).shape
        assert tuple(got) == tuple(want)
    got = pydl.layers.add([pydl.Input(shape=(5,)), pydl.Input(shape=(3, 5))]).shape
    want = keras.layers.add([keras.Input(shape=(5,)), keras.Input(shape=(3, 5))]).shape
    assert tuple(got) == tuple(want)


def topologies(lib):
    """Graphs whose layer order is easy to get wrong: shared layers, nesting, unused inputs,
    dict inputs and outputs."""
    L = lib.layers
    models = []
    a, b = lib.Input(shape=(4,), name="a"), lib.Input(shape=(4,), name="b")
    shared = L.Dense(4, name="shared")
    x = shared(L.Dense(4, name="pre")(a))
    y = shared(shared(b))
    models.append(lib.Model([a, b], L.Add(name="s")([x, y]), name="t1"))

    i = lib.Input(shape=(4,), name="i")
    inner = lib.Model(i, L.Dense(3, name="ih")(i), name="inner")
    c = lib.Input(shape=(4,), name="c")
    d = lib.Input(shape=(2,), name="unused")
    deep = L.Dense(3, name="deep")(L.Dense(4, name="d1")(c))
    models.append(lib.Model([c, d], [L.Add(name="s2")([inner(c), deep]), inner(c)], name="t2"))

    e, f = lib.Input(shape=(3,), name="e"), lib.Input(shape=(2,), name="f")
    cat = L.Concatenate(name="cat")([f, e])
    models.append(lib.Model({"f": f, "e": e}, {"zz": L.Dense(1, name="zz")(cat),
                                               "aa": L.Dense(2, name="aa")(cat)}, name="t3"))
    return models


def histories(config):
    """(layer name, [keras_history of every tensor argument of every node]) per layer."""
    out = []
    for entry in config["layers"]:
        found = []

        def walk(value):
            if isinstance(value, dict):
                if value.get("class_name") == "__keras_tensor__":
                    found.append(list(value["config"]["keras_history"]))
                else:
                    for v in value.values():
                        walk(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)

        for node in entry["inbound_nodes"]:
            walk(node["args"])
        out.append((entry["name"], entry["class_name"], found))
    return out


def test_layer_order_names_and_config_graph_match_keras(keras):
    for mine, theirs in zip(topologies(pydl), topologies(keras)):
        assert [l.name for l in mine.layers] == [l.name for l in theirs.layers], mine.name
        assert [t.name for t in mine.inputs] == [t.name for t in theirs.inputs]
        assert mine.output_names == theirs.output_names
        cm, ck = mine.get_config(), theirs.get_config()
        assert cm["input_layers"] == ck["input_layers"]
        assert cm["output_layers"] == ck["output_layers"]
        expected = [(n, "Functional" if c == "Functional" else c, h) for n, c, h in histories(ck)]
        assert histories(cm) == expected
        copy_weights(mine, theirs)
        rng = np.random.default_rng(1)
        feed = [rng.normal(size=(2,) + tuple(t.shape[1:])).astype("f4") for t in mine.inputs]
        if isinstance(mine.input, dict):
            feed = {t.name: v for t, v in zip(mine.inputs, feed)}
        got, want = mine(feed), theirs(feed)
        if isinstance(want, dict):
            got, want = [got[k] for k in sorted(got)], [want[k] for k in sorted(want)]
        elif not isinstance(want, (list, tuple)):
            got, want = [got], [want]
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=2e-5, atol=1e-6)


def test_keras_config_graph_rebuilds_in_pydl(keras):
    # The Keras-written graph layout (inbound nodes, tensor histories, endpoints) is the
    # one pydl reads: rebuild Keras' config with pydl's layer configs swapped in.
    for mine, theirs in zip(topologies(pydl), topologies(keras)):
        ck, cm = theirs.get_config(), mine.get_config()
        ours = {entry["name"]: entry for entry in cm["layers"]}
        for entry in ck["layers"]:
            entry["class_name"] = ours[entry["name"]]["class_name"]
            entry["config"] = ours[entry["name"]]["config"]
            entry.pop("module", None)
            entry.pop("registered_name", None)
        rebuilt = pydl.Model.from_config(ck)
        assert rebuilt.get_config() == cm
