"""Functional models in the Keras 3 format, both ways: merge and shape layers, several
inputs and outputs, shared layers, nested models; Lambda needs its function."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers as L

from .keras_side import KERAS_NUMPY2_WARNING, keras, weights

pytest.importorskip("h5py")
pytestmark = KERAS_NUMPY2_WARNING
TOLERANCE = 1e-6


def inputs(n=2, rows=9, features=6, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((rows, features)).astype(np.float32) for _ in range(n)]


def outputs(model, x) -> list:
    out = model(x, training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def pydl_graph():
    """Two inputs, two outputs; every merge and shape layer; a shared layer; a nested
    Sequential and a nested functional model."""
    pydl.utils.set_random_seed(0)
    a, b = pydl.Input(shape=(6,), name="a"), pydl.Input(shape=(6,), name="b")
    shared = L.Dense(5, activation="tanh")
    x, y = shared(a), shared(b)
    c = L.Concatenate()([x, y])
    s = L.Add()([x, y])
    d = L.Subtract()([x, y])
    m = L.Multiply()([x, y])
    av = L.Average()([x, y, s])
    mx, mn = L.Maximum()([x, y]), L.Minimum()([x, y])
    dot = L.Dot(axes=1, normalize=True)([x, y])
    permuted = L.Flatten()(L.Permute((2, 1))(L.Reshape((5, 2))(c)))
    repeated = L.Flatten()(L.RepeatVector(3)(mx))
    inner = pydl.Sequential([pydl.Input(shape=(10,)), L.Dense(4, activation="relu")], name="inner")
    z = pydl.Input(shape=(5,))
    inner_functional = pydl.Model(z, L.Dense(3)(z), name="inner_functional")
    head1 = L.Dense(2, activation="softmax", name="head1")(
        L.Concatenate()([permuted, inner(c), inner_functional(d), dot]))
    head2 = L.Dense(1, name="head2")(L.Concatenate()([av, mn, m, repeated]))
    return pydl.Model([a, b], [head1, head2], name="graph")


def test_pydl_graph_loads_in_keras(tmp_path):
    k = keras()
    model = pydl_graph()
    model.save(tmp_path / "graph.keras")
    loaded = k.models.load_model(tmp_path / "graph.keras")
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    x = inputs()
    for got, expected in zip(loaded.predict(x, verbose=0), outputs(model, x)):
        np.testing.assert_allclose(np.asarray(got), expected, atol=TOLERANCE, rtol=0)
    again = pydl.models.load_model(tmp_path / "graph.keras")
    for got, expected in zip(outputs(again, x), outputs(model, x)):
        np.testing.assert_array_equal(got, expected)


def test_compiled_functional_model_with_optimizer_state(tmp_path):
    k = keras()
    pydl.utils.set_random_seed(2)
    z = pydl.Input(shape=(6,))
    shared = L.Dense(4, activation="relu")
    h = L.Dense(6)(z)
    out = L.Dense(3, activation="softmax")(L.Concatenate()([shared(z), shared(h), L.Add()([z, h])]))
    model = pydl.Model(z, out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = inputs(1, rows=32)[0]
    model.fit(x, np.arange(32) % 3, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = k.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), model.predict(x, verbose=0),
                               atol=TOLERANCE, rtol=0)
    assert int(np.asarray(loaded.optimizer.iterations.value)) == 8
    resumed = pydl.models.load_model(tmp_path / "m.keras")
    model.fit(x, np.arange(32) % 3, epochs=1, batch_size=8, verbose=0, shuffle=False)
    resumed.fit(x, np.arange(32) % 3, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def keras_graph(k):
    k.utils.set_random_seed(3)
    a, b = k.Input((6,), name="a"), k.Input((6,), name="b")
    shared = k.layers.Dense(5, activation="tanh")
    x, y = shared(a), shared(b)
    c = k.layers.Concatenate()([x, y])
    s = k.layers.Add()([x, y])
    av = k.layers.Average()([x, y, s])
    mx, mn = k.layers.Maximum()([x, y]), k.layers.Minimum()([x, y])
    m = k.layers.Multiply()([x, y])
    d = k.layers.Subtract()([x, y])
    dot = k.layers.Dot(axes=1, normalize=True)([x, y])
    permuted = k.layers.Flatten()(k.layers.Permute((2, 1))(k.layers.Reshape((5, 2))(c)))
    repeated = k.layers.Flatten()(k.layers.RepeatVector(3)(mx))
    inner = k.Sequential([k.Input((10,)), k.layers.Dense(4, activation="relu")], name="inner")
    z = k.Input((5,))
    inner_functional = k.Model(z, k.layers.Dense(3)(z), name="inner_functional")
    head1 = k.layers.Dense(2, activation="softmax", name="head1")(
        k.layers.Concatenate()([permuted, inner(c), inner_functional(d), dot]))
    head2 = k.layers.Dense(1, name="head2")(k.layers.Concatenate()([av, mn, m, repeated]))
    return k.Model([a, b], [head1, head2], name="graph")


def test_keras_graph_loads_in_pydl(tmp_path):
    k = keras()
    model = keras_graph(k)
    model.save(tmp_path / "graph.keras")
    loaded = pydl.models.load_model(tmp_path / "graph.keras")
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    x = inputs()
    for got, expected in zip(outputs(loaded, x), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, np.asarray(expected), atol=TOLERANCE, rtol=0)
    for mine, theirs in zip(loaded.get_weights(), weights(model)):
        np.testing.assert_array_equal(mine, theirs)


def test_keras_functional_with_dot_over_sequences(tmp_path):
    k = keras()
    k.utils.set_random_seed(4)
    a, b = k.Input((4, 3)), k.Input((5, 3))
    scores = k.layers.Dot(axes=(2, 2))([a, b])                       # (batch, 4, 5)
    mixed = k.layers.Dot(axes=(2, 1))([scores, k.layers.Dense(2)(b)])  # (batch, 4, 2)
    model = k.Model([a, b], k.layers.Flatten()(mixed))
    model.save(tmp_path / "dot.keras")
    loaded = pydl.models.load_model(tmp_path / "dot.keras")
    rng = np.random.default_rng(5)
    x = [rng.standard_normal((7, 4, 3)).astype(np.float32),
         rng.standard_normal((7, 5, 3)).astype(np.float32)]
    np.testing.assert_allclose(outputs(loaded, x)[0], np.asarray(model.predict(x, verbose=0)),
                               atol=TOLERANCE, rtol=0)


def double(x):
    return x * 2


def test_lambda_needs_its_function(tmp_path):
    k = keras()
    i = k.Input((3,))
    # output_shape given: Keras' numpy backend does not always infer a Lambda's shape
    model = k.Model(i, k.layers.Dense(2)(k.layers.Lambda(double, output_shape=(3,))(i)))
    model.save(tmp_path / "named.keras")
    with pytest.raises(ValueError, match="double"):
        pydl.models.load_model(tmp_path / "named.keras")
    loaded = pydl.models.load_model(tmp_path / "named.keras",
                                    custom_objects={"double": lambda t: pydl.ops.multiply(t, 2.0)})
    x = inputs(1, features=3)[0]
    np.testing.assert_allclose(outputs(loaded, x)[0], np.asarray(model.predict(x, verbose=0)),
                               atol=TOLERANCE, rtol=0)
    anonymous = k.Model(i, k.layers.Lambda(lambda t: t + 1, output_shape=(3,))(i))
    anonymous.save(tmp_path / "anonymous.keras")
    with pytest.raises(ValueError, match="bytecode"):
        pydl.models.load_model(tmp_path / "anonymous.keras")


def test_compiled_multi_output_model_both_formats(tmp_path):
    """Losses, weights and metrics per output name survive .keras (read by Keras and pydl)
    and pydl's own format."""
    k = keras()
    pydl.utils.set_random_seed(6)
    a, b = pydl.Input(shape=(4,), name="a"), pydl.Input(shape=(3,), name="b")
    h = L.Dense(8, activation="relu")(L.Concatenate()([a, b]))
    model = pydl.Model({"a": a, "b": b}, {"cls": L.Dense(2, activation="softmax", name="cls")(h),
                                          "reg": L.Dense(1, name="reg")(h)})
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  loss_weights={"cls": 1.0, "reg": 0.5}, metrics={"cls": ["accuracy"]})
    rng = np.random.default_rng(7)
    x = {"a": rng.standard_normal((16, 4)).astype(np.float32),
         "b": rng.standard_normal((16, 3)).astype(np.float32)}
    y = {"cls": np.arange(16) % 2, "reg": rng.standard_normal((16, 1)).astype(np.float32)}
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    expected = model.evaluate(x, y, verbose=0, return_dict=True)
    assert set(expected) == {"loss", "cls_loss", "reg_loss", "cls_accuracy"}
    for suffix in (".keras", ".pydl"):
        model.save(tmp_path / f"m{suffix}")
        again = pydl.models.load_model(tmp_path / f"m{suffix}")
        assert again.evaluate(x, y, verbose=0, return_dict=True) == expected
    in_keras = k.models.load_model(tmp_path / "m.keras")
    got = in_keras.evaluate(x, y, verbose=0, return_dict=True)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-5), key
