"""mixed_bfloat16 on the fused plan against the GradientTape: the Dense node and the tape's
dense op call the same core functions with the same bf16 flag, so training is bitwise the
same (losses, metrics, weights, optimizer state), at 1 and 2 threads (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import _core, layers, optimizers
from pydl.models import plan as _plan

from conftest import num_threads

from .test_fit_plan import assert_same_training, data, fit_both, mlp

MIXED = "mixed_bfloat16"

CASES = {
    "relu-softmax-sparse-adam": dict(
        shape=(20,), out=5, loss="sparse_categorical_crossentropy",
        layers=[lambda: layers.Dense(48, activation="relu", dtype=MIXED),
                lambda: layers.Dense(24, activation="gelu", dtype=MIXED),
                lambda: layers.Dense(5, activation="softmax", dtype=MIXED)],
        compile=lambda: dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                             metrics=["accuracy"]),
        fit=dict(batch_size=32, epochs=2)),
    "mixed-then-float32-head-mse-sgd-momentum": dict(  # a per-layer policy
        shape=(9,), out=3, loss="mse",
        layers=[lambda: layers.Dense(33, activation="tanh", dtype=MIXED),
                lambda: layers.Dense(3, dtype="float32")],
        compile=lambda: dict(optimizer=optimizers.SGD(0.05, momentum=0.9), loss="mse",
                             metrics=["mae"]),
        fit=dict(batch_size=17, epochs=2, validation_split=0.2)),
}


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("case", sorted(CASES))
def test_mixed_fit_plan_matches_tape_bitwise(mixed_precision, rng, case, threads):
    c = CASES[case]
    x, y = data(rng, 150, c["shape"], c["loss"], c["out"])
    with num_threads(threads):
        plan, tape = fit_both(lambda: mlp(c["layers"], c["shape"]), c["compile"], x, y,
                              **c["fit"])
    assert_same_training(plan, tape)


def test_mixed_differs_from_float32_and_the_plan_says_bf16(mixed_precision, rng):
    """The flag reaches the kernels: on bfloat16 kernels the training differs from
    float32's (and the node says so); on the float32 fallback it is float32's, bit for bit."""
    c = CASES["relu-softmax-sparse-adam"]
    x, y = data(rng, 150, c["shape"], c["loss"], c["out"])

    def trained(policy):
        model = mlp([lambda: layers.Dense(48, activation="relu", dtype=policy),
                     lambda: layers.Dense(5, activation="softmax", dtype=policy)], c["shape"])
        model.compile(**c["compile"]())
        pydl.utils.set_random_seed(9)
        model.fit(x, y, verbose=0, **c["fit"])
        assert _plan.plan_reason(model) is None
        return model

    mixed, f32 = trained(MIXED), trained("float32")
    same = all(np.array_equal(a, b) for a, b in zip(mixed.get_weights(), f32.get_weights()))
    assert same is not _core.bf16_kernels()
    node = _core.plan.Dense(np.zeros((4, 3), np.float32), None, "relu", bf16=True)
    assert "bfloat16" in node.description


def test_mixed_train_on_batch_matches_tape(mixed_precision, rng):
    c = CASES["relu-softmax-sparse-adam"]
    x, y = data(rng, 40, c["shape"], c["loss"], c["out"])
    runs = []
    for use_plan in (True, False):
        model = mlp(c["layers"], c["shape"])
        model.compile(**c["compile"]())
        logs = []
        for start in range(0, 40, 10):
            if use_plan:
                logs.append(model.train_on_batch(x[start:start + 10], y[start:start + 10],
                                                 return_dict=True))
            else:
                with _plan.disabled():
                    logs.append(model.train_on_batch(x[start:start + 10], y[start:start + 10],
                                                     return_dict=True))
        runs.append((logs, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
