"""`BackupAndRestore`: resume a `fit` that was interrupted, where it stopped."""

from __future__ import annotations

import os

from .. import _random
from ..distribution.output import chief_write, writes_here
from .callback import Callback

_FILE = "training_backup.pydl"
_PREVIOUS = "training_backup.previous.pydl"


class BackupAndRestore(Callback):
    """Backs the training state up during `fit`, and restores it when `fit` starts again
    (after a crash, a kill, a preemption), so that training resumes where the last
    backup was taken (Keras 3).

    A backup holds the weights, the optimizer state, the layers' random generators, the
    running metrics and the position in training, in one file written atomically: a
    process killed while writing leaves the previous backup whole. A run resumed from a
    backup ends with the same weights, bit for bit, as a run that was never stopped
    (the same data, model and seeds; the epoch's shuffle is drawn again from the saved
    generator state, the steps already done are skipped).

    Under a DataParallel distribution (pydl.distribution), rank 0 writes the backup and
    every process reads it, so `backup_dir` must be on a filesystem they share; a backup
    taken mid-epoch (an int `save_freq`) holds rank 0's running metrics only, so the
    logs of a resumed epoch are off until it ends (the weights are exact).

    ```python
    model.fit(x, y, epochs=50, callbacks=[pydl.callbacks.BackupAndRestore("/tmp/backup")])
    ```

    Args:
        backup_dir: the directory of the backup file (created if needed). Use one per
            training run.
        save_freq: "epoch" (a backup at the end of each epoch) or an int n (every n
            batches; a fit then runs executions of at most `steps_per_execution` steps).
        double_checkpoint: also keep the previous backup, used when the latest cannot be
            read.
        delete_checkpoint: delete the backup when `fit` ends normally.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir or not isinstance(backup_dir, (str, os.PathLike)):
            raise ValueError(f"Empty or invalid `backup_dir` argument passed: {backup_dir!r}")
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int)
                                     or save_freq < 1):
            raise ValueError("Invalid value for argument `save_freq`. "
                             f"Received: save_freq={save_freq!r}. Expected either 'epoch' or an "
                             "integer >= 1.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = bool(double_checkpoint)
        self.delete_checkpoint = bool(delete_checkpoint)
        self._path = os.path.join(self.backup_dir, _FILE)
        self._previous = os.path.join(self.backup_dir, _PREVIOUS)
        self._epoch = 0
        self._epoch_start_state = None
        self._since_save = 0
        self._last_batch = -1

    # -- restoring -------------------------------------------------------------
    def on_train_begin(self, logs=None):
        from ..models import backup

        model = self.model
        if not model.built:
            raise ValueError("To use the BackupAndRestore callback, your model must be built "
                             f"before you call fit(). Model {model.name!r} is unbuilt.")
        for path in (self._path, self._previous if self.double_checkpoint else None):
            if path is None or not os.path.exists(path):
                continue
            try:
                training = backup.read(model, path)
            except ValueError:
                if path == self._path and self.double_checkpoint:
                    continue  # the latest is unreadable: the previous one
                raise
            object.__setattr__(model, "_resume_from", training)
            return

    # -- backing up ---------------------------------------------------------------
    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        # fit draws the epoch's shuffle next: the state that draws it again.
        self._epoch_start_state = _random.generator().bit_generator.state
        self._last_batch = -1

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self._since_save += batch - self._last_batch  # an execution may run several steps
        self._last_batch = batch
        if self._since_save >= self.save_freq:
            self._since_save = 0
            self._save(self._epoch, batch + 1, self._epoch_start_state)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            state = _random.generator().bit_generator.state
            self._save(epoch + 1, 0, state)

    def _save(self, epoch: int, step: int, epoch_start_state) -> None:
        from ..models import backup

        training = {
            "epoch": int(epoch),
            "step": int(step),
            "generator_at_epoch_start": epoch_start_state,
            "generator_now": _random.generator().bit_generator.state,
        }

        def write():
            os.makedirs(self.backup_dir, exist_ok=True)
            if self.double_checkpoint and os.path.exists(self._path):
                os.replace(self._path, self._previous)
            backup.write(self.model, self._path, training)
        chief_write(write, "BackupAndRestore")  # under DataParallel, rank 0 writes

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not writes_here():
            return
        for path in (self._path, self._previous):
            if os.path.exists(path):
                os.remove(path)
        try:
            os.rmdir(self.backup_dir)  # only when nothing else is in it
        except OSError:
            pass
