"""Callbacks: hooks called by `fit`, `evaluate` and `predict` (Keras 3 names and semantics).

    early = pydl.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[early])

A callback sees the model through `self.model` and uses only: `stop_training`,
`get_weights()` / `set_weights()`, `optimizer.learning_rate`, `save(path)`,
`save_weights(path)`, `metrics` (to know whether a metric should go up or down)
and sets `history`.
"""

from __future__ import annotations

import collections
import csv
import math
import os
import warnings

import numpy as np


class Callback:
    """Base class: override the hooks you need; `self.model` and `self.params` are set by `fit`.

    Hooks: on_train_begin/end(logs), on_epoch_begin/end(epoch, logs),
    on_train_batch_begin/end(batch, logs), on_test_begin/end(logs),
    on_test_batch_begin/end(batch, logs), on_predict_begin/end(logs),
    on_predict_batch_begin/end(batch, logs). on_train_batch_* call the older
    on_batch_begin/end, as Keras does.
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """Older name of on_train_batch_begin."""

    def on_batch_end(self, batch, logs=None):
        """Older name of on_train_batch_end."""

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass


_HOOKS = (
    "on_batch_begin", "on_batch_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
    "on_predict_batch_begin", "on_predict_batch_end", "on_train_begin", "on_train_end",
    "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end",
)


class CallbackList(Callback):
    """Holds callbacks and forwards every hook to each of them, in order.

    Args:
        callbacks: a list of `Callback`.
        add_history: append a `History` when none is in the list (what `fit` does).
        model: the model to give to every callback.
        **params: the `params` dict given to every callback (e.g. epochs, steps, verbose).
    """

    def __init__(self, callbacks=None, add_history=False, model=None, **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks: expected pydl.callbacks.Callback objects, received {type(cb).__name__}")
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)

    def append(self, callback):
        self.callbacks.append(callback)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def set_model(self, model):
        self._model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


def _dispatcher(hook, indexed):
    if indexed:  # (batch or epoch, logs)
        def dispatch(self, index, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(index, logs=logs)
    else:
        def dispatch(self, logs=None):
            for cb in self.callbacks:
                getattr(cb, hook)(logs=logs)
    dispatch.__name__ = hook
    dispatch.__doc__ = f"Calls `{hook}` of every callback, in order."
    return dispatch


for _hook in _HOOKS:
    setattr(CallbackList, _hook, _dispatcher(_hook, indexed="batch" in _hook or "epoch" in _hook))


class History(Callback):
    """Records the logs of every epoch; `fit` returns it and sets it as `model.history`.

    Attributes:
        history: dict from log key ("loss", "val_accuracy", ...) to the list of per-epoch values.
        epoch: list of the epoch indices seen.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        model = self.model
        # Set only when it changes: on a Model, each attribute set runs Layer's tracking.
        if model is not None and getattr(model, "history", None) is not self:
            model.history = self


# --------------------------------------------------------------------------- monitoring helpers
def _metric_direction(monitor: str, model) -> str | None:
    """"up", "down" or None: which way `monitor` improves, from the model's metrics or known names."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "down"
    found = []
    for m in list(getattr(model, "metrics", None) or []):
        found.extend(getattr(m, "metrics", None) or [m])
    for m in found:
        if getattr(m, "name", None) == name and getattr(m, "_direction", None) in ("up", "down"):
            return m._direction
    from . import metrics as metrics_module

    cls = metrics_module._BY_NAME.get(name)
    if cls is not None and cls._direction is not None:
        return cls._direction
    if "acc" in name or name.startswith(("auc", "precision", "recall", "fmeasure")):
        return "up"
    if name.startswith(("mse", "mae", "mean_squared_error", "mean_absolute_error")):
        return "down"
    return None


def _check_mode(mode: str, owner: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode {mode} is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def _scalar(value) -> float:
    return float(np.asarray(value))


class EarlyStopping(Callback):
    """Stops training when a monitored quantity has stopped improving.

    ```python
    improved = current - min_delta > best     # mode "max" ("min": current + min_delta < best)
    if improved: best, wait = current, 0      # (wait resets only if also better than baseline)
    else: wait += 1; stop when wait >= patience (never at epoch 0)
    ```

    Args:
        monitor: the log key to watch, e.g. "val_loss" or "val_accuracy".
        min_delta: smallest change that counts as an improvement.
        patience: epochs without improvement before stopping.
        verbose: 1 prints when stopping and restoring.
        mode: "min", "max", or "auto" (from the metric: losses go down, accuracies up).
        baseline: training stops if the model does not beat this value within `patience` epochs.
        restore_best_weights: at the end, set the weights of the best epoch seen.
        start_from_epoch: epochs to wait before starting to monitor.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(min_delta)
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.mode = _check_mode(mode, "EarlyStopping")
        self.monitor_op = None
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def _set_monitor_op(self):
        direction = {"min": "down", "max": "up"}.get(self.mode) or _metric_direction(self.monitor, self.model)
        if direction is None:
            raise ValueError(
                f"EarlyStopping callback received monitor={self.monitor} but pydl isn't able to "
                "automatically determine whether that metric should be maximized or minimized. Pass "
                "`mode='max'` in order to do early stopping based on the highest metric value, or pass "
                "`mode='min'` in order to use the lowest value."
            )
        self.monitor_op = np.greater if direction == "up" else np.less
        if self.monitor_op is np.less:
            self.min_delta = -abs(self.min_delta)

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self._monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = [np.array(w, copy=True) for w in self.model.get_weights()]
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def _monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}",
                stacklevel=3,
            )
            return None
        return _scalar(value)

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        return bool(self.monitor_op(value - self.min_delta, reference))


class ModelCheckpoint(Callback):
    """Saves the model (or its weights) every epoch or every `save_freq` batches.

    `filepath` may hold format fields filled from the epoch (1-based), the batch and the logs:
    ``"ckpt-{epoch:02d}-{val_loss:.2f}.pydl"``.

    Args:
        filepath: where to save; the directory is created if needed.
        monitor: the log key compared when `save_best_only`.
        verbose: 1 prints a line per save.
        save_best_only: save only when `monitor` improves on the best seen.
        save_weights_only: call `model.save_weights(path)` instead of `model.save(path)`.
        mode: "min", "max", or "auto" (from the metric: losses go down, accuracies up).
        save_freq: "epoch", or an int: save after that many batches.
        initial_value_threshold: the best value to beat at the start (with `save_best_only`).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq!r}. Expected save_freq are 'epoch' or integer values >= 1"
            )
        self.save_freq = save_freq
        self.mode = _check_mode(mode, "ModelCheckpoint")
        self.initial_value_threshold = initial_value_threshold
        self.monitor_op = None
        self.best = initial_value_threshold
        self._current_epoch = 0
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0

    def _set_monitor_op(self):
        direction = {"min": "down", "max": "up"}.get(self.mode) or _metric_direction(self.monitor, self.model)
        self.monitor_op = np.greater if direction == "up" else np.less
        if self.best is None:
            self.best = -math.inf if direction == "up" else math.inf

    def on_train_batch_end(self, batch, logs=None):
        if self._should_save_on_batch(batch):
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save_model(epoch, None, logs)

    def _should_save_on_batch(self, batch):
        if self.save_freq == "epoch":
            return False
        add = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            return True
        return False

    def _file_path(self, epoch, batch, logs):
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as e:
            raise KeyError(f'Failed to format this callback filepath: "{self.filepath}". Reason: {e}') from None

    def _save_model(self, epoch, batch, logs):
        logs = dict(logs or {})
        if self.monitor_op is None:
            self._set_monitor_op()
        filepath = self._file_path(epoch, batch, logs)
        if os.path.isdir(filepath):
            raise IsADirectoryError(
                "Please specify a non-directory filepath for ModelCheckpoint. Filepath used is an existing "
                f"directory: {filepath}"
            )
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available, skipping.", stacklevel=3)
                return
            current = _scalar(current)
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {filepath}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        dirname = os.path.dirname(filepath)
        if dirname:
            os.makedirs(dirname, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath)
        else:
            self.model.save(filepath)


class ReduceLROnPlateau(Callback):
    """Multiplies the learning rate by `factor` when `monitor` has stopped improving.

    ```python
    if improved(current, best): best, wait = current, 0      # by more than min_delta
    elif not in cooldown:
        wait += 1
        if wait >= patience and lr > min_lr:
            lr = max(lr * factor, min_lr); cooldown_counter = cooldown; wait = 0
    ```

    Args:
        monitor: the log key to watch.
        factor: the multiplier (< 1).
        patience: epochs without improvement before reducing.
        verbose: 1 prints each reduction.
        mode: "min", "max", or "auto" (from the metric).
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction before counting again.
        min_lr: the rate never goes below this.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = _check_mode(mode, "Learning rate reduction")
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.monitor_op = None
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self):
        direction = {"min": "down", "max": "up"}.get(self.mode) or _metric_direction(self.monitor, self.model)
        if direction == "up":
            self.monitor_op = lambda a, b: a > b + self.min_delta
            self.best = -math.inf
        else:
            self.monitor_op = lambda a, b: a < b - self.min_delta
            self.best = math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._reset()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = _scalar(self.model.optimizer.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        current = _scalar(current)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.monitor_op(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = _scalar(self.model.optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Sets the learning rate at the start of every epoch to ``schedule(epoch, lr)``.

    Args:
        schedule: a function ``(epoch, lr) -> float`` (0-based epoch; ``schedule(epoch)`` works too).
        verbose: 1 prints the rate set.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"schedule: expected a callable (epoch, lr) -> float, received {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, _scalar(optimizer.learning_rate))
        except TypeError:  # the older one-argument form, schedule(epoch)
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(f"The output of the `schedule` function should be a float. Got: {learning_rate!r}")
        optimizer.learning_rate = float(learning_rate)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _scalar(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite, and says where."""

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(_scalar(loss)):
            print(f"Epoch {self._epoch + 1}, batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Writes one CSV row per epoch: the epoch (0-based) and the logs, keys sorted.

    Args:
        filename: the CSV file.
        separator: the field separator.
        append: append to an existing file (no second header) instead of overwriting it.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.writer = None
        self.keys = None
        self.append_header = True
        self.csv_file = None

    def on_train_begin(self, logs=None):
        mode = "w"
        if self.append:
            if os.path.exists(self.filename):
                with open(self.filename) as f:
                    self.append_header = not bool(len(f.readline()))
            mode = "a"
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.csv_file = open(self.filename, mode, newline="")
        self.writer = None
        self.keys = None

    @staticmethod
    def _format(value):
        if isinstance(value, str):
            return value
        if isinstance(value, collections.abc.Iterable) and not (isinstance(value, np.ndarray) and value.ndim == 0):
            return f"\"[{', '.join(map(str, value))}]\""
        return value

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(k.startswith("val_") for k in self.keys):
                # Validation may start later (validation_freq): keep columns for it from the start.
                self.keys.extend("val_" + k for k in list(self.keys))
        if self.writer is None:
            class Dialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys, dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, self._format(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None
