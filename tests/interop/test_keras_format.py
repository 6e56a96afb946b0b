"""The Keras 3 format both ways: files pydl writes load in Keras (numpy backend) and predict
the same; files Keras writes load in pydl and predict the same; optimizer state included."""

from __future__ import annotations

import json
import sys
import zipfile

import numpy as np
import pytest

import pydl
from pydl import layers

from .keras_side import KERAS_NUMPY2_WARNING, keras, optimizer_arrays, value, weights

pytest.importorskip("h5py")
pytestmark = KERAS_NUMPY2_WARNING
TOLERANCE = 1e-6


def data(shape=(24, 6), seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def pydl_models():
    """(name, model, x) for models covering every built-in layer, activation and option."""
    pydl.utils.set_random_seed(0)
    out = []
    for activation in ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu",
                       "selu", "gelu", "softplus", "silu", "swish"):
        out.append((f"dense_{activation}", pydl.Sequential([
            pydl.Input(shape=(6,)), layers.Dense(5, activation=activation),
            layers.Activation(activation), layers.Dense(2)]), data()))
    out.append(("options", pydl.Sequential([
        layers.Dense(7, activation="relu", input_shape=(6,), use_bias=False,
                     kernel_initializer="he_normal", kernel_regularizer="l2",
                     bias_regularizer=pydl.regularizers.L1L2(0.01, 0.02),
                     activity_regularizer="l1"),
        layers.Dropout(0.25, seed=3), layers.Dense(3, bias_initializer="ones")]), data()))
    out.append(("flatten_3d", pydl.Sequential([
        pydl.Input(shape=(3, 4)), layers.Flatten(), layers.Dense(4, activation="tanh")]),
        data((10, 3, 4))))
    inner = pydl.Sequential([pydl.Input(shape=(5,)), layers.Dense(4, activation="relu"),
                             layers.Dense(3)], name="inner")
    out.append(("nested", pydl.Sequential([
        pydl.Input(shape=(6,)), layers.Dense(5), inner, layers.Activation("softmax")]), data()))
    built_late = pydl.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    built_late.build((None, 6))
    out.append(("built_by_build", built_late, data()))
    out.append(("float64", pydl.Sequential([
        pydl.Input(shape=(6,), dtype="float64"), layers.Dense(4, activation="tanh", dtype="float64"),
        layers.Dense(2, dtype="float64")]), data().astype(np.float64)))
    return out


@pytest.mark.parametrize("name, model, x", pydl_models(), ids=lambda v: v if isinstance(v, str) else "")
def test_pydl_file_loads_in_keras_with_the_same_predictions(tmp_path, name, model, x):
    k = keras()
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = k.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == \
        [type(layer).__name__ for layer in model.layers]
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), expected, atol=TOLERANCE,
                               rtol=0)
    assert [w.shape for w in weights(loaded)] == [w.shape for w in model.get_weights()]
    # and back: pydl reads its own .keras file exactly
    again = pydl.models.load_model(path)
    np.testing.assert_array_equal(again.predict(x, verbose=0), expected)


@pytest.mark.parametrize("optimizer", [
    pydl.optimizers.Adam(0.01), pydl.optimizers.Adam(amsgrad=True), pydl.optimizers.AdamW(),
    pydl.optimizers.SGD(0.1, momentum=0.9, nesterov=True), pydl.optimizers.SGD(),
    pydl.optimizers.RMSprop(momentum=0.5, centered=True), pydl.optimizers.Adagrad(),
    pydl.optimizers.SGD(pydl.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9))],
    ids=lambda o: f"{type(o).__name__}-{sorted(o.get_config().items())!s:.60}")
def test_trained_optimizer_state_reaches_keras(tmp_path, optimizer):
    k = keras()
    pydl.utils.set_random_seed(1)
    model = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(4, activation="relu"),
                             layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x, y = data((40, 6)), np.arange(40) % 3
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = k.models.load_model(tmp_path / "m.keras")
    assert type(loaded.optimizer).__name__ == type(optimizer).__name__
    state = optimizer_arrays(loaded)
    assert int(state[0]) == optimizer.iterations == 10
    kinds = [name for name, _ in optimizer._slot_specs()]
    slots = {(name, id(v)): optimizer.slots(v)[name] for v in model.trainable_weights for name in kinds}
    keras_slots = {}
    for variable in loaded.optimizer.variables[1:]:
        keras_slots[variable.path.split("/")[-1]] = value(variable)
    for layer_index, layer in enumerate(model.layers):
        keras_layer = loaded.layers[layer_index]
        for weight, keras_weight in zip(layer.weights, keras_layer.weights):
            for name in kinds:
                key = f"{keras_weight.path.replace('/', '_')}_{name}"
                np.testing.assert_array_equal(keras_slots[key], slots[(name, id(weight))])
    if not callable(optimizer._learning_rate):
        assert float(loaded.optimizer.learning_rate) == pytest.approx(optimizer.learning_rate)
    assert loaded.loss == "sparse_categorical_crossentropy"


def keras_models(k):
    """(name, model, x) built in Keras, covering the layers pydl maps."""
    k.utils.set_random_seed(2)
    out = []
    for activation in ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu",
                       "selu", "gelu", "softplus", "silu"):
        out.append((f"dense_{activation}", k.Sequential([
            k.Input((6,)), k.layers.Dense(5, activation=activation),
            k.layers.Activation(activation), k.layers.Dense(2)]), data()))
    out.append(("options", k.Sequential([
        k.Input((6,)),
        k.layers.Dense(7, activation="relu", use_bias=False, kernel_initializer="he_uniform",
                       kernel_regularizer=k.regularizers.L2(0.03), activity_regularizer="l1"),
        k.layers.Dropout(0.5, seed=1), k.layers.Dense(3, bias_initializer="ones",
                                                     bias_regularizer=k.regularizers.L1(0.2))]),
        data()))
    out.append(("flatten_3d", k.Sequential([k.Input((3, 4)), k.layers.Flatten(),
                                            k.layers.Dense(4, activation="tanh")]),
                data((10, 3, 4))))
    inner = k.Sequential([k.Input((5,)), k.layers.Dense(4, activation="relu"), k.layers.Dense(3)])
    out.append(("nested", k.Sequential([k.Input((6,)), k.layers.Dense(5), inner,
                                        k.layers.Activation("softmax")]), data()))
    no_input = k.Sequential([k.layers.Dense(3, activation="relu"), k.layers.Dense(2)])
    no_input.build((None, 6))
    out.append(("built_by_build", no_input, data()))
    return out


def test_keras_files_load_in_pydl_with_the_same_predictions(tmp_path):
    k = keras()
    for name, model, x in keras_models(k):
        path = tmp_path / f"{name}.keras"
        model.save(path)
        loaded = pydl.models.load_model(path)
        assert [type(layer).__name__ for layer in loaded.layers] == \
            [type(layer).__name__ for layer in model.layers], name
        np.testing.assert_allclose(loaded.predict(x, verbose=0),
                                   np.asarray(model.predict(x, verbose=0)), atol=TOLERANCE,
                                   rtol=0, err_msg=name)
        for mine, theirs in zip(loaded.get_weights(), weights(model)):
            np.testing.assert_array_equal(mine, theirs)


@pytest.mark.parametrize("make", [
    lambda k: k.optimizers.Adam(0.02, beta_1=0.8), lambda k: k.optimizers.Adam(amsgrad=True),
    lambda k: k.optimizers.AdamW(weight_decay=0.1), lambda k: k.optimizers.SGD(momentum=0.9),
    lambda k: k.optimizers.RMSprop(momentum=0.2, centered=True),
    lambda k: k.optimizers.Adagrad(initial_accumulator_value=0.5),
    lambda k: k.optimizers.SGD(k.optimizers.schedules.CosineDecay(0.1, 100)),
], ids=["adam", "amsgrad", "adamw", "sgd_momentum", "rmsprop", "adagrad", "schedule"])
def test_keras_optimizer_state_reaches_pydl(tmp_path, make):
    k = keras()
    k.utils.set_random_seed(3)
    model = k.Sequential([k.Input((6,)), k.layers.Dense(4, activation="relu"),
                          k.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=make(k), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", k.metrics.SparseCategoricalAccuracy(name="acc")])
    model.optimizer.build(model.trainable_variables)
    rng = np.random.default_rng(0)
    model.optimizer.iterations.assign(17)
    for v in model.optimizer.variables:
        if v.path.split("/")[-1] not in ("iteration", "learning_rate"):
            v.assign(rng.random(v.shape).astype(np.float32))
    model.save(tmp_path / "k.keras")
    loaded = pydl.models.load_model(tmp_path / "k.keras")
    optimizer = loaded.optimizer
    assert type(optimizer).__name__ == type(model.optimizer).__name__
    assert optimizer.iterations == 17
    assert optimizer.learning_rate == pytest.approx(float(np.asarray(model.optimizer.learning_rate)))
    keras_slots = {v.path.split("/")[-1]: value(v) for v in model.optimizer.variables}
    for layer, keras_layer in zip(loaded.layers, model.layers):
        for weight, keras_weight in zip(layer.weights, keras_layer.weights):
            for name, slot in optimizer.slots(weight).items():
                key = f"{keras_weight.path.replace('/', '_')}_{name}"
                np.testing.assert_array_equal(slot, keras_slots[key])
    metrics = loaded._compile_config["metrics"]
    assert [m if isinstance(m, str) else type(m).__name__ for m in metrics] == ["accuracy", "SparseCategoricalAccuracy"]
    x, y = data((12, 6)), np.arange(12) % 3
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-5)


def test_training_resumes_exactly_after_a_keras_round_trip(tmp_path):
    pydl.utils.set_random_seed(4)
    x, y = data((64, 6)), np.arange(64) % 3

    def make():
        model = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                                 layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    model = make()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    model.save(tmp_path / "m.keras")
    resumed = pydl.models.load_model(tmp_path / "m.keras")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    resumed.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_weights_h5_both_ways(tmp_path):
    k = keras()
    pydl.utils.set_random_seed(5)
    model = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(4, activation="relu"),
                             layers.Dense(2)])
    model.compile(optimizer="rmsprop", loss="mse")
    model.fit(data((16, 6)), data((16, 2)), epochs=1, verbose=0)
    model.save_weights(tmp_path / "p.weights.h5")
    twin = k.Sequential([k.Input((6,)), k.layers.Dense(4, activation="relu"), k.layers.Dense(2)])
    twin.load_weights(tmp_path / "p.weights.h5")
    x = data()
    np.testing.assert_allclose(np.asarray(twin.predict(x, verbose=0)), model.predict(x, verbose=0),
                               atol=TOLERANCE, rtol=0)
    twin.set_weights([w * 2 for w in weights(twin)])
    twin.save_weights(tmp_path / "k.weights.h5")
    model.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(model.predict(x, verbose=0), np.asarray(twin.predict(x, verbose=0)),
                               atol=TOLERANCE, rtol=0)
    # weights from a whole .keras file
    twin.save(tmp_path / "whole.keras")
    fresh = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(4, activation="relu"),
                             layers.Dense(2)])
    fresh.load_weights(tmp_path / "whole.keras")
    for a, b in zip(fresh.get_weights(), weights(twin)):
        np.testing.assert_array_equal(a, b)


def test_the_written_file_has_keras_layout(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(4), layers.Dropout(0.1),
                             layers.Dense(2)], name="net")
    model.compile(optimizer="adam", loss="mse")
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        metadata = json.loads(archive.read("metadata.json"))
        assert metadata["keras_version"].startswith("3.")
        (tmp_path / "w.h5").write_bytes(archive.read("model.weights.h5"))
    with h5py.File(tmp_path / "w.h5") as f:
        names = []
        f.visit(names.append)
        assert set(names) == {
            "vars", "layers", "layers/dense", "layers/dense/vars", "layers/dense/vars/0",
            "layers/dense/vars/1", "layers/dropout", "layers/dropout/vars", "layers/dense_1",
            "layers/dense_1/vars", "layers/dense_1/vars/0", "layers/dense_1/vars/1",
            "optimizer", "optimizer/vars"} | {f"optimizer/vars/{i}" for i in range(10)}
        assert f["vars"].attrs["name"] == "net"
        assert f["layers/dense_1/vars"].attrs["name"] == model.layers[2].name


def test_unknown_class_is_refused_by_name(tmp_path):
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    hacked = tmp_path / "hacked.keras"
    with zipfile.ZipFile(tmp_path / "m.keras") as src, zipfile.ZipFile(hacked, "w") as dst:
        for name in src.namelist():
            content = src.read(name)
            if name == "config.json":
                content = content.replace(b'"Dense"', b'"EvilLayer"')
            dst.writestr(name, content)
    with pytest.raises(ValueError, match="EvilLayer") as info:
        pydl.models.load_model(hacked)
    assert "hacked.keras" in str(info.value)


class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        return pydl.ops.multiply(pydl.ops.multiply(x, self.w), self.factor)

    def get_config(self):
        return dict(super().get_config(), factor=self.factor)


def test_custom_layers_need_custom_objects(tmp_path):
    model = pydl.Sequential([pydl.Input(shape=(3,)), Scale(3.0), layers.Dense(2)])
    model.layers[0].w.assign(np.array([1.0, 2.0, 3.0], np.float32))
    model.save(tmp_path / "c.keras")
    with pytest.raises(ValueError, match="Scale"):
        pydl.models.load_model(tmp_path / "c.keras")
    loaded = pydl.models.load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    x = data((5, 3))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_options_pydl_lacks_are_refused_by_name(tmp_path):
    k = keras()
    model = k.Sequential([k.Input((3,)), k.layers.Dense(2, kernel_constraint="non_neg")])
    model.save(tmp_path / "constraint.keras")
    with pytest.raises(ValueError, match="kernel_constraint"):
        pydl.models.load_model(tmp_path / "constraint.keras")
    model = k.Sequential([k.Input((3,)), k.layers.Dense(2)])
    model.compile(optimizer=k.optimizers.SGD(use_ema=True, momentum=0.9,
                                             ema_overwrite_frequency=5), loss="mse")
    for step in range(3):  # slots and averages exist (the numpy backend cannot fit)
        model.optimizer.apply([np.full(v.shape, 0.5 + step, "float32")
                               for v in model.trainable_variables], model.trainable_variables)
    model.save(tmp_path / "ema.keras")
    loaded = pydl.models.load_model(tmp_path / "ema.keras")  # use_ema is supported now
    optimizer = loaded.optimizer
    assert optimizer.use_ema and optimizer.ema_overwrite_frequency == 5
    for v, kv in zip(loaded.trainable_weights, model.trainable_weights):
        np.testing.assert_array_equal(optimizer.slots(v)["average"],
                                      np.asarray(model.optimizer._model_variables_moving_average[
                                          [w.path for w in model.trainable_weights].index(kv.path)]))
    loaded.save(tmp_path / "ema_back.keras")
    back = k.models.load_model(tmp_path / "ema_back.keras")
    for a, b in zip(back.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # without compiling, the optimizer is not read
    assert pydl.models.load_model(tmp_path / "ema.keras", compile=False).optimizer is None


def test_subclassed_models_cannot_be_written_in_keras_format(tmp_path):
    class Net(pydl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    net = Net()
    net(np.zeros((1, 3), np.float32))
    with pytest.raises(ValueError, match="subclassed"):
        net.save(tmp_path / "net.keras")
    assert not (tmp_path / "net.keras").exists()


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pydl\[h5\]"):
        model.save(tmp_path / "m.keras")
    with pytest.raises(ImportError, match=r"pydl\[h5\]"):
        model.save_weights(tmp_path / "m.weights.h5")


def test_reading_needs_no_h5py(tmp_path, monkeypatch):
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    model.save(tmp_path / "m.keras")
    monkeypatch.setitem(sys.modules, "h5py", None)
    loaded = pydl.models.load_model(tmp_path / "m.keras")
    for a, b in zip(loaded.get_weights(), weights(model)):
        np.testing.assert_array_equal(a, b)


def test_pydl_format_files_named_keras_still_load(tmp_path):
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "old.pydl")
    (tmp_path / "old.keras").write_bytes((tmp_path / "old.pydl").read_bytes())
    loaded = pydl.models.load_model(tmp_path / "old.keras")
    for a, b in zip(loaded.get_weights(), weights(model)):
        np.testing.assert_array_equal(a, b)
    fresh = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    fresh.load_weights(tmp_path / "old.keras")
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_weight_mismatch_is_refused_before_any_assignment(tmp_path):
    model = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(4), layers.Dense(2)])
    model.save_weights(tmp_path / "w.weights.h5")
    other = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(4), layers.Dense(3)])
    before = other.get_weights()
    with pytest.raises(ValueError, match="shape") as info:
        other.load_weights(tmp_path / "w.weights.h5")
    assert "w.weights.h5" in str(info.value)
    for a, b in zip(other.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_optimizer_saved_before_it_was_built(tmp_path):
    """Keras writes only iterations and the learning rate for an optimizer that never ran;
    pydl loads that (slots are made at the first step), and writes a full state itself."""
    k = keras()
    model = k.Sequential([k.Input((3,)), k.layers.Dense(2)])
    model.compile(optimizer=k.optimizers.Adam(0.02), loss="mse")
    model.save(tmp_path / "fresh.keras")
    loaded = pydl.models.load_model(tmp_path / "fresh.keras")
    assert not loaded.optimizer.built and loaded.optimizer.iterations == 0
    assert loaded.optimizer.learning_rate == pytest.approx(0.02)
    loaded.fit(data((8, 3)), data((8, 2)), epochs=1, verbose=0)
    assert loaded.optimizer.iterations == 1


def test_optimizer_state_of_another_size_is_skipped_with_a_warning(tmp_path):
    h5py = pytest.importorskip("h5py")
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(data((8, 3)), data((8, 2)), epochs=1, verbose=0)
    model.save_weights(tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "a") as f:
        del f["optimizer/vars/5"]
    fresh = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    fresh.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="skipping the optimizer state"):
        fresh.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not fresh.optimizer.built
