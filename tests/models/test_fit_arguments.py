"""fit / evaluate / predict / *_on_batch: arguments, validation, weights, logs, verbosity."""

import numpy as np
import pytest

import pydl
from pydl import layers


def regressor(units_in=4):
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input(shape=(units_in,)), layers.Dense(3, activation="relu"),
                             layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    return model


def classifier():
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture
def data(rng):
    x = rng.standard_normal((40, 4)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    return x, y


def test_fit_argument_validation(data):
    x, y = data
    model = regressor()
    with pytest.raises(ValueError, match="same number of samples.*40 samples.*39 samples"):
        model.fit(x, y[:39], verbose=0)
    with pytest.raises(ValueError, match="batch_size.*batch_size=0"):
        model.fit(x, y, batch_size=0, verbose=0)
    with pytest.raises(ValueError, match="batch_size.*batch_size=-4"):
        model.fit(x, y, batch_size=-4, verbose=0)
    with pytest.raises(ValueError, match="epochs.*epochs=-1"):
        model.fit(x, y, epochs=-1, verbose=0)
    for split in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=f"validation_split=.*{split}"):
            model.fit(x, y, validation_split=split, verbose=0)
    with pytest.raises(ValueError, match="verbose=3"):
        model.fit(x, y, verbose=3)
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(x, y, validation_data=(x,), verbose=0)
    with pytest.raises(ValueError, match="y: expected targets"):
        model.fit(x, verbose=0)
    with pytest.raises(TypeError, match="x: expected a numeric array"):
        model.fit(np.array(["a"] * 40), y, verbose=0)
    with pytest.raises(ValueError, match=r"sample_weight: expected shape \(40,\)"):
        model.fit(x, y, sample_weight=np.ones(39), verbose=0)
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 4\)"):
        model.fit(x[:, :3], y, verbose=0)


def test_fit_before_compile_is_a_clear_error(data):
    x, y = data
    model = pydl.Sequential([layers.Dense(1)])
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    with pytest.raises(ValueError, match="compile"):
        model.evaluate(x, y, verbose=0)


def test_empty_model_cannot_predict(data):
    with pytest.raises(ValueError, match="no layers"):
        pydl.Sequential().predict(data[0], verbose=0)


def test_target_shape_errors_explain_the_fix(rng):
    x = rng.standard_normal((10, 4)).astype(np.float32)
    model = pydl.Sequential([pydl.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy"):
        model.fit(x, rng.integers(0, 3, 10), verbose=0)
    model.compile(loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="integer class indices"):
        model.fit(x, np.full(10, 0.5), verbose=0)
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\).*from 0 to 3"):
        model.fit(x, np.arange(10) % 4, verbose=0)


def test_history_and_epochs(data):
    x, y = data
    model = regressor()
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history is model.history
    assert history.epoch == [0, 1, 2]
    assert len(history.history["loss"]) == 3 and len(history.history["mae"]) == 3
    resumed = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert resumed.epoch == [3, 4]
    assert model.fit(x, y, epochs=0, verbose=0).history == {}


def test_logged_loss_is_the_mean_over_the_epoch(data):
    x, y = data
    model = regressor()
    model.compile(optimizer=pydl.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=1, batch_size=7, shuffle=False, verbose=0)
    pred = model.predict(x, verbose=0)
    assert history.history["loss"][0] == pytest.approx(float(((pred - y) ** 2).mean()), rel=1e-5)
    assert history.history["mae"][0] == pytest.approx(float(np.abs(pred - y).mean()), rel=1e-5)
    loss, mae = model.evaluate(x, y, batch_size=9, verbose=0)
    assert loss == pytest.approx(history.history["loss"][0], rel=1e-5)
    assert mae == pytest.approx(history.history["mae"][0], rel=1e-5)


def test_validation_data_and_freq(data):
    x, y = data
    model = regressor()
    history = model.fit(x, y, epochs=4, validation_data=(x[:10], y[:10]), validation_freq=2,
                        verbose=0)
    assert len(history.history["val_loss"]) == 2
    model.compile(optimizer=pydl.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=1, validation_data=(x[:10], y[:10]), verbose=0)
    expected = model.evaluate(x[:10], y[:10], verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(expected["loss"], rel=1e-6)
    assert history.history["val_mae"][0] == pytest.approx(expected["mae"], rel=1e-6)


def test_validation_split_holds_out_the_last_samples(data):
    x, y = data
    model = regressor()
    model.compile(optimizer=pydl.optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, validation_split=0.25, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[30:], y[30:],
                                                                          verbose=0), rel=1e-6)


def test_sample_weight_zero_ignores_samples(data):
    x, y = data
    a, b = regressor(), regressor()
    weights = np.r_[np.ones(20), np.zeros(20)]
    a.fit(x, y, sample_weight=weights, epochs=2, batch_size=40, shuffle=False, verbose=0)
    b.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    # Same gradient as training on the first half alone, with the mean over 40 samples.
    b.fit(x[:20], y[:20], sample_weight=np.full(20, 0.5), epochs=2, batch_size=20,
          shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-5, atol=1e-7)


def test_class_weight_equals_sample_weight(rng):
    x = rng.standard_normal((30, 4)).astype(np.float32)
    y = rng.integers(0, 3, 30)
    a = classifier()  # seeds pydl: same init and same shuffles for both runs
    a.fit(x, y, class_weight={0: 1.0, 1: 3.0, 2: 0.5}, epochs=2, batch_size=10, verbose=0)
    b = classifier()
    b.fit(x, y, sample_weight=np.array([1.0, 3.0, 0.5])[y], epochs=2, batch_size=10, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_weighted_metrics_use_sample_weights(rng):
    model = classifier()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    x = rng.standard_normal((20, 4)).astype(np.float32)
    pred = model.predict(x, verbose=0).argmax(axis=1)
    y = pred.copy()
    y[:10] = (pred[:10] + 1) % 3  # first half wrong
    logs = model.evaluate(x, y, sample_weight=np.r_[np.zeros(10), np.ones(10)], verbose=0,
                          return_dict=True)
    assert logs["accuracy"] == pytest.approx(0.5)
    assert logs["weighted_accuracy"] == pytest.approx(1.0)


def test_evaluate_return_forms(data):
    x, y = data
    model = regressor()
    assert isinstance(model.evaluate(x, y, verbose=0), list)
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.evaluate(x, y, verbose=0), float)
    assert set(model.evaluate(x, y, verbose=0, return_dict=True)) == {"loss"}


def test_predict_batches_and_dtype(data):
    x, _ = data
    model = regressor()
    whole = model.predict(x, batch_size=64, verbose=0)
    parts = model.predict(x, batch_size=7, verbose=0)
    assert whole.shape == (40, 1) and whole.dtype == np.float32
    np.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(model.predict(x, batch_size=7, steps=2, verbose=0), parts[:14])
    np.testing.assert_array_equal(model.predict(x[:1], verbose=0), model.predict_on_batch(x[:1]))
    with pytest.raises(ValueError, match="empty"):
        model.predict(x[:0], verbose=0)


def test_on_batch_calls(data):
    x, y = data
    model = regressor()
    before = model.get_weights()
    loss, mae = model.train_on_batch(x[:8], y[:8])
    assert np.isfinite(loss) and mae >= 0
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    logs = model.test_on_batch(x[:8], y[:8], return_dict=True)
    assert set(logs) == {"loss", "mae"}
    assert model.predict_on_batch(x[:8]).shape == (8, 1)


def test_stop_training_is_honoured(data):
    x, y = data

    class StopAfterThreeBatches(pydl.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = 0

        def on_train_batch_end(self, batch, logs=None):
            self.batches += 1
            assert "loss" in logs
            if self.batches == 3:
                self.model.stop_training = True

    stopper = StopAfterThreeBatches()
    history = regressor().fit(x, y, epochs=5, batch_size=4, callbacks=[stopper], verbose=0)
    assert stopper.batches == 3 and len(history.history["loss"]) == 1


def test_callback_hooks_order(data):
    x, y = data
    calls = []

    class Recorder(pydl.callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin{epoch}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end{epoch}:{sorted(logs)}")

        def on_test_begin(self, logs=None):
            calls.append("test_begin")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    recorder = Recorder()
    regressor().fit(x, y, epochs=2, batch_size=20, validation_split=0.5, callbacks=[recorder],
                    verbose=0)
    assert recorder.model is not None and recorder.params["epochs"] == 2
    assert calls == ["train_begin", "epoch_begin0", "test_begin",
                     "epoch_end0:['loss', 'mae', 'val_loss', 'val_mae']", "epoch_begin1",
                     "test_begin", "epoch_end1:['loss', 'mae', 'val_loss', 'val_mae']",
                     "train_end"]


def test_verbose_modes(data, capsys):
    x, y = data
    model = regressor()
    model.fit(x, y, epochs=2, batch_size=10, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=2, batch_size=10, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("4/4 - ") and "loss:" in lines[1] and "mae:" in lines[1]
    model.fit(x, y, epochs=1, batch_size=10, verbose=1)
    out = capsys.readouterr().out
    # Not a terminal: no redraws, one final line per epoch.
    assert "\r" not in out and out.count("4/4 [") == 1
    model.evaluate(x, y, batch_size=10, verbose=1)
    assert "4/4 [" in capsys.readouterr().out


def test_progress_bar_redraws_on_a_terminal():
    import io

    from pydl.models.progbar import Progbar

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    bar = Progbar(4, verbose=1, stream=stream, interval=0.0)
    for step in range(1, 5):
        bar.update(step, {"loss": 1.0 / step})
    bar.update(4, {"loss": 0.25}, finalize=True)
    text = stream.getvalue()
    # steps 1-3 redraw, step 4 is left to the final line
    assert text.count("\r") == 4 and "ETA" in text and text.endswith("\n")
    assert "4/4 [====================]" in text and "loss: 0.2500" in text
