"""Each callback's effect, shown on a fake model driven like fit drives it (fake_model.py)."""

import csv

import numpy as np
import pytest

from pydl import callbacks, metrics

from .fake_model import FakeModel, run_fit


def logs_for(val_losses, **extra):
    return [dict({"loss": 1.0, "val_loss": v}, **{k: vals[i] for k, vals in extra.items()})
            for i, v in enumerate(val_losses)]


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name.startswith("on_") and name not in ("on_batch_begin", "on_batch_end"):
            calls = object.__getattribute__(self, "calls")

            def record(*args, logs=None):
                calls.append((name,) + args)

            return record
        return object.__getattribute__(self, name)


def test_callback_list_dispatches_every_hook_in_order():
    rec = Recorder()
    model = FakeModel()
    run_fit(model, [rec], logs_for([1.0, 0.5]), steps=1)
    names = [c[0] for c in rec.calls]
    assert names == ["on_train_begin",
                     "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_epoch_end",
                     "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_epoch_end",
                     "on_train_end"]
    cbs = callbacks.CallbackList([rec], model=model, verbose=2)
    assert rec.model is model and rec.params == {"verbose": 2}
    for hook in ("on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end"):
        getattr(cbs, hook)({})
    for hook in ("on_test_batch_begin", "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end"):
        getattr(cbs, hook)(3, {})
    assert [c[0] for c in rec.calls[-8:]] == ["on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
                                              "on_test_batch_begin", "on_test_batch_end",
                                              "on_predict_batch_begin", "on_predict_batch_end"]
    with pytest.raises(TypeError, match="callbacks"):
        callbacks.CallbackList([object()])


def test_train_batch_hooks_call_the_older_batch_hooks():
    seen = []

    class Old(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    run_fit(FakeModel(), [Old()], logs_for([1.0]), steps=3)
    assert seen == [0, 1, 2]


def test_history_records_epochs_and_sets_model_history():
    model = FakeModel()
    history, _ = run_fit(model, [], logs_for([0.9, 0.8, 0.7], accuracy=[0.1, 0.2, 0.3]))
    assert history.epoch == [0, 1, 2]
    assert history.history == {"loss": [1.0] * 3, "val_loss": [0.9, 0.8, 0.7], "accuracy": [0.1, 0.2, 0.3]}
    assert model.history is history


def test_early_stopping_stops_after_patience_and_restores_best_weights(capsys):
    model = FakeModel()
    early = callbacks.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    _, epochs = run_fit(model, [early], logs_for([1.0, 0.5, 0.6, 0.7, 0.4, 0.3]))
    assert epochs == 4 and early.stopped_epoch == 3 and early.best_epoch == 1 and early.best == 0.5
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])  # the weights of epoch 1
    out = capsys.readouterr().out
    assert "Epoch 4: early stopping" in out and "best epoch: 2" in out


def test_early_stopping_min_delta_mode_auto_for_accuracy_and_baseline():
    model = FakeModel()
    # val_accuracy goes up by less than min_delta: not an improvement -> stop after patience 1
    early = callbacks.EarlyStopping(monitor="val_accuracy", min_delta=0.05, patience=1)
    _, epochs = run_fit(model, [early], logs_for([1, 1, 1, 1], val_accuracy=[0.5, 0.52, 0.53, 0.9]))
    assert epochs == 2
    # improving on the best but not on the baseline does not reset the wait
    values = [1.0, 0.9, 0.95, 0.96, 0.97, 0.98]
    _, epochs = run_fit(model, [callbacks.EarlyStopping(baseline=0.1, patience=2)], logs_for(values))
    assert epochs == 3
    _, epochs = run_fit(model, [callbacks.EarlyStopping(patience=2)], logs_for(values))
    assert epochs == 4
    late = callbacks.EarlyStopping(patience=0, start_from_epoch=3)
    _, epochs = run_fit(model, [late], logs_for([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    assert epochs == 5


def test_early_stopping_missing_monitor_warns_and_unknown_direction_raises():
    model = FakeModel()
    with pytest.warns(UserWarning, match="val_auc.*not available. Available metrics are: loss,val_loss"):
        _, epochs = run_fit(model, [callbacks.EarlyStopping(monitor="val_auc")], logs_for([1.0, 2.0]))
    assert epochs == 2
    with pytest.raises(ValueError, match="mode='max'"):
        run_fit(model, [callbacks.EarlyStopping(monitor="weird")], [{"weird": 1.0}])
    model.metrics.append(metrics.get(lambda y_true, y_pred: y_pred - y_true))  # direction unknown
    model.metrics[-1].name = "gap"
    with pytest.raises(ValueError, match="monitor=val_gap"):
        run_fit(model, [callbacks.EarlyStopping(monitor="val_gap")], [{"val_gap": 1.0}])
    falling = [{"val_gap": 1.0}, {"val_gap": 0.5}, {"val_gap": 0.2}]
    _, epochs = run_fit(model, [callbacks.EarlyStopping(monitor="val_gap", mode="max")], falling)
    assert epochs == 2
    model.metrics[-1]._direction = "down"  # what the model's metric says wins in mode "auto"
    _, epochs = run_fit(model, [callbacks.EarlyStopping(monitor="val_gap")], falling)
    assert epochs == 3
    with pytest.warns(UserWarning, match="mode nonsense is unknown"):
        callbacks.EarlyStopping(mode="nonsense")


def test_model_checkpoint_formats_paths_and_saves_each_epoch(tmp_path):
    model = FakeModel()
    path = str(tmp_path / "sub" / "ckpt-{epoch:02d}-{val_loss:.2f}.pydl")
    run_fit(model, [callbacks.ModelCheckpoint(path)], logs_for([0.5, 0.25]))
    assert [p for _, p in model.saved] == [str(tmp_path / "sub" / "ckpt-01-0.50.pydl"),
                                           str(tmp_path / "sub" / "ckpt-02-0.25.pydl")]
    assert all(kind == "model" for kind, _ in model.saved)


def test_model_checkpoint_save_best_only_weights(tmp_path, capsys):
    model = FakeModel()
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "w{epoch}.weights.npz"), save_best_only=True,
                                     save_weights_only=True, verbose=1)
    run_fit(model, [ckpt], logs_for([0.5, 0.7, 0.4, 0.45]))
    assert model.saved == [("weights", str(tmp_path / "w1.weights.npz")), ("weights", str(tmp_path / "w3.weights.npz"))]
    assert "val_loss did not improve from 0.50000" in capsys.readouterr().out
    best_acc = callbacks.ModelCheckpoint(str(tmp_path / "a{epoch}"), monitor="val_accuracy", save_best_only=True)
    model.saved.clear()
    run_fit(model, [best_acc], logs_for([1, 1, 1], val_accuracy=[0.5, 0.4, 0.6]))
    assert [p for _, p in model.saved] == [str(tmp_path / "a1"), str(tmp_path / "a3")]
    with pytest.warns(UserWarning, match="Can save best model only with val_auc available"):
        run_fit(model, [callbacks.ModelCheckpoint(str(tmp_path / "x"), monitor="val_auc", save_best_only=True)],
                logs_for([1.0]))


def test_model_checkpoint_every_n_batches(tmp_path):
    model = FakeModel()
    ckpt = callbacks.ModelCheckpoint(str(tmp_path / "e{epoch}b{batch}"), save_freq=3)
    run_fit(model, [ckpt], logs_for([1.0, 1.0]), steps=4)  # batches seen: 3 -> save, then 3 more -> save
    assert [p for _, p in model.saved] == [str(tmp_path / "e1b3"), str(tmp_path / "e2b2")]
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("x", save_freq="batch")
    with pytest.raises(KeyError, match="Failed to format"):
        run_fit(model, [callbacks.ModelCheckpoint(str(tmp_path / "{nope}"))], logs_for([1.0]))


def test_reduce_lr_on_plateau_with_cooldown_and_min_lr():
    model = FakeModel(learning_rate=1.0)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.3)
    history, _ = run_fit(model, [reduce], logs_for([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]))
    # logs show the rate the epoch ran with. Epochs 1, 2 don't improve: 0.5 from epoch 3, which is
    # the cooldown; epochs 3, 4 count again: max(0.25, min_lr) = 0.3 from epoch 5; then it stays.
    assert history.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5, 0.5, 0.3, 0.3, 0.3]
    assert model.optimizer.learning_rate == 0.3
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.warns(UserWarning, match="conditioned on metric `val_auc`"):
        run_fit(model, [callbacks.ReduceLROnPlateau(monitor="val_auc")], logs_for([1.0]))


def test_learning_rate_scheduler_sets_rate_each_epoch():
    model = FakeModel(learning_rate=0.8)
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: lr / 2 if epoch > 0 else lr)
    history, _ = run_fit(model, [sched], logs_for([1.0, 1.0, 1.0]))
    assert history.history["learning_rate"] == [0.8, 0.4, 0.2]
    one_arg = callbacks.LearningRateScheduler(lambda epoch: 0.1 * (epoch + 1))
    run_fit(model, [one_arg], logs_for([1.0, 1.0]))
    assert model.optimizer.learning_rate == pytest.approx(0.2)
    with pytest.raises(ValueError, match="should be a float"):
        run_fit(model, [callbacks.LearningRateScheduler(lambda epoch, lr: "fast")], logs_for([1.0]))


def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    model = FakeModel()
    losses = [[1.0, 0.5, 0.4], [0.3, float("nan"), 0.1], [0.1, 0.1, 0.1]]
    history, epochs = run_fit(model, [callbacks.TerminateOnNaN()], logs_for([1.0, 1.0, 1.0]), losses, steps=3)
    assert epochs == 2 and model.stop_training
    assert "Epoch 2, batch 1: Invalid loss, terminating training" in capsys.readouterr().out
    _, epochs = run_fit(model, [callbacks.TerminateOnNaN()], logs_for([1.0]), [[float("inf"), 1.0]])
    assert epochs == 1


def test_csv_logger_writes_rows_and_appends(tmp_path):
    path = tmp_path / "log.csv"
    model = FakeModel()
    run_fit(model, [callbacks.CSVLogger(path)], logs_for([0.5, 0.25], accuracy=[0.1, 0.2]))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert [float(r["val_loss"]) for r in rows] == [0.5, 0.25]
    assert list(rows[0]) == ["epoch", "accuracy", "loss", "val_loss"]
    run_fit(model, [callbacks.CSVLogger(path, separator=";", append=True)], logs_for([0.125], accuracy=[0.3]))
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[-1] == "0;0.3;1.0;0.125"
    run_fit(model, [callbacks.CSVLogger(path)], [{"loss": 2.0}])  # no validation yet: val_ columns kept
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows == [{"epoch": "0", "loss": "2.0", "val_loss": "NA"}]
