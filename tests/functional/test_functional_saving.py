"""Functional config (Keras 3 layout), save/load, clone_model, and the name registry."""

import json

import numpy as np
import pytest

import pydl
from pydl import layers, ops

R = np.random.default_rng(8)


def two_tower():
    a = pydl.Input(shape=(6,), name="left")
    b = pydl.Input(shape=(4,), name="right")
    ha = layers.Dense(8, activation="relu", name="tower_a")(a)
    hb = layers.Dense(8, activation="relu", name="tower_b")(b)
    x = layers.Concatenate(name="join")([ha, hb])
    x = layers.Dropout(0.3, name="drop")(x)
    out = layers.Dense(3, activation="softmax", name="head")(x)
    return pydl.Model([a, b], out, name="two_tower")


DATA = [R.normal(size=(5, 6)).astype("f4"), R.normal(size=(5, 4)).astype("f4")]


def data():
    return list(DATA)


def test_config_layout_is_keras_3s():
    config = two_tower().get_config()
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["left", 0, 0], ["right", 0, 0]]
    assert config["output_layers"] == ["head", 0, 0]
    by_name = {entry["name"]: entry for entry in config["layers"]}
    assert by_name["left"]["class_name"] == "InputLayer" and by_name["left"]["inbound_nodes"] == []
    (node,) = by_name["join"]["inbound_nodes"]
    assert node["kwargs"] == {}
    first, second = node["args"][0]
    assert first == {"class_name": "__keras_tensor__",
                     "config": {"shape": [None, 8], "dtype": "float32",
                                "keras_history": ["tower_a", 0, 0]}}
    assert second["config"]["keras_history"] == ["tower_b", 0, 0]
    json.dumps(config)  # plain JSON


def test_config_round_trip_gives_the_same_architecture():
    model = two_tower()
    rebuilt = pydl.Model.from_config(model.get_config())
    assert type(rebuilt).__name__ == "Functional"
    assert rebuilt.get_config() == model.get_config()
    assert [w.shape for w in rebuilt.get_weights()] == [w.shape for w in model.get_weights()]
    rebuilt.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.asarray(rebuilt(data())), np.asarray(model(data())))


def test_node_indices_count_only_this_models_nodes():
    shared = layers.Dense(3, name="shared")
    shared(pydl.Input(shape=(4,)))  # a call outside the model
    a, b = pydl.Input(shape=(4,), name="a"), pydl.Input(shape=(4,), name="b")
    model = pydl.Model([a, b], layers.add([shared(a), shared(b)], name="sum"))
    config = model.get_config()
    entry = next(e for e in config["layers"] if e["name"] == "shared")
    assert len(entry["inbound_nodes"]) == 2
    (node,) = next(e for e in config["layers"] if e["name"] == "sum")["inbound_nodes"]
    assert [t["config"]["keras_history"] for t in node["args"][0]] == [["shared", 0, 0],
                                                                       ["shared", 1, 0]]
    rebuilt = pydl.Model.from_config(config)
    assert len(rebuilt.get_layer("shared")._inbound_nodes) == 2 and len(rebuilt.weights) == 2


def test_nested_models_in_the_config():
    ia = pydl.Input(shape=(4,), name="ia")
    inner = pydl.Model(ia, layers.Dense(3, name="ih")(ia), name="inner")
    seq = pydl.Sequential([layers.Dense(2, name="sd")], name="seq")
    x = pydl.Input(shape=(4,), name="x")
    model = pydl.Model(x, [inner(x), seq(inner(x))], name="outer")
    config = model.get_config()
    # Keras 3 counts a nested Functional's nodes from 1 in output_layers
    assert config["output_layers"] == [["inner", 1, 0], ["seq", 0, 0]]
    rebuilt = pydl.Model.from_config(config)
    rebuilt.set_weights(model.get_weights())
    v = R.normal(size=(2, 4)).astype("f4")
    for got, want in zip(rebuilt(v), model(v)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_save_and_load_round_trip(tmp_path):
    model = two_tower()
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "m.pydl"
    model.save(path)
    loaded = pydl.models.load_model(path)
    assert type(loaded).__name__ == "Functional" and loaded.name == "two_tower"
    for w1, w2 in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(w1, w2)
    np.testing.assert_array_equal(np.asarray(loaded(data())), np.asarray(model(data())))
    assert loaded.compiled and loaded.optimizer.__class__.__name__ == "Adam"
    same = pydl.saving.load_model(path)  # the Keras 3 alias
    np.testing.assert_array_equal(np.asarray(same(data())), np.asarray(model(data())))


def test_save_and_load_single_input_model_trained_with_fit(tmp_path):
    x = pydl.Input(shape=(5,))
    h = layers.Dense(4, activation="relu")(x)
    model = pydl.Model(x, layers.Dense(1)(layers.add([h, layers.Dense(4)(h)])))
    model.compile(optimizer="sgd", loss="mse")
    v, y = R.normal(size=(32, 5)).astype("f4"), R.normal(size=(32, 1)).astype("f4")
    model.fit(v, y, epochs=1, verbose=0)
    pydl.saving.save_model(model, tmp_path / "f.pydl")
    loaded = pydl.models.load_model(tmp_path / "f.pydl")
    np.testing.assert_array_equal(loaded.predict(v, verbose=0), model.predict(v, verbose=0))
    before = loaded.get_weights()
    loaded.fit(v, y, epochs=1, verbose=0)  # resumes training
    assert any(np.any(a != b) for a, b in zip(before, loaded.get_weights()))


class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return ops.multiply(ops.multiply(x, self.w), self.factor)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_custom_layer_needs_custom_objects(tmp_path):
    x = pydl.Input(shape=(3,))
    model = pydl.Model(x, Scale(3.0, name="scale")(layers.Dense(3)(x)))
    model.get_layer("scale").w.assign(np.array([1.0, 2.0, 3.0], np.float32))
    model.save(tmp_path / "c.pydl")
    with pytest.raises(ValueError, match="Unknown layer class 'Scale'.*custom_objects"):
        pydl.models.load_model(tmp_path / "c.pydl")
    loaded = pydl.models.load_model(tmp_path / "c.pydl", custom_objects={"Scale": Scale})
    v = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(np.asarray(loaded(v)), np.asarray(model(v)))


def test_registered_custom_layer_loads_without_custom_objects(tmp_path):
    @pydl.saving.register_keras_serializable(package="FuncTests")
    class Shift(layers.Layer):
        def call(self, x):
            return ops.add(x, 1.0)

        def compute_output_shape(self, input_shape):
            return input_shape

    assert pydl.saving.get_registered_name(Shift) == "FuncTests>Shift"
    assert pydl.saving.get_registered_object("FuncTests>Shift") is Shift
    assert pydl.saving.get_registered_name(Scale) == "Scale"
    x = pydl.Input(shape=(2,))
    model = pydl.Model(x, Shift()(x))
    assert model.get_config()["layers"][1]["registered_name"] == "FuncTests>Shift"
    model.save(tmp_path / "r.pydl")
    loaded = pydl.models.load_model(tmp_path / "r.pydl")
    assert isinstance(loaded.layers[1], Shift)
    with pydl.saving.custom_object_scope({"Scale": Scale}):
        assert pydl.saving.get_registered_object("Scale") is Scale
    assert pydl.saving.get_registered_object("Scale") is None


def test_register_keras_serializable_checks():
    with pytest.raises(ValueError, match="get_config"):
        pydl.saving.register_keras_serializable()(type("NoConfig", (), {}))
    with pytest.raises(ValueError, match="package"):
        pydl.saving.register_keras_serializable(package="")


def double(x):
    return ops.multiply(x, 2.0)


def test_lambda_model_load_needs_the_function_in_custom_objects(tmp_path):
    x = pydl.Input(shape=(3,))
    model = pydl.Model(x, layers.Lambda(double, name="lam")(layers.Dense(3)(x)))
    model.save(tmp_path / "l.pydl")
    with open(tmp_path / "l.pydl", "rb") as handle:
        content = handle.read()
    assert b'"config": "double"' in content and b"__lambda__" not in content
    with pytest.raises(ValueError, match=r"the function 'double' is not known.*"
                                         r"custom_objects=\{'double': double\}"):
        pydl.models.load_model(tmp_path / "l.pydl")
    loaded = pydl.models.load_model(tmp_path / "l.pydl", custom_objects={"double": double})
    v = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(np.asarray(loaded(v)), np.asarray(model(v)))


def test_anonymous_lambda_cannot_be_loaded_from_a_file(tmp_path):
    x = pydl.Input(shape=(3,))
    model = pydl.Model(x, layers.Lambda(lambda t: t * 2.0)(x))
    model.save(tmp_path / "anon.pydl")
    with pytest.raises(ValueError, match="anonymous function"):
        pydl.models.load_model(tmp_path / "anon.pydl")


def test_damaged_functional_configs_raise_value_errors():
    config = two_tower().get_config()
    broken = json.loads(json.dumps(config))
    broken["output_layers"] = ["nowhere", 0, 0]
    with pytest.raises(ValueError, match="unknown layer 'nowhere'"):
        pydl.Model.from_config(broken)
    broken = json.loads(json.dumps(config))
    del broken["input_layers"]
    with pytest.raises(ValueError, match="'input_layers' is missing"):
        pydl.models.Functional.from_config(broken)
    broken = json.loads(json.dumps(config))
    broken["layers"][2]["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = ["head", 5, 0]
    with pytest.raises(ValueError, match="loops or nodes whose inputs never appear"):
        pydl.Model.from_config(broken)


# -- clone_model -----------------------------------------------------------------------
def test_clone_functional_has_fresh_weights_and_the_same_architecture():
    model = two_tower()
    clone = pydl.models.clone_model(model)
    assert type(clone).__name__ == "Functional" and clone is not model
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert [type(l) for l in clone.layers] == [type(l) for l in model.layers]
    assert not any(a is b for a, b in zip(clone.weights, model.weights))
    kernels = [w for w in zip(clone.get_weights(), model.get_weights()) if w[0].ndim == 2]
    assert all(np.any(a != b) for a, b in kernels)  # new initializer draws
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.asarray(clone(data())), np.asarray(model(data())))


def test_clone_keeps_shared_layers_shared_and_clones_nested_models():
    shared = layers.Dense(3)
    ia = pydl.Input(shape=(4,))
    inner = pydl.Model(ia, layers.Dense(4)(ia), name="inner")
    a, b = pydl.Input(shape=(4,)), pydl.Input(shape=(4,))
    model = pydl.Model([a, b], layers.add([shared(inner(a)), shared(b)]))
    clone = pydl.models.clone_model(model)
    assert len(clone.weights) == len(model.weights) == 4
    assert clone.get_layer("inner") is not inner
    deep = pydl.models.clone_model(model, recursive=True)
    assert type(deep.get_layer("inner")).__name__ == "Functional"


def test_clone_function_and_input_tensors():
    model = two_tower()
    seen = []

    def keep_dense(layer):
        seen.append(layer.name)
        return layer if isinstance(layer, layers.Dense) else layer.__class__.from_config(
            layer.get_config())

    clone = pydl.models.clone_model(model, clone_function=keep_dense)
    assert clone.get_layer("head") is model.get_layer("head")
    assert "left" not in seen  # InputLayers are not passed to clone_function
    new_inputs = [pydl.Input(shape=(6,), name="l2"), pydl.Input(shape=(4,), name="r2")]
    on_new = pydl.models.clone_model(model, input_tensors=new_inputs)
    assert on_new.inputs == new_inputs
    with pytest.raises(ValueError, match="KerasTensors"):
        pydl.models.clone_model(model, input_tensors=[np.ones(3), np.ones(3)])


def test_clone_sequential():
    seq = pydl.Sequential([pydl.Input(shape=(5,), name="in"), layers.Dense(4), layers.Dense(2)])
    clone = pydl.models.clone_model(seq)
    assert type(clone) is pydl.Sequential and clone.built and clone.output_shape == (None, 2)
    assert clone.input.name == "in" and not any(a is b for a, b in zip(clone.weights,
                                                                       seq.weights))
    lazy = pydl.Sequential([layers.Dense(3)])
    lazy.build((None, 7))
    assert pydl.models.clone_model(lazy).built
    x = pydl.Input(shape=(5,))
    assert pydl.models.clone_model(seq, input_tensors=x).input is x
    with pytest.raises(ValueError, match="call_function"):
        pydl.models.clone_model(seq, call_function=lambda layer, *a, **k: layer(*a, **k))


class Configured(pydl.Model):
    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.dense = layers.Dense(units)

    def call(self, x):
        return self.dense(x)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Unconfigured(pydl.Model):
    def __init__(self, units):
        super().__init__()
        self.dense = layers.Dense(units)

    def call(self, x):
        return self.dense(x)


def test_clone_subclassed_models():
    model = Configured(units=5)
    model(np.ones((1, 2), np.float32))
    clone = pydl.models.clone_model(model)
    assert type(clone) is Configured and clone.units == 5 and clone.built
    assert clone.weights[0] is not model.weights[0]
    with pytest.raises(ValueError, match="cannot clone the subclassed model.*get_config"):
        pydl.models.clone_model(Unconfigured(2))
    with pytest.raises(ValueError, match="only supported for Sequential and Functional"):
        pydl.models.clone_model(model, clone_function=lambda layer: layer)


def test_trainable_flag_round_trips():
    x = pydl.Input(shape=(3,))
    frozen = pydl.Model(x, layers.Dense(2)(x), trainable=False)
    assert frozen.trainable_weights == [] and len(frozen.non_trainable_weights) == 2
    rebuilt = pydl.Model.from_config(frozen.get_config())
    assert rebuilt.trainable is False and rebuilt.trainable_weights == []


def test_pydl_classes_are_registered_by_name_and_serialization_imports_no_model():
    import ast
    import inspect

    from pydl.models import serialization
    from pydl.saving import object_registration

    for name in ("Dense", "Concatenate", "Lambda", "Sequential", "Functional", "Model"):
        assert object_registration.builtin(name).__name__ == name
    imported = [node for node in ast.walk(ast.parse(inspect.getsource(serialization)))
                if isinstance(node, (ast.Import, ast.ImportFrom))]
    modules = {(node.module or "") for node in imported if isinstance(node, ast.ImportFrom)}
    assert modules <= {"__future__", "saving"}, modules


def test_clone_model_with_lambda_layers_keeps_their_functions():
    x = pydl.Input(shape=(3,))
    h = layers.Lambda(double, name="named")(x)
    out = layers.Lambda(lambda t: ops.add(t, 1.0), output_shape=lambda s: s, name="anon")(h)
    model = pydl.Model(x, out)
    clone = pydl.models.clone_model(model)
    assert clone.get_layer("named").function is double
    v = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(np.asarray(clone(v)), 2 * v + 1)
