"""Each callback's effect on a real (tiny) model trained by fit."""

import csv

import numpy as np
import pytest

import pydl
from pydl import callbacks, layers


def tiny_problem(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    return x, y


def tiny_model(optimizer="sgd"):
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(4, activation="tanh"), layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


class WeightsPerEpoch(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])


def test_fit_returns_the_history():
    x, y = tiny_problem()
    model = tiny_model()
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert isinstance(history, callbacks.History) and model.history is history
    assert history.epoch == [0, 1, 2] and set(history.history) == {"loss", "val_loss"}
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_early_stopping_stops_and_restores_the_best_weights():
    x, y = tiny_problem()
    model = tiny_model()
    seen = WeightsPerEpoch()
    # No decrease of the loss is ever as large as min_delta: the best stays epoch 0.
    early = callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=50, batch_size=16, callbacks=[seen, early], verbose=0)
    assert len(history.epoch) == 3 and early.stopped_epoch == 2 and model.stop_training
    for restored, best in zip(model.get_weights(), seen.weights[0]):
        np.testing.assert_array_equal(restored, best)
    assert not np.array_equal(seen.weights[2][0], seen.weights[0][0])


def test_model_checkpoint_writes_models_and_weights_that_load(tmp_path):
    x, y = tiny_problem()
    model = tiny_model()
    every = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}.pydl"), monitor="loss")
    best = callbacks.ModelCheckpoint(str(tmp_path / "best.weights.npz"), monitor="loss", save_best_only=True,
                                     save_weights_only=True)
    model.fit(x, y, epochs=3, batch_size=16, callbacks=[every, best], verbose=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.weights.npz", "m-01.pydl", "m-02.pydl",
                                                          "m-03.pydl"]
    loaded = pydl.models.load_model(tmp_path / "m-03.pydl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    fresh = tiny_model()
    fresh.load_weights(tmp_path / "best.weights.npz")
    for a, b in zip(fresh.get_weights(), model.get_weights()):  # the loss fell every epoch: best = last
        np.testing.assert_array_equal(a, b)


def test_reduce_lr_on_plateau_lowers_the_optimizer_rate():
    x, y = tiny_problem()
    model = tiny_model(pydl.optimizers.SGD(0.08))
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", min_delta=100.0, patience=1, factor=0.5, min_lr=0.015)
    history = model.fit(x, y, epochs=5, batch_size=16, callbacks=[reduce], verbose=0)
    # logs hold the rate each epoch ran with; it is halved after every epoch but the first, down to min_lr
    assert history.history["learning_rate"] == pytest.approx([0.08, 0.08, 0.04, 0.02, 0.015])
    assert model.optimizer.learning_rate == pytest.approx(0.015)


def test_learning_rate_scheduler_zero_rate_freezes_the_weights():
    x, y = tiny_problem()
    model = tiny_model()
    initial = model.get_weights()
    seen = WeightsPerEpoch()
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.05 if epoch == 0 else 0.0)
    history = model.fit(x, y, epochs=3, batch_size=16, callbacks=[sched, seen], verbose=0)
    assert history.history["learning_rate"] == [0.05, 0.0, 0.0]
    assert not np.array_equal(initial[0], seen.weights[0][0])  # epoch 0 learns
    for epoch in (1, 2):  # then nothing moves
        for a, b in zip(seen.weights[0], seen.weights[epoch]):
            np.testing.assert_array_equal(a, b)


def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    x, y = tiny_problem()
    y[20] = np.nan  # the second batch of 16 holds it (no shuffling)
    model = tiny_model()
    # check_finite=False: let the NaN reach the loss instead of being refused up front.
    history = model.fit(x, y, epochs=5, batch_size=16, shuffle=False, callbacks=[callbacks.TerminateOnNaN()],
                        verbose=0, check_finite=False)
    assert len(history.epoch) == 1 and model.stop_training
    assert "Epoch 1, batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_csv_logger_rows_match_the_history(tmp_path):
    x, y = tiny_problem()
    model = tiny_model()
    path = tmp_path / "training.csv"
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25,
                        callbacks=[callbacks.CSVLogger(path)], verbose=0)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["loss"]) for r in rows] == pytest.approx(history.history["loss"])
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(history.history["val_loss"])
