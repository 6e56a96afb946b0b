"""Saving: save -> load -> predict, bitwise resume, atomic writes, damaged files."""

import json
import os
import zipfile

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.models import saving


def make_model(seed=0, dropout=0.25, fused=False):
    """With ``fused``, no dropout and no regularizer."""
    pydl.utils.set_random_seed(seed)
    regularizer = None if fused else pydl.regularizers.L2(1e-3)
    model = pydl.Sequential([
        pydl.Input(shape=(6,)),
        layers.Dense(12, activation="relu", kernel_regularizer=regularizer),
        *([] if fused else [layers.Dropout(dropout)]),
        layers.Dense(3, activation="softmax"),
    ], name="classifier")
    model.compile(optimizer=pydl.optimizers.Adam(learning_rate=0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture
def data(rng):
    x = rng.standard_normal((96, 6)).astype(np.float32)
    y = rng.integers(0, 3, 96)
    return x, y


def test_save_load_predict_identical(tmp_path, data):
    x, y = data
    model = make_model()
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "model.pydl"
    model.save(path)
    loaded = pydl.models.load_model(path)
    assert isinstance(loaded, pydl.Sequential) and loaded.name == "classifier"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 12
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "Dropout", "Dense"]
    assert loaded.layers[0].kernel_regularizer.l2 == pytest.approx(1e-3)


def test_file_is_a_zip_of_json_and_npy(tmp_path, data):
    path = tmp_path / "m.pydl"
    make_model().save(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        config = json.loads(archive.read("config.json"))
    assert "weights/00000.npy" in names and "optimizer/00000.npy" not in names
    assert config["format"] == "pydl.model" and config["class_name"] == "Sequential"
    assert config["optimizer"]["class_name"] == "Adam"
    assert [entry["class_name"] for entry in config["config"]["layers"]] == \
        ["InputLayer", "Dense", "Dropout", "Dense"]
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]


@pytest.mark.parametrize("fused, on_plan", [(False, False), (True, True), (False, True)],
                         ids=["tape", "plan", "plan-dropout-regularizer"])
def test_resume_is_bitwise_identical_to_an_uninterrupted_run(tmp_path, data, fused, on_plan):
    import contextlib

    from pydl.models import plan as _plan

    x, y = data
    path = contextlib.nullcontext if on_plan else _plan.disabled
    straight = make_model(seed=3, fused=fused)
    with path():
        assert (_plan.plan_reason(straight) is None) == on_plan
        straight.fit(x, y, epochs=4, batch_size=16, verbose=0)

        first = make_model(seed=3, fused=fused)
        first.fit(x, y, epochs=2, batch_size=16, verbose=0)
        first.save(tmp_path / "checkpoint.pydl")
        resumed = pydl.models.load_model(tmp_path / "checkpoint.pydl")
        resumed.fit(x, y, epochs=4, initial_epoch=2, batch_size=16, verbose=0)

    for a, b in zip(straight.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(straight.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_array_equal(a, b)


def test_save_weights_load_weights(tmp_path, data):
    x, _ = data
    model = make_model(seed=1)
    model.save_weights(tmp_path / "w.weights.npz")
    other = make_model(seed=2)
    assert not np.array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    other.load_weights(tmp_path / "w.weights.npz")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    with np.load(tmp_path / "w.weights.npz", allow_pickle=False) as archive:
        assert len(archive.files) == 4
    third = make_model(seed=3)  # weights also load from a whole model file
    model.save(tmp_path / "full.pydl")
    third.load_weights(tmp_path / "full.pydl")
    np.testing.assert_array_equal(third.predict(x, verbose=0), model.predict(x, verbose=0))


def test_load_weights_checks_shapes(tmp_path):
    make_model().save_weights(tmp_path / "w.weights.npz")
    wider = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(13), layers.Dense(3)])
    with pytest.raises(ValueError, match=r"w\.weights\.npz.*shape \(6, 13\).*\(6, 12\)"):
        wider.load_weights(tmp_path / "w.weights.npz")
    fewer = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="expects 2 arrays.*received 4"):
        fewer.load_weights(tmp_path / "w.weights.npz")


def test_atomic_save_keeps_the_old_file_when_writing_fails(tmp_path, monkeypatch, data):
    path = tmp_path / "model.pydl"
    model = make_model()
    model.save(path)
    before = path.read_bytes()
    model.fit(*data, epochs=1, verbose=0)

    calls = {"n": 0}
    real_write = saving._write_array

    def failing_write(archive, name, array):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        real_write(archive, name, array)

    monkeypatch.setattr(saving, "_write_array", failing_write)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["model.pydl"]
    with pytest.raises(OSError, match="disk full"):
        calls["n"] = 0
        model.save_weights(tmp_path / "w.weights.npz")
    assert sorted(os.listdir(tmp_path)) == ["model.pydl"]


def test_overwrite_false(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.pydl")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(tmp_path / "m.pydl", overwrite=False)


def test_load_errors_name_the_file_and_the_problem(tmp_path):
    model = make_model()
    good = tmp_path / "good.pydl"
    model.save(good)

    with pytest.raises(FileNotFoundError, match="missing.pydl"):
        pydl.models.load_model(tmp_path / "missing.pydl")

    foreign = tmp_path / "foreign.pydl"
    foreign.write_bytes(b"this is not a zip file at all")
    with pytest.raises(ValueError, match="foreign.pydl.*not a readable zip"):
        pydl.models.load_model(foreign)

    truncated = tmp_path / "truncated.pydl"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ValueError, match="truncated.pydl"):
        pydl.models.load_model(truncated)

    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match="other.zip.*no config.json"):
        pydl.models.load_model(other_zip)

    def rewrite(name, mutate):
        target = tmp_path / name
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(target, "w") as dst:
            for item in src.infolist():
                data = src.read(item.filename)
                result = mutate(item.filename, data)
                if result is not None:
                    dst.writestr(item.filename, result)
        return target

    bad_json = rewrite("badjson.pydl", lambda n, d: b"{not json" if n == "config.json" else d)
    with pytest.raises(ValueError, match="badjson.pydl.*config.json is damaged"):
        pydl.models.load_model(bad_json)

    def rename_class(n, d):
        if n != "config.json":
            return d
        config = json.loads(d)
        config["config"]["layers"][1]["class_name"] = "EvilLayer"
        return json.dumps(config).encode()

    with pytest.raises(ValueError, match="unknown.pydl.*EvilLayer.*custom_objects"):
        pydl.models.load_model(rewrite("unknown.pydl", rename_class))

    missing = rewrite("noweights.pydl", lambda n, d: None if n == "weights/00002.npy" else d)
    with pytest.raises(ValueError, match="noweights.pydl.*weights/00002.npy.*missing"):
        pydl.models.load_model(missing)

    corrupt = rewrite("corrupt.pydl",
                      lambda n, d: d[:20] + b"garbage" if n == "weights/00000.npy" else d)
    with pytest.raises(ValueError, match="corrupt.pydl.*weights/00000.npy.*damaged"):
        pydl.models.load_model(corrupt)

    def pickled(n, d):
        if n != "weights/00001.npy":
            return d
        import io
        buffer = io.BytesIO()
        np.save(buffer, np.array([object()], dtype=object), allow_pickle=True)
        return buffer.getvalue()

    with pytest.raises(ValueError, match="pickled.pydl.*weights/00001.npy"):
        pydl.models.load_model(rewrite("pickled.pydl", pickled))

    def wrong_shape(n, d):
        if n != "weights/00001.npy":
            return d
        import io
        buffer = io.BytesIO()
        np.save(buffer, np.zeros(5, np.float32))
        return buffer.getvalue()

    with pytest.raises(ValueError, match=r"wrongshape.pydl.*shape \(12,\).*\(5,\)"):
        pydl.models.load_model(rewrite("wrongshape.pydl", wrong_shape))


def test_load_does_not_consume_the_global_random_stream(tmp_path):
    from pydl import _random

    make_model().save(tmp_path / "m.pydl")
    pydl.utils.set_random_seed(9)
    expected = _random.generator().random(3)
    pydl.utils.set_random_seed(9)
    pydl.models.load_model(tmp_path / "m.pydl")
    np.testing.assert_array_equal(_random.generator().random(3), expected)


def test_custom_layer_round_trip_with_custom_objects(tmp_path, rng):
    class Scale(layers.Layer):
        def __init__(self, factor=2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = pydl.Sequential([pydl.Input(shape=(3,)), Scale(3.0), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "custom.pydl")
    with pytest.raises(ValueError, match="Scale"):
        pydl.models.load_model(tmp_path / "custom.pydl")
    loaded = pydl.models.load_model(tmp_path / "custom.pydl", custom_objects={"Scale": Scale})
    x = rng.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[0].factor == 3.0


def test_subclassed_model_round_trip(tmp_path, rng):
    class Net(pydl.Model):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = layers.Dense(units, activation="tanh")
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = Net(units=5)
    model.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((20, 3)).astype(np.float32)
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    model.save(tmp_path / "net.pydl")
    loaded = pydl.models.load_model(tmp_path / "net.pydl", custom_objects={"Net": Net})
    assert loaded.units == 5
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations


def test_unbuilt_model_cannot_be_saved(tmp_path):
    with pytest.raises(ValueError, match="not been built"):
        pydl.Sequential([layers.Dense(2)]).save(tmp_path / "m.pydl")


def test_optimizer_with_schedule_round_trip(tmp_path, data):
    x, y = data
    schedule = pydl.optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5)
    model = make_model()
    model.compile(optimizer=pydl.optimizers.SGD(schedule, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    model.save(tmp_path / "sched.pydl")
    loaded = pydl.models.load_model(tmp_path / "sched.pydl")
    assert isinstance(loaded.optimizer, pydl.optimizers.SGD)
    assert loaded.optimizer.iterations == 3
    assert loaded.optimizer.learning_rate == pytest.approx(model.optimizer.learning_rate)
    assert loaded.metrics_names == ["loss", "accuracy"]


def test_model_checkpoint_files_load_back(tmp_path, data):
    x, y = data
    model = make_model(fused=True)
    checkpoint = pydl.callbacks.ModelCheckpoint(str(tmp_path / "best.pydl"), monitor="loss",
                                                save_best_only=True)
    weights_only = pydl.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}.weights.npz"),
                                                  save_weights_only=True)
    history = model.fit(x, y, epochs=3, batch_size=16, callbacks=[checkpoint, weights_only],
                        verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]  # the last is the best
    best = pydl.models.load_model(tmp_path / "best.pydl")
    np.testing.assert_array_equal(best.predict(x, verbose=0), model.predict(x, verbose=0))
    first = make_model(seed=5, fused=True)
    first.load_weights(tmp_path / "e1.weights.npz")
    assert not np.array_equal(first.get_weights()[0], model.get_weights()[0])
    first.load_weights(tmp_path / "e3.weights.npz")
    np.testing.assert_array_equal(first.get_weights()[0], model.get_weights()[0])
