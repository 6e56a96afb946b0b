"""pydl.Model(inputs, outputs): construction, calls, structure, errors, training."""

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.models.functional import Functional

R = np.random.default_rng(3)


def two_inputs():
    a = pydl.Input(shape=(4,), name="a")
    b = pydl.Input(shape=(3,), name="b")
    x = layers.concatenate([layers.Dense(5, name="da")(a), layers.Dense(5, name="db")(b)],
                           name="cat")
    out = layers.Dense(2, name="out")(x)
    return a, b, out


def test_model_dispatches_to_functional():
    a, b, out = two_inputs()
    for model in (pydl.Model([a, b], out), pydl.Model(inputs=[a, b], outputs=out, name="m")):
        assert type(model) is Functional and isinstance(model, pydl.Model)
        assert model.built
    assert pydl.Model(inputs=[a, b], outputs=out, name="m").name == "m"


def test_structure_properties():
    a, b, out = two_inputs()
    model = pydl.Model([a, b], out)
    assert model.inputs == [a, b] and model.outputs == [out]
    assert model.input == [a, b] and model.output is out
    assert model.input_shape == [(None, 4), (None, 3)] and model.output_shape == (None, 2)
    assert [l.name for l in model.layers] == ["a", "b", "da", "db", "cat", "out"]
    assert model.get_layer("db") is model.layers[3] and model.get_layer(index=-1).name == "out"
    assert model.output_names == ["out"] and model.input_names == ["a", "b"]
    assert [w.shape for w in model.weights] == [(4, 5), (5,), (3, 5), (5,), (10, 2), (2,)]
    with pytest.raises(ValueError, match="no layer named 'zz'"):
        model.get_layer("zz")


def test_call_on_arrays_matches_the_layers_by_hand():
    a, b, out = two_inputs()
    model = pydl.Model([a, b], out)
    xa, xb = R.normal(size=(6, 4)).astype("f4"), R.normal(size=(6, 3)).astype("f4")
    expected = model.get_layer("out")(np.concatenate(
        [np.asarray(model.get_layer("da")(xa)), np.asarray(model.get_layer("db")(xb))], axis=1))
    for given in ([xa, xb], (xa, xb), {"a": xa, "b": xb}, {"b": xb, "a": xa}):
        np.testing.assert_array_equal(np.asarray(model(given)), np.asarray(expected))


def test_dict_inputs_and_outputs_flatten_in_sorted_key_order():
    a, b = pydl.Input(shape=(4,), name="a"), pydl.Input(shape=(3,), name="b")
    x = layers.concatenate([a, b])
    z, y = layers.Dense(1, name="z")(x), layers.Dense(2, name="y")(x)
    model = pydl.Model({"b": b, "a": a}, {"z": z, "y": y})
    assert [t.name for t in model.inputs] == ["a", "b"]
    assert model.outputs == [y, z] and model.output_names == ["y", "z"]
    out = model([np.ones((2, 4)), np.ones((2, 3))])  # list: model.inputs order
    assert set(out) == {"z", "y"} and out["z"].shape == (2, 1) and out["y"].shape == (2, 2)
    with pytest.raises(ValueError, match=r"key 'c', which names no input"):
        model({"a": np.ones((2, 4)), "b": np.ones((2, 3)), "c": np.ones((2, 1))})
    with pytest.raises(ValueError, match=r"missing data for input 'b'"):
        model({"a": np.ones((2, 4))})


def test_wrong_number_of_inputs_and_incompatible_shapes():
    a, b, out = two_inputs()
    model = pydl.Model([a, b], out)
    with pytest.raises(ValueError, match=r"expects 2 inputs \['a', 'b'\].*list of 3"):
        model([np.ones((1, 4))] * 3)
    with pytest.raises(ValueError, match=r"expects 2 inputs.*one ndarray"):
        model(np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"Input 'b'.*expected shape \(None, 3\), received "
                                         r"shape \(1, 4\)"):
        model([np.ones((1, 4)), np.ones((1, 4))])


def test_single_input_accepts_a_one_element_list_and_rank_adjustment():
    x = pydl.Input(shape=(1,))
    model = pydl.Model(x, layers.Dense(2)(x))
    v = np.ones((5, 1), np.float32)
    ref = np.asarray(model(v))
    np.testing.assert_array_equal(np.asarray(model([v])), ref)
    np.testing.assert_array_equal(np.asarray(model(np.ones(5, np.float32))), ref)  # (5,) -> (5, 1)
    np.testing.assert_array_equal(np.asarray(model([[1.0]] * 5)), ref)  # lists are data


def test_a_list_of_one_output_is_returned_unpacked_as_keras():
    x = pydl.Input(shape=(3,))
    model = pydl.Model([x], [layers.Dense(2)(x)])
    assert model(np.ones((1, 3))).shape == (1, 2)


def test_construction_errors():
    a, b, out = two_inputs()
    with pytest.raises(ValueError, match="all `inputs` values must be KerasTensors.*ndarray"):
        pydl.Model(np.ones(3), out)
    with pytest.raises(ValueError, match="all `outputs` values must be KerasTensors.*int"):
        pydl.Model(a, 3)
    with pytest.raises(ValueError, match=r"Graph disconnected.*'b'.*layer 'db'"):
        pydl.Model(a, out)
    c = pydl.Input(shape=(3,), name="c")
    with pytest.raises(ValueError, match=r"Graph disconnected: the output 'c'"):
        pydl.Model(a, c)
    with pytest.raises(ValueError, match="must not be empty"):
        pydl.Model([], out)
    d = pydl.Input(shape=(4,), name="dup")
    e = layers.Dense(2, name="dup")(d)
    with pytest.raises(ValueError, match='The name "dup" is used 2 times'):
        pydl.Model(d, e)


def test_dict_key_that_differs_from_the_input_name_warns_as_keras():
    a = pydl.Input(shape=(2,), name="a")
    with pytest.warns(UserWarning, match="key 'zz'"):
        model = pydl.Model({"zz": a}, layers.Dense(1)(a))
    assert model({"zz": np.ones((1, 2))}).shape == (1, 1)


def test_unused_input_is_kept():
    a, b = pydl.Input(shape=(2,), name="a"), pydl.Input(shape=(2,), name="b")
    model = pydl.Model([a, b], layers.Dense(1)(a))
    assert [l.name for l in model.layers][:2] == ["a", "b"]
    assert model.get_config()["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert model([np.ones((1, 2)), np.zeros((1, 2))]).shape == (1, 1)


def test_feature_extraction_from_a_sequential_and_a_functional():
    seq = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(8, name="h"),
                           layers.Dense(3, name="top")])
    assert seq.inputs == [seq.input] and seq.outputs == [seq.output]
    features = pydl.Model(seq.input, seq.get_layer("h").output)
    v = R.normal(size=(4, 6)).astype("f4")
    np.testing.assert_array_equal(np.asarray(features(v)), np.asarray(seq.get_layer("h")(v)))
    multi = pydl.Model(seq.inputs, [layer.output for layer in seq.layers])
    h, top = multi(v)
    np.testing.assert_allclose(np.asarray(top), np.asarray(seq(v)), rtol=1e-6)
    # the weights are the same objects
    assert features.get_layer("h").kernel is seq.get_layer("h").kernel


def test_intermediate_tensors_as_inputs_clone_the_graph_as_keras():
    x = pydl.Input(shape=(4,), name="x")
    h = layers.Dense(6, name="h")(x)
    out = layers.Dense(2, name="o")(layers.Dense(3, name="m")(h))
    head = pydl.Model(h, out)
    assert [type(l).__name__ for l in head.layers] == ["InputLayer", "Dense", "Dense"]
    assert head.inputs[0].shape == (None, 6) and h._keras_history.layer.name == "h"
    v = R.normal(size=(2, 6)).astype("f4")
    expected = head.get_layer("o")(head.get_layer("m")(v))
    np.testing.assert_array_equal(np.asarray(head(v)), np.asarray(expected))
    full = pydl.Model(x, out)  # the original graph is untouched
    assert [l.name for l in full.layers] == ["x", "h", "m", "o"]


def test_unsupported_functional_subclass_init_is_a_clear_error():
    class M(pydl.Model):
        def __init__(self):
            x = pydl.Input(shape=(2,))
            super().__init__(x, layers.Dense(1)(x))

    with pytest.raises(TypeError, match="takes no inputs/outputs"):
        M()


def test_fit_one_input_one_output_trains_on_the_tape():
    pydl.utils.set_random_seed(1)
    x = R.normal(size=(256, 6)).astype("f4")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    inputs = pydl.Input(shape=(6,))
    h = layers.Dense(16, activation="relu")(inputs)
    h = layers.add([h, layers.Dense(16, activation="relu")(h)])
    outputs = layers.Dense(2, activation="softmax")(h)
    model = pydl.Model(inputs, outputs)
    model.compile(optimizer=pydl.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.evaluate(x, y, verbose=0)[1] > 0.9
    assert model.predict(x[:5], verbose=0).shape == (5, 2)


def test_fit_matches_a_gradient_tape_loop_exactly():
    def build():
        pydl.utils.set_random_seed(5)
        inputs = pydl.Input(shape=(4,))
        h = layers.Dense(8, activation="tanh")(inputs)
        out = layers.Dense(1)(layers.concatenate([h, inputs]))
        return pydl.Model(inputs, out)

    x = R.normal(size=(32, 4)).astype("f4")
    y = R.normal(size=(32, 1)).astype("f4")
    fitted = build()
    fitted.compile(optimizer=pydl.optimizers.SGD(0.05), loss="mse")
    fitted.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    manual = build()
    opt = pydl.optimizers.SGD(0.05)
    loss_fn = pydl.losses.MeanSquaredError()
    for _ in range(2):
        with pydl.GradientTape() as tape:
            loss = loss_fn(y, manual(x, training=True))
        grads = tape.gradient(loss, manual.trainable_weights)
        opt.apply_gradients(zip(grads, manual.trainable_weights))
    for w1, w2 in zip(fitted.get_weights(), manual.get_weights()):
        np.testing.assert_array_equal(w1, w2)


def test_training_flag_reaches_the_layers_and_an_explicit_value_is_kept():
    x = pydl.Input(shape=(1000,))
    dropped = layers.Dropout(0.5, seed=1)(x)
    kept = layers.Dropout(0.5, seed=1)(x, training=False)
    model = pydl.Model(x, [dropped, kept])
    v = np.ones((2, 1000), np.float32)
    d, k = model(v)  # inference
    np.testing.assert_array_equal(np.asarray(d), v)
    d, k = model(v, training=True)  # Keras 3: an outer training=True overrides the node's
    assert (np.asarray(d) == 0).any() and (np.asarray(k) == 0).any()
    model2 = pydl.Model(x, kept)
    np.testing.assert_array_equal(np.asarray(model2(v)), v)


def test_float64_model():
    x = pydl.Input(shape=(3,), dtype="float64")
    model = pydl.Model(x, layers.Dense(2, dtype="float64")(x))
    assert model(np.ones((2, 3))).dtype == np.float64


def test_sequential_symbolic_graph_and_its_errors():
    lazy = pydl.Sequential([layers.Dense(3, name="only")])
    with pytest.raises(AttributeError, match="no defined inputs yet"):
        lazy.inputs
    lazy(np.ones((2, 5), np.float32))  # built from data: an implicit input
    assert lazy.input.shape == (None, 5) and lazy.output.shape == (None, 3)
    assert lazy.get_layer("only").output is lazy.output
    x = pydl.Input(shape=(4,))
    with pytest.raises(ValueError, match="only be added when it comes from pydl.Input"):
        pydl.Sequential().add(layers.Dense(2)(x))
    seq = pydl.Sequential([x, layers.Dense(2)])
    assert seq.input is x and seq.input_shape == (None, 4)
    with pytest.raises(ValueError, match=r"'proj'.*built for input shape \(None, 4\).*"
                                         r"\(None, 6\)"):
        pydl.Sequential([pydl.Input(shape=(6,)), _built(layers.Dense(3, name="proj"), (None, 4))])


def _built(layer, shape):
    layer(pydl.Input(shape=shape[1:]))
    return layer


def test_input_dtype_follows_floatx():
    pydl.backend.set_floatx("float64")
    try:
        x = pydl.Input(shape=(3,))
        model = pydl.Model(x, layers.Dense(2)(x))
    finally:
        pydl.backend.set_floatx("float32")
    assert x.dtype == "float64" and model(np.ones((2, 3))).dtype == np.float64
