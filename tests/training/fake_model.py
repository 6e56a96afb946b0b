"""A stand-in for a compiled model, exposing exactly what callbacks use, and a fit-like driver.

Each epoch "trains" by setting the weights to [epoch] and reports scripted logs, so that a
test can say which epoch's weights a callback kept and when training stopped.
"""

from __future__ import annotations

import numpy as np

from pydl import callbacks as callbacks_module
from pydl import metrics, optimizers


class FakeModel:
    def __init__(self, learning_rate=0.1):
        self.stop_training = False
        self.optimizer = optimizers.SGD(learning_rate)
        self.metrics = [metrics.get("accuracy", loss="sparse_categorical_crossentropy"), metrics.AUC()]
        self.weights = [np.zeros(2), np.zeros(1)]
        self.saved = []  # (kind, path) in order

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save(self, path):
        self.saved.append(("model", path))
        with open(path, "w") as f:
            f.write("model")

    def save_weights(self, path):
        self.saved.append(("weights", path))
        with open(path, "w") as f:
            f.write("weights")


def run_fit(model, callbacks, epoch_logs, batch_losses=None, steps=2):
    """Drives callbacks the way fit does. epoch_logs: one dict per epoch; batch_losses[e][b] optional.

    Returns the History and the number of epochs run.
    """
    cbs = callbacks_module.CallbackList(callbacks, add_history=True, model=model, epochs=len(epoch_logs),
                                        steps=steps, verbose=0)
    model.stop_training = False
    cbs.on_train_begin()
    epochs_run = 0
    for epoch, logs in enumerate(epoch_logs):
        cbs.on_epoch_begin(epoch)
        for batch in range(steps):
            cbs.on_train_batch_begin(batch)
            model.weights = [np.full(2, float(epoch)), np.full(1, float(epoch))]
            loss = batch_losses[epoch][batch] if batch_losses else 1.0
            cbs.on_train_batch_end(batch, {"loss": loss})
            if model.stop_training:
                break
        logs = dict(logs)
        cbs.on_epoch_end(epoch, logs)
        epochs_run += 1
        if model.stop_training:
            break
    cbs.on_train_end()
    history = next(cb for cb in cbs if isinstance(cb, callbacks_module.History))
    return history, epochs_run
