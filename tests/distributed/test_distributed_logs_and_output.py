"""Data-parallel logs, callbacks and output: metric state reduced before every log, so
that History and the callbacks' decisions agree on every rank (and with 1 process);
progress, CSV, checkpoints and model.save written by rank 0."""

from __future__ import annotations

import csv
import os

import numpy as np

from launch_ranks import results


def _close(a: dict, b: dict, rtol: float) -> None:
    assert set(a) == set(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, err_msg=key)


def test_metrics_history_and_callbacks_agree_everywhere(tmp_path):
    values, _, _ = results("metrics_and_callbacks", tmp_path)
    assert values[0]["history"] == values[1]["history"]  # the same numbers on every rank
    for key in ("evaluate", "on_batch", "lr", "stopped"):
        assert values[0][key] == values[1][key], key
    v = values[0]
    assert set(v["history"]) == {"loss", "accuracy", "auc", "precision", "val_loss",
                                 "val_accuracy", "val_auc", "val_precision", "learning_rate"}
    _close(v["history"], v["ref_history"], rtol=1e-5)
    _close(v["evaluate"], v["ref_evaluate"], rtol=1e-5)
    _close(v["on_batch"], v["ref_on_batch"], rtol=1e-5)
    assert v["stopped"] == v["ref_stopped"] > 0  # EarlyStopping stopped in the same epoch
    assert v["lr"] == v["ref_lr"] < 0.3  # ReduceLROnPlateau reduced it alike


def test_rank_zero_writes_progress_logs_and_checkpoints(tmp_path):
    values, _, done = results("output", tmp_path)
    out = done.stdout
    assert out.count("Epoch 1/2") == 1 and out.count("Epoch 2/2") == 1
    assert out.count("saving model to") == 2  # ModelCheckpoint's messages, rank 0 only
    assert "rank 0 before fit" in out and "rank 1 before fit" in out  # outside fit: both
    assert values[0]["save_calls"] == [str(tmp_path / "ckpt_1.pydl"),
                                       str(tmp_path / "ckpt_2.pydl"),
                                       str(tmp_path / "final.pydl")]
    assert values[1]["save_calls"] == []
    assert values[0]["csv_opened"] and not values[1]["csv_opened"]
    assert values[0]["loaded_equal"] and values[1]["loaded_equal"]
    with open(tmp_path / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["epoch"] for row in rows] == ["0", "1"]
    assert os.listdir(tmp_path / "backup") == ["training_backup.pydl"]  # BackupAndRestore
    if values[0]["tensorboard"]:  # one event file per folder: rank 0's
        for folder in ("train", "validation"):
            assert len(os.listdir(tmp_path / "tb" / folder)) == 1, folder
