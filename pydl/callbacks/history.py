"""`History`: records the logs of every epoch (set as `model.history` by fit)."""

from __future__ import annotations

from .callback import Callback


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
