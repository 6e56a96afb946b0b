"""BackupAndRestore: a fit killed with SIGKILL mid-epoch and run again resumes from the
last backup and ends with the weights of a run that was never stopped, bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pydl

SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    import pydl
    from pydl import layers

    backup_dir, out, kill_at, save_freq, source = sys.argv[1:6]
    kill_at = int(kill_at)
    save_freq = save_freq if save_freq == "epoch" else int(save_freq)
    pydl.utils.set_random_seed(3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 6)).astype("float32")
    y = rng.integers(0, 3, 120)
    model = pydl.Sequential([pydl.Input((6,)), layers.Dense(16, activation="relu"),
                             layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=pydl.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    seen = [0]

    class Killer(pydl.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen[0] += 1
            if seen[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)

    callbacks = [pydl.callbacks.BackupAndRestore(backup_dir, save_freq=save_freq)]
    if kill_at:
        callbacks.append(Killer())

    class Batches(pydl.utils.PyDataset):
        def __len__(self):
            return 15
        def __getitem__(self, i):
            return x[i * 8:(i + 1) * 8], y[i * 8:(i + 1) * 8]

    data = (Batches(),) if source == "pydataset" else (x, y)
    kwargs = {} if source == "pydataset" else {"batch_size": 8}
    history = model.fit(*data, epochs=4, verbose=0, callbacks=callbacks, **kwargs)
    np.savez(out, *model.get_weights(), *[np.asarray(v) for v in model.optimizer.variables],
             loss=np.array(history.history["loss"]))
""")


def _run(tmp_path, name, kill_at, save_freq, source):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"{name}.npz"
    env = dict(os.environ, PYDL_NUM_THREADS="1")
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "backup"), str(out),
                           str(kill_at), str(save_freq), source],
                          capture_output=True, text=True, env=env, timeout=120, cwd=tmp_path)
    return proc, out


@pytest.mark.parametrize("save_freq, source", [("4", "arrays"), ("epoch", "arrays"),
                                               ("4", "pydataset")])
def test_sigkill_mid_epoch_then_resume_is_bitwise_the_uninterrupted_run(tmp_path, save_freq,
                                                                         source):
    straight, straight_out = _run(tmp_path, "straight", 0, save_freq, source)
    assert straight.returncode == 0, straight.stderr
    assert not (tmp_path / "backup").exists()  # deleted when fit ends normally
    killed, _ = _run(tmp_path, "killed", 26, save_freq, source)  # epoch 2, batch 11
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "backup" / "training_backup.pydl").exists()
    resumed, resumed_out = _run(tmp_path, "resumed", 0, save_freq, source)
    assert resumed.returncode == 0, resumed.stderr
    a, b = np.load(straight_out), np.load(resumed_out)
    for key in a.files:
        if key != "loss":
            np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    # the resumed history holds the epochs it ran, with the straight run's values
    np.testing.assert_array_equal(a["loss"][-len(b["loss"]):], b["loss"])


def test_a_half_written_backup_is_never_used(tmp_path):
    """The backup is renamed into place: a temporary file left by a crash is ignored,
    and a damaged backup is an error that names the file, not a silent restart."""
    pydl.utils.set_random_seed(1)
    model = pydl.Sequential([pydl.Input((3,)), pydl.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 3), np.float32), np.ones((8, 2), np.float32)
    backup_dir = tmp_path / "b"
    callback = pydl.callbacks.BackupAndRestore(backup_dir, delete_checkpoint=False)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callback])
    (backup_dir / "training_backup.pydl.tmp-123").write_bytes(b"partial")
    resumed = model.fit(x, y, epochs=3, verbose=0, callbacks=[callback])
    assert len(resumed.history["loss"]) == 1  # resumed at epoch 2
    (backup_dir / "training_backup.pydl").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="training_backup.pydl"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[callback])


def test_arguments():
    with pytest.raises(ValueError, match="save_freq"):
        pydl.callbacks.BackupAndRestore("d", save_freq="batch")
    with pytest.raises(ValueError, match="backup_dir"):
        pydl.callbacks.BackupAndRestore("")
