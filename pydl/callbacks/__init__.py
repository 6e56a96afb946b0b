"""Callbacks: hooks called by `fit`, `evaluate` and `predict` (Keras 3 names and semantics).

    early = pydl.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    model.fit(x, y, validation_split=0.2, epochs=100, callbacks=[early])

A callback sees the model through `self.model` and uses only: `stop_training`,
`get_weights()` / `set_weights()`, `optimizer.learning_rate`, `save(path)`,
`save_weights(path)`, `metrics` (to know whether a metric should go up or down)
and sets `history`.
"""


from .backup_and_restore import BackupAndRestore
from .callback import Callback
from .callback_list import CallbackList
from .csv_logger import CSVLogger
from .early_stopping import EarlyStopping
from .history import History
from .lambda_callback import LambdaCallback
from .learning_rate_scheduler import LearningRateScheduler
from .model_checkpoint import ModelCheckpoint
from .reduce_lr_on_plateau import ReduceLROnPlateau
from .swap_ema_weights import SwapEMAWeights
from .tensorboard import TensorBoard
from .terminate_on_nan import TerminateOnNaN

__all__ = ["BackupAndRestore", "Callback", "CallbackList", "CSVLogger", "EarlyStopping", "History",
           "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint", "ReduceLROnPlateau",
           "SwapEMAWeights", "TensorBoard", "TerminateOnNaN"]
