"""The NumPy baseline computes what it claims (so pydl is compared with equal work),
and the benchmark harness runs end to end."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

from benchmarks.numpy_mlp import SGD, Adam, NumpyMLP

CE = "sparse_categorical_crossentropy"


# -- an independent float64 reference: plain formulas, written without the baseline ----
def reference_loss_and_grads(weights, x, y, loss):
    """Loss and [dW0, db0, ...] of a relu MLP, in float64, by textbook backprop."""
    weights = [np.asarray(w, np.float64) for w in weights]
    x = np.asarray(x, np.float64)
    hs, zs = [x], []
    for i in range(0, len(weights), 2):
        z = hs[-1] @ weights[i] + weights[i + 1]
        zs.append(z)
        hs.append(np.maximum(z, 0.0) if i + 2 < len(weights) else z)
    out = hs[-1]
    n = len(x)
    if loss == CE:
        p = np.exp(out - out.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        value = -np.mean(np.log(p[np.arange(n), y]))
        onehot = np.zeros_like(p)
        onehot[np.arange(n), y] = 1.0
        delta = (p - onehot) / n
    else:
        value = np.mean((out - y) ** 2)
        delta = 2.0 * (out - y) / out.size
    grads = [None] * len(weights)
    for i in range(len(weights) - 2, -1, -2):
        grads[i] = hs[i // 2].T @ delta
        grads[i + 1] = delta.sum(axis=0)
        if i > 0:
            delta = (delta @ weights[i].T) * (zs[i // 2 - 1] > 0)
    return value, grads


def reference_sgd(weights, grads, state, lr, momentum):
    out = []
    for k, (w, g) in enumerate(zip(weights, grads)):
        state[k] = momentum * state.get(k, 0.0) - lr * g
        out.append(w + state[k])
    return out


def reference_adam(weights, grads, state, t, lr, b1=0.9, b2=0.999, eps=1e-7):
    out = []
    for k, (w, g) in enumerate(zip(weights, grads)):
        m, v = state.get(k, (0.0, 0.0))
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        state[k] = (m, v)
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        out.append(w - alpha * m / (np.sqrt(v) + eps))
    return out


def problem(loss, sizes=(7, 5, 4, 3), n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, sizes[0])).astype(np.float32)
    if loss == CE:
        y = rng.integers(0, sizes[-1], n).astype(np.int32)
    else:
        y = rng.standard_normal((n, sizes[-1])).astype(np.float32)
    return x, y


@pytest.mark.parametrize("loss", [CE, "mse"])
def test_reference_gradients_match_finite_differences(loss):
    x, y = problem(loss)
    mlp = NumpyMLP((7, 5, 4, 3), loss, SGD(0.1), seed=3, dtype=np.float64)
    # Biases away from zero so no relu sits at its kink.
    weights = [w + 0.1 for w in mlp.get_weights()]
    _, grads = reference_loss_and_grads(weights, x, y, loss)
    eps = 1e-6
    for k, w in enumerate(weights):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            for sign in (1, -1):
                shifted = [v.copy() for v in weights]
                shifted[k][idx] += sign * eps
                numeric[idx] += sign * reference_loss_and_grads(shifted, x, y, loss)[0]
        np.testing.assert_allclose(grads[k], numeric / (2 * eps), rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("loss", [CE, "mse"])
@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_two_steps_match_float64_reference(loss, opt):
    x, y = problem(loss)
    optimizer = SGD(0.05, momentum=0.9) if opt == "sgd" else Adam(0.01)
    mlp = NumpyMLP((7, 5, 4, 3), loss, optimizer, seed=1)
    weights = [w.astype(np.float64) for w in mlp.get_weights()]
    state = {}
    for t in (1, 2):  # two steps: momentum and Adam's bias correction both matter
        expected_loss, grads = reference_loss_and_grads(weights, x, y, loss)
        if opt == "sgd":
            weights = reference_sgd(weights, grads, state, 0.05, 0.9)
        else:
            weights = reference_adam(weights, grads, state, t, 0.01)
        got_loss = mlp.train_step(x, y)
        assert got_loss == pytest.approx(expected_loss, rel=1e-5)
        for got, want in zip(mlp.get_weights(), weights):
            assert got.dtype == np.float32
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_fit_epoch_visits_every_sample_once():
    # With lr=0, the mean batch loss of an epoch equals the full-batch loss whatever
    # the shuffle, when the epoch covers each sample exactly once (batches of equal size).
    x, y = problem(CE, n=12)
    mlp = NumpyMLP((7, 5, 4, 3), CE, SGD(0.0), seed=2)
    full, _ = reference_loss_and_grads(mlp.get_weights(), x, y, CE)
    got = mlp.fit_epoch(x, y, batch_size=4, rng=np.random.default_rng(0))
    assert got == pytest.approx(full, rel=1e-5)
    # A short last batch is handled (12 = 5 + 5 + 2) and leaves weights finite.
    mlp.fit_epoch(x, y, batch_size=5, rng=np.random.default_rng(1))
    assert all(np.isfinite(w).all() for w in mlp.get_weights())


def teacher(n=512, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 16)).astype(np.float32)
    w = rng.standard_normal((16, 4)).astype(np.float32)
    y = np.argmax(x @ w, axis=1).astype(np.int32)
    return x, y


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_baseline_learns_a_teacher_problem(opt):
    x, y = teacher()
    optimizer = SGD(0.05, momentum=0.9) if opt == "sgd" else Adam(0.01)
    mlp = NumpyMLP((16, 32, 4), CE, optimizer, seed=0)
    rng = np.random.default_rng(0)
    losses = [mlp.fit_epoch(x, y, 32, rng) for _ in range(15)]
    assert losses[-1] < 0.35 * losses[0]
    accuracy = np.mean(np.argmax(mlp.predict(x), axis=1) == y)
    assert accuracy > 0.9


def test_baseline_learns_like_pydl():
    """Same problem, same initial weights, same optimizer: the losses fall alike."""
    from benchmarks import pydl_side
    from benchmarks.settings import Net

    reason = pydl_side.keras_api_reason()
    if reason is not None:
        pytest.skip(f"pydl's Keras API is not available yet: {reason}")
    x, y = teacher()
    net = Net((16, 32, 4), CE, "sgd", 32, 16, learning_rate=0.05)
    model = pydl_side.build_model(net)
    mlp = NumpyMLP(net.sizes, CE, SGD(0.05, momentum=0.9), seed=0)
    model.set_weights(mlp.get_weights())
    pydl_losses = model.fit(x, y, batch_size=32, epochs=10, verbose=0).history["loss"]
    rng = np.random.default_rng(0)
    numpy_losses = [mlp.fit_epoch(x, y, 32, rng) for _ in range(10)]
    # The first epoch starts from the same weights; shuffles differ, so allow slack.
    assert numpy_losses[0] == pytest.approx(pydl_losses[0], rel=0.15)
    assert numpy_losses[-1] < 0.35 * numpy_losses[0]
    assert pydl_losses[-1] < 0.35 * pydl_losses[0]
    assert numpy_losses[-1] == pytest.approx(pydl_losses[-1], rel=0.5, abs=0.05)


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="loss"):
        NumpyMLP((4, 2), "hinge", SGD())
    with pytest.raises(ValueError, match="sizes"):
        NumpyMLP((4,), CE, SGD())


# -- the harness ---------------------------------------------------------------------
def test_harness_smoke_run_writes_every_output(tmp_path, capsys):
    from benchmarks.run import main

    run = main(["--smoke", "--no-torch", "--no-jax", "--no-charts", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert "### GEMM float32, 1 thread(s)" in printed
    for name in ("results.json", "results.md", "README_table.md"):
        assert (tmp_path / name).stat().st_size > 0
    raw = json.loads((tmp_path / "results.json").read_text())
    assert raw["machine"]["cores"] >= 1
    assert "ESTIMATE" in raw["machine"]["peak"]["derivation"]
    workloads = {r["workload"] for r in raw["records"]}
    assert {"gemm", "dense", "train", "predict", "memory", "graph"} <= workloads
    if importlib.util.find_spec("mpi4py") is not None:
        assert "distributed" in workloads  # mpiexec -n 2 jobs of benchmarks/distributed_child
    numpy_records = [r for r in raw["records"] if r["competitor"] == "NumPy"]
    assert numpy_records and all(r.get("value") is not None for r in numpy_records)
    assert all(r["correct"] for r in raw["records"] if "correct" in r)
    for memory in (r for r in raw["records"] if r["workload"] == "memory"):
        # Tiny data: the child's peak is its own (not inherited from this process).
        assert memory["rss_before_mb"] <= memory["peak_rss_mb"] < memory["rss_before_mb"] + 100
    readme = (tmp_path / "README_table.md").read_text()
    assert readme.startswith("## Performance") and run.command in readme


def test_harness_runs_as_a_script_and_rejects_bad_options():
    script = ROOT / "benchmarks" / "run.py"
    ok = subprocess.run([sys.executable, str(script), "--smoke", "--only", "gemm",
                         "--threads", "1", "--no-torch", "--no-jax"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "GEMM float32, 1 thread(s)" in ok.stdout
    bad = subprocess.run([sys.executable, str(script), "--only", "nonsense"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--only" in bad.stderr
    bad = subprocess.run([sys.executable, str(script), "--threads", "0"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--threads" in bad.stderr
