"""`TerminateOnNaN`: stops training when the loss becomes NaN or infinite."""

from __future__ import annotations

import math

from .callback import Callback
from .monitor import _scalar


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
