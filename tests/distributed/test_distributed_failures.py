"""Failures under data parallelism: never a hang. A rank that raises mid-training ends
every process (MPI_Abort) naming itself; one that raises before the processes start
together, and data or models that differ between them, raise on every rank."""

from __future__ import annotations

from launch_ranks import launch, results


def test_a_rank_raising_during_training_aborts_every_rank(tmp_path):
    done = launch("failure_after_start", tmp_path)  # fails the test on a timeout
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert "pydl.distribution: rank 1 of 2 failed" in text
    assert "ValueError: boom on purpose" in text
    assert "MPI_Abort" in text
    assert not (tmp_path / "rank0.json").exists()


def test_a_rank_failing_before_the_start_fails_every_rank(tmp_path):
    values, _, _ = results("failure_before_start", tmp_path)
    assert values[1]["error"].startswith("ValueError: x: expected finite values")
    assert values[0]["error"].startswith("RuntimeError: fit: rank 1 of 2 failed")
    assert "expected finite values" in values[0]["error"]


def test_mismatched_data_and_models_are_named_at_fit_start(tmp_path):
    values, _, _ = results("mismatches", tmp_path)
    assert values[0] == values[1]  # every rank raises the same error
    errors = values[0]
    assert "'x' has samples of shape (6,)" in errors["shapes"]
    assert "shape (5,) and dtype <f4 on rank 1" in errors["shapes"]
    assert "24 samples on rank 0 and 20 on rank 1" in errors["samples"]
    assert "auto_shard_dataset=False" in errors["samples"]
    assert "data differs between rank 0 and rank 1" in errors["values"]
    assert "model differs between rank 0 and rank 1 (layers:" in errors["model"]
    assert "[0] Dense units=7 on rank 0, [0] Dense units=8 on rank 1" in errors["model"]
    assert "under DataParallel, pass arrays; a generator" in errors["stream"]
    assert errors["fine_after"] == ""  # the processes are still in step after the errors
