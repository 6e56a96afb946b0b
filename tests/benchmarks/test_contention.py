"""The contention workload and --compare (benchmarks/workloads/contention.py,
benchmarks/busy.py, benchmarks/other_builds.py): busy processes never outlive their
block, other builds are parsed and driven, the tables say busy / quiet and the
verdicts follow the numbers, Keras/TF (benchmarks/keras_tf.py) joins them when TensorFlow
is there. Nothing here asserts a timing."""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

from benchmarks import keras_tf
from benchmarks.busy import busy_processes
from benchmarks.other_builds import parse_spec
from benchmarks.results import Run
from benchmarks.settings import make_settings
from benchmarks.workloads import contention


def test_busy_processes_spin_during_the_block_and_die_after_it():
    with busy_processes(2, settle_s=0.0) as procs:
        assert len(procs) == 2 and all(p.poll() is None for p in procs)
    assert all(p.poll() is not None for p in procs)
    with pytest.raises(RuntimeError):
        with busy_processes(1, settle_s=0.0) as procs:
            raise RuntimeError("the block fails")
    assert procs[0].poll() is not None


def test_compare_spec_parsing(tmp_path):
    spec = parse_spec(f"main={sys.executable} OMP_WAIT_POLICY=passive PYDL_SPIN_US=0")
    assert (spec.label, spec.python) == ("main", sys.executable)
    assert spec.env == {"OMP_WAIT_POLICY": "passive", "PYDL_SPIN_US": "0"}
    venv_python = tmp_path / "main-venv" / "bin" / "python"
    venv_python.parent.mkdir(parents=True)
    venv_python.write_text("")
    assert parse_spec(str(venv_python)).label == "main-venv"
    with pytest.raises(ValueError, match="no interpreter"):
        parse_spec(f"x={tmp_path / 'missing'}")
    with pytest.raises(ValueError, match="VAR=VALUE"):
        parse_spec(f"x={sys.executable} notanassignment")
    with pytest.raises(ValueError, match="expected"):
        parse_spec("")


def synthetic_run() -> Run:
    run = Run(make_settings("smoke", [2]), {"peak": {}}, "test")
    rates = {"pydl": (100.0, 50.0, 30.0), "torch": (80.0, 40.0, 35.0), "NumPy": (60.0, 30.0, 20.0)}
    for name, values in rates.items():
        for busy, value in zip(contention.CONDITIONS, values):
            run.add(contention.WORKLOAD, contention.case_label("net", busy), 2, name,
                    subject="net", busy=busy, value=value, unit="samples/s")
    return run


def test_table_gives_busy_over_quiet_and_pydl_verdicts():
    table = contention.table(synthetic_run(), "t", ["net"], 2, "samples/s")
    rows = {row[1]: row for row in table.rows}
    assert list(rows) == ["pydl", "torch", "NumPy"]
    assert rows["pydl"][4] == "0.50x" and rows["pydl"][6] == "0.30x"
    verdict = rows["pydl"][-1]
    assert "1 busy >= 0.45x: met" in verdict and "2 busy >= 0.35x: missed" in verdict
    assert "1 busy vs torch: ahead" in verdict and "2 busy vs torch: behind" in verdict
    assert rows["torch"][-1] == ""
    assert any("0.67x" in note and "0.50x" in note for note in table.notes)  # fair shares


def test_smoke_run_with_another_build(tmp_path, capsys):
    """This interpreter plays the other build: its numbers land in every table."""
    from benchmarks.run import main

    run = main(["--smoke", "--only", "gemm,train,contention", "--threads", "2", "--no-torch",
                "--no-jax", "--no-charts", "--compare", f"self={sys.executable}"])
    printed = capsys.readouterr().out
    assert "Compared build pydl@self" in printed
    for workload in ("gemm", "train", "contention"):
        names = {r["competitor"] for r in run.records if r["workload"] == workload}
        assert {"pydl", "pydl@self", "NumPy"} <= names, (workload, names)
    assert all(r["correct"] for r in run.records if "correct" in r)
    busy = {r["busy"] for r in run.records if r["workload"] == "contention"}
    assert busy == set(contention.CONDITIONS)
    titles = [t.title for t in run.tables]
    assert any(t.startswith("Training on a busy machine") for t in titles)
    assert any(t.startswith("In-process interplay") for t in titles)
    gemm_table = next(t for t in run.tables if t.title.startswith("GEMM float32, 2"))
    assert "pydl / pydl@self" in gemm_table.headers
    assert not run.unavailable or all("pydl@self" not in line for line in run.unavailable)


def test_keras_tf_row_is_a_rival_in_the_verdict_and_says_how_it_ran():
    run = synthetic_run()
    for busy, value in zip(contention.CONDITIONS, (90.0, 60.0, 25.0)):
        run.add(contention.WORKLOAD, contention.case_label("net", busy), 2, keras_tf.NAME,
                subject="net", busy=busy, value=value, unit="samples/s", jit_compile=False)
    run.machine["keras_tf"] = {"python": "/tf/bin/python", "keras": "3.15.1",
                               "tensorflow": "2.21.0", "intra_op_threads": 2}
    table = contention.table(run, "t", ["net"], 2, "samples/s")
    rows = {row[1]: row for row in table.rows}
    assert list(rows) == ["pydl", "torch", "Keras/TF", "NumPy"]
    assert rows["Keras/TF"][4] == "0.67x" and rows["Keras/TF"][-1] == ""
    verdict = rows["pydl"][-1]
    assert "1 busy vs Keras/TF: behind" in verdict and "2 busy vs Keras/TF: ahead" in verdict
    note = next(n for n in table.notes if n.startswith("Keras/TF:"))
    assert "TensorFlow 2.21.0" in note and "resolved to False" in note
    # Without a Keras/TF record the table says nothing about it.
    assert not any(n.startswith("Keras/TF:") for n in
                   contention.table(synthetic_run(), "t", ["net"], 2, "samples/s").notes)


def test_keras_tf_interpreter_choice(tmp_path):
    from benchmarks.run import parse_args

    run = Run(make_settings("smoke", [2]), {}, "test")
    found = importlib.util.find_spec("tensorflow") is not None
    python, reason = keras_tf.interpreter(run)
    assert (python == sys.executable) if found else ("--keras-tf-python" in reason)
    run.settings.keras_tf_python = "/some/python"
    assert keras_tf.interpreter(run) == ("/some/python", None)
    run.settings.use_keras_tf = False
    assert keras_tf.interpreter(run)[0] is None
    with pytest.raises(SystemExit):
        parse_args(["--keras-tf-python", str(tmp_path / "missing")])


def _tf_python():
    """An interpreter with TensorFlow: this one, else $KERAS_TF_PYTHON (a venv of its own,
    as benchmarks/README.md describes)."""
    if importlib.util.find_spec("tensorflow") is not None:
        return sys.executable
    python = os.environ.get("KERAS_TF_PYTHON")
    if not python:
        pytest.skip("TensorFlow is not importable here and KERAS_TF_PYTHON is not set")
    return python


@pytest.mark.slow
def test_smoke_run_with_keras_tf(capsys):
    """The Keras/TF child trains every network under every condition (a few seconds:
    importing TensorFlow)."""
    from benchmarks.run import main

    python = _tf_python()
    run = main(["--smoke", "--only", "contention", "--threads", "2", "--no-torch", "--no-jax",
                "--no-charts", "--keras-tf-python", python])
    assert not [line for line in run.unavailable if "Keras/TF" in line], run.unavailable
    records = [r for r in run.records
               if r["workload"] == "contention" and r["competitor"] == keras_tf.NAME]
    nets = contention.contention_nets(run.settings)
    assert {(r["subject"], r["busy"]) for r in records} == {
        (n.label, busy) for n in nets for busy in contention.CONDITIONS}
    assert all(r["value"] > 0 and r["jit_compile"] is False for r in records)
    assert run.machine["keras_tf"]["backend"] == "tensorflow"
    assert run.machine["keras_tf"]["intra_op_threads"] == 2
    training = next(t for t in run.tables if t.title.startswith("Training on a busy machine"))
    assert keras_tf.NAME in {row[1] for row in training.rows}
    assert "vs Keras/TF" in next(row for row in training.rows if row[1] == "pydl")[-1]


def test_target_note_names_the_rivals_present():
    assert contention._target_note(["pydl", "NumPy"]).endswith(">= 0.35x with 2.")
    note = contention._target_note(["pydl", "torch", "Keras/TF"])
    assert note.endswith("ahead of the busy throughput of PyTorch eager and of Keras/TF.")
    assert contention._target_note(["pydl", "torch"]).endswith("of PyTorch eager.")
