"""Dropout and L1/L2 weight penalties on the fused plan: bit for bit the GradientTape's."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import _core, layers, optimizers, regularizers
from pydl.models import plan as _plan
from pydl.models.plan import runner as plan_runner

from conftest import num_threads
from .test_fit_plan import BatchEnds, assert_same_training, data, fit_both, mlp


# -- what the plan relies on ------------------------------------------------------------
@pytest.mark.parametrize("rows_a, rows_b, features", [(1, 1, 1), (3, 4, 5), (7, 2, 13),
                                                      (16, 13, 3), (5, 9, 1)])
def test_float32_uniform_stream_does_not_depend_on_chunking(rows_a, rows_b, features):
    """One draw of a+b rows gives the values of a draw of a rows then one of b rows (the
    tape draws per step; the plan per call), odd sizes too (PCG64 hands out 32-bit
    halves: an odd count leaves one for the next draw)."""
    for seed in (0, 7):
        steps = np.random.default_rng(seed)
        per_step = [steps.random((rows_a, features), dtype=np.float32),
                    steps.random((rows_b, features), dtype=np.float32)]
        at_once = np.empty((rows_a + rows_b, features), np.float32)
        np.random.default_rng(seed).random(out=at_once, dtype=np.float32)
        np.testing.assert_array_equal(np.concatenate(per_step), at_once)
        # ... and the streams continue alike.
        assert steps.random(dtype=np.float32) == np.random.default_rng(seed).random(
            rows_a * features + rows_b * features + 1, dtype=np.float32)[-1]


REGULARIZERS = [regularizers.L1(0.01), regularizers.L2(0.003), regularizers.L1L2(0.01, 0.02),
                regularizers.L1L2(0.0, 0.0), regularizers.L1L2(1e-5, 0.7)]


@pytest.mark.parametrize("shape", [(1,), (7,), (8,), (16,), (129,), (300,), (37, 41),
                                   (784, 64)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_weight_penalty_against_float64(shape, dtype, rng):
    """The one penalty kernel (nn/penalty.h) both paths call: the value within rounding
    of a float64 sum, the gradient exactly l1 * sign(w) + (2 * l2) * w in w's dtype."""
    for reg in REGULARIZERS:
        w = (rng.standard_normal(shape) * rng.uniform(0.01, 10)).astype(dtype)
        w.flat[0] = 0.0
        w64 = w.astype(np.float64)
        expected = reg.l1 * np.abs(w64).sum() + reg.l2 * np.square(w64).sum()
        value = _core.weight_penalty(w, reg.l1, reg.l2)
        rel = 2e-7 if dtype == np.float32 else 1e-12  # one rounding to w's dtype
        assert value == pytest.approx(expected, rel=rel, abs=1e-300), reg
        assert value == float(dtype(value))  # rounded once to w's dtype
        grad = np.empty_like(w)
        _core.weight_penalty_gradient(w, reg.l1, reg.l2, grad)
        want = np.zeros_like(w)
        if reg.l1:
            want = dtype(reg.l1) * np.sign(w)
        if reg.l2:
            want = want + dtype(2 * reg.l2) * w
        np.testing.assert_array_equal(grad, want, err_msg=repr(reg))


def test_weight_penalty_same_bits_at_1_and_2_threads(rng):
    w = rng.standard_normal(1 << 18).astype(np.float32)
    results = []
    for threads in (1, 2):
        with num_threads(threads):
            grad = np.empty_like(w)
            _core.weight_penalty_gradient(w, 0.01, 0.02, grad)
            results.append((_core.weight_penalty(w, 0.01, 0.02), grad))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])


def test_regularizers_on_the_tape_are_the_kernel(rng):
    """A regularizer's value and gradient on the tape are the core kernel's (one op)."""
    w = rng.standard_normal((9, 4)).astype(np.float32)
    for reg in REGULARIZERS:
        v = pydl.Variable(w.copy())
        with pydl.GradientTape() as tape:
            penalty = reg(v)
        grad = tape.gradient(penalty, v)
        assert np.asarray(penalty) == np.float32(_core.weight_penalty(w, reg.l1, reg.l2))
        expected = np.empty_like(w)
        _core.weight_penalty_gradient(w, reg.l1, reg.l2, expected)
        np.testing.assert_array_equal(grad, expected)


def test_weight_penalty_of_nonfinite_weights():
    """NaN propagates (sign(NaN) is NaN, as NumPy's); inf weights give inf."""
    w = np.array([1.0, np.inf, -2.0, np.nan, 0.0, -np.inf], np.float32)
    assert np.isnan(_core.weight_penalty(w, 0.01, 0.0))
    grad = np.empty_like(w)
    _core.weight_penalty_gradient(w, 0.5, 0.0, grad)
    np.testing.assert_array_equal(grad, [0.5, 0.5, -0.5, np.nan, 0.0, -0.5])
    _core.weight_penalty_gradient(w, 0.0, 0.5, grad)
    np.testing.assert_array_equal(grad, w)


# -- fit on the plan against fit on the tape -----------------------------------------------
def _compile(optimizer, loss, metrics=(), **kw):
    return lambda: dict(optimizer=optimizer(), loss=loss, metrics=list(metrics), **kw)


CASES = {
    "one-dropout-seeded-metrics": dict(
        shape=(6,), out=3, loss="sparse_categorical_crossentropy",
        layers=[lambda: layers.Dense(16, activation="relu"), lambda: layers.Dropout(0.3, seed=1),
                lambda: layers.Dense(3, activation="softmax")],
        compile=_compile(lambda: optimizers.SGD(0.05, momentum=0.9),
                         "sparse_categorical_crossentropy", ["accuracy"]),
        fit=dict(batch_size=16, epochs=2)),
    "two-dropouts-unseeded-no-metrics": dict(
        shape=(5,), out=2, loss="mse",
        layers=[lambda: layers.Dense(12, activation="tanh"), lambda: layers.Dropout(0.5),
                lambda: layers.Dense(8, activation="relu"), lambda: layers.Dropout(0.25),
                lambda: layers.Dense(2)],
        compile=_compile(lambda: optimizers.Adam(0.01), "mse"),
        fit=dict(batch_size=7, epochs=2)),
    "two-dropouts-steps-per-execution-3": dict(
        shape=(5,), out=2, loss="mse", hooks=True,
        layers=[lambda: layers.Dense(12, activation="tanh"), lambda: layers.Dropout(0.5),
                lambda: layers.Dense(8, activation="relu"), lambda: layers.Dropout(0.7, seed=4),
                lambda: layers.Dense(2)],
        compile=_compile(lambda: optimizers.Adam(0.01), "mse", ["mae"],
                         steps_per_execution=3),
        fit=dict(batch_size=4, epochs=2)),
    "input-dropout-and-dropout-after-softmax": dict(
        shape=(2, 3), out=4, loss="categorical_crossentropy",
        layers=[lambda: layers.Flatten(), lambda: layers.Dropout(0.2),
                lambda: layers.Dense(4, activation="softmax"), lambda: layers.Dropout(0.1)],
        compile=_compile(lambda: optimizers.RMSprop(0.01), "categorical_crossentropy",
                         ["accuracy"]),
        fit=dict(batch_size=10, epochs=2)),
    "l1-kernel-l2-bias-l1l2-string": dict(
        shape=(6,), out=3, loss="sparse_categorical_crossentropy",
        layers=[lambda: layers.Dense(8, activation="relu",
                                     kernel_regularizer=regularizers.L1(0.01),
                                     bias_regularizer=regularizers.L2(0.02)),
                lambda: layers.Dense(3, activation="softmax", kernel_regularizer="l1_l2")],
        compile=_compile(lambda: optimizers.RMSprop(0.01, momentum=0.3),
                         "sparse_categorical_crossentropy", ["accuracy"]),
        fit=dict(batch_size=16, epochs=2)),
    "l1l2-and-zero-factors-dropout-global-clipnorm": dict(
        shape=(4,), out=2, loss="huber",
        layers=[lambda: layers.Dense(10, activation="elu",
                                     kernel_regularizer=regularizers.L1L2(0.001, 0.01),
                                     bias_regularizer=regularizers.L1L2()),
                lambda: layers.Dropout(0.4),
                lambda: layers.Dense(2, kernel_regularizer=regularizers.L2(0.05),
                                     bias_regularizer="l1")],
        compile=_compile(lambda: optimizers.SGD(0.05, global_clipnorm=0.5), "huber"),
        fit=dict(batch_size=9, epochs=2, shuffle=False)),
    "l2-no-bias-adamw-weighted": dict(
        shape=(5,), out=1, loss="binary_crossentropy", weighted=True,
        layers=[lambda: layers.Dense(6, activation="sigmoid", use_bias=False,
                                     kernel_regularizer="l2"),
                lambda: layers.Dense(1, activation="sigmoid", kernel_regularizer="l1")],
        compile=_compile(lambda: optimizers.AdamW(0.01, clipnorm=0.3), "binary_crossentropy",
                         ["accuracy"]),
        fit=dict(batch_size=8, epochs=2)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_plan_matches_tape_bitwise(case, rng):
    c = CASES[case]
    x, y = data(rng, 45, c["shape"], c["loss"], c["out"])  # the last batch is partial
    fit = dict(c["fit"])
    if c.get("weighted"):
        fit["sample_weight"] = rng.random(45).astype(np.float32)
    if c.get("hooks"):
        fit["callbacks"] = [BatchEnds()]  # executions of steps_per_execution steps
    build = lambda: mlp(c["layers"], c["shape"])  # noqa: E731
    model = build()
    model.compile(**c["compile"]())
    assert _plan.plan_reason(model) is None
    plan, tape = fit_both(build, c["compile"], x, y, **fit)
    assert_same_training(plan, tape)
    # The same draws, no more: the generators are left in the same state.
    for a, b in zip(plan[0].layers, tape[0].layers):
        if isinstance(a, layers.Dropout):
            assert a.generator.bit_generator.state == b.generator.bit_generator.state


def test_executions_of_a_few_steps_draw_as_one(rng, monkeypatch):
    """A small dropout budget splits the epoch into many calls: same bits as one call."""
    c = CASES["two-dropouts-unseeded-no-metrics"]
    x, y = data(rng, 45, c["shape"], c["loss"], c["out"])
    results = []
    for budget in (1 << 20, 7 * 20 * 2):  # per call: the whole epoch, or 2 steps
        monkeypatch.setattr(plan_runner, "MAX_DRAW_VALUES", budget)
        model = mlp(c["layers"], c["shape"])
        model.compile(**c["compile"]())
        pydl.utils.set_random_seed(2)
        results.append((model, model.fit(x, y, batch_size=7, epochs=2, verbose=0).history))
    assert results[0][1] == results[1][1]
    for a, b in zip(results[0][0].get_weights(), results[1][0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_train_on_batch_with_dropout_and_penalty_matches_tape(rng):
    x, y = data(rng, 30, (5,), "sparse_categorical_crossentropy", 3)
    runs = []
    for use_plan in (True, False):
        model = mlp([lambda: layers.Dense(9, activation="relu", kernel_regularizer="l2"),
                     lambda: layers.Dropout(0.5), lambda: layers.Dense(3, activation="softmax")],
                    (5,))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        logs = []
        with (_plan.disabled() if not use_plan else _NoContext()):
            for start in (0, 10, 20, 0):
                logs.append(model.train_on_batch(x[start:start + 10], y[start:start + 10],
                                                 return_dict=True))
        runs.append((model, logs))
    assert runs[0][1] == runs[1][1]
    assert runs[0][0]._trained_on == "plan"
    for a, b in zip(runs[0][0].get_weights(), runs[1][0].get_weights()):
        np.testing.assert_array_equal(a, b)


class _NoContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_dropout_and_penalty_same_bits_at_1_and_2_threads(rng):
    # 64 rows x 512 units and a 40 x 512 kernel: split across threads.
    x, y = data(rng, 192, (40,), "sparse_categorical_crossentropy", 10)
    weights = []
    for threads in (1, 2):
        model = mlp([lambda: layers.Dense(512, activation="relu",
                                          kernel_regularizer=regularizers.L1L2(1e-4, 1e-3)),
                     lambda: layers.Dropout(0.5),
                     lambda: layers.Dense(10, activation="softmax", bias_regularizer="l2")],
                    (40,))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        pydl.utils.set_random_seed(4)
        with num_threads(threads):
            history = model.fit(x, y, batch_size=64, epochs=2, verbose=0).history
        weights.append((history, model.get_weights()))
    assert weights[0][0] == weights[1][0]
    for a, b in zip(weights[0][1], weights[1][1]):
        np.testing.assert_array_equal(a, b)


# -- the core's dropout and its arguments ------------------------------------------------------
def test_dropout_mask_is_a_product():
    """x * 0 for a dropped inf is NaN (as NumPy's product); a select would give 0."""
    v = np.array([np.inf, 1.0, 2.0, np.nan], np.float32)
    u = np.array([0.1, 0.9, 0.1, 0.9], np.float32)
    out = np.empty_like(v)
    _core.dropout_apply(v, u, 0.5, out)
    np.testing.assert_array_equal(out, [np.nan, 2.0, 0.0, np.nan])
    # float64 values keep a float32 comparison and a float64 scale, as the tape's did
    out64 = np.empty(4, np.float64)
    _core.dropout_apply(v.astype(np.float64), u, 0.3, out64)
    np.testing.assert_array_equal(out64[1:3], [1.0 / 0.7, 0.0])


def _dropout_plan(rate=0.5):
    w = np.full((3, 2), 0.5, np.float32)
    calls = [_core.plan.Call(_core.plan.Dropout(rate), [0], []),
             _core.plan.Call(_core.plan.Dense(w, None, "linear"), [1], [0]),
             _core.plan.Call(_core.plan.Dropout(0.25), [2], [])]
    core = _core.plan.Plan([[3]], calls, [_core.plan.LossHead(3, "mse")],
                           [_core.plan.TrainableTensor(w, (None, None, None))], [],
                           _core.UpdateRule("sgd"), 4)
    return core, np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32), w


def _run(core, x, y, steps=1, batch=4, draws=()):
    losses = np.empty((steps, 2), np.float32)
    core.run([x], [y], [None], np.arange(len(x), dtype=np.int64), 0, batch, steps,
             np.full(steps, 0.1), 0, losses, [None], list(draws))
    return losses[:, 0]


def test_plan_dropout_is_the_kernel():
    core, x, y, w = _dropout_plan()
    assert core.draws_per_row == [3, 2]
    x[0, 0] = np.inf
    dropped = [np.zeros((4, 3), np.float32), np.ones((4, 2), np.float32)]
    assert np.isnan(_run(core, x, y, draws=dropped)[0])
    # Everything kept, finite: out = x * 2 . w * 4/3, mse against 0.
    core, x, y, w = _dropout_plan()
    kept = [np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)]
    out = (x * np.float32(2.0)) @ w * np.float32(1 / 0.75)
    assert _run(core, x, y, draws=kept)[0] == pytest.approx(np.mean(out ** 2))


def test_run_rejects_bad_draws():
    core, x, y, _ = _dropout_plan()
    good = [np.ones((4, 3), np.float32), np.ones((4, 2), np.float32)]
    with pytest.raises(ValueError, match=r"and 2 draws"):
        _run(core, x, y)
    with pytest.raises(ValueError, match=r"and 2 draws"):
        _run(core, x, y, draws=good[:1])
    with pytest.raises(TypeError, match=r"draws\[1\]: expected dtype float32"):
        _run(core, x, y, draws=[good[0], good[1].astype(np.float64)])
    with pytest.raises(ValueError, match=r"draws\[0\]: expected shape \(4, 3\)"):
        _run(core, x, y, draws=[np.ones((3, 3), np.float32), good[1]])
    with pytest.raises(ValueError, match=r"draws\[0\]: expected a C-contiguous"):
        _run(core, x, y, draws=[np.ones((3, 4), np.float32).T, good[1]])
    # The rows are those of all the steps: 2 steps of 2 rows here.
    _run(core, x, y, steps=2, batch=2, draws=good)


def test_specs_reject_bad_dropout_and_penalties():
    w = np.zeros((3, 2), np.float32)
    for rate in (0.0, 1.0, -0.5):
        with pytest.raises(ValueError, match=r"rate: expected a float in \(0, 1\)"):
            _core.plan.Dropout(rate)
    with pytest.raises(TypeError):
        _core.plan.Dropout("half")
    with pytest.raises(ValueError, match="penalty: expected finite factors >= 0"):
        _core.plan.TrainableTensor(w, (None, None, None), penalty=(-1.0, 0.0))
    with pytest.raises(ValueError, match=r"penalty: expected \(l1, l2\) or None"):
        _core.plan.TrainableTensor(w, (None, None, None), penalty=(0.1,))
    with pytest.raises(ValueError, match="penalty order names tensor 0, which has no penalty"):
        _core.plan.Plan([[3]], [_core.plan.Call(_core.plan.Dense(w), [0], [0])],
                        [_core.plan.LossHead(1, "mse")],
                        [_core.plan.TrainableTensor(w, (None, None, None))], [0],
                        _core.UpdateRule("sgd"), 4)


def test_weight_penalty_rejects_bad_arguments():
    w = np.ones((3, 2), np.float32)
    with pytest.raises(TypeError, match="w: expected dtype float32 or float64"):
        _core.weight_penalty(w.astype(np.int32), 0.1, 0.0)
    with pytest.raises(ValueError, match=r"out: expected 6 values \(w's size\)"):
        _core.weight_penalty_gradient(w, 0.1, 0.0, np.ones(5, np.float32))
    with pytest.raises(ValueError, match="expected finite factors >= 0"):
        _core.weight_penalty(w, float("nan"), 0.0)
    with pytest.raises(ValueError, match=r"rate: expected a float in \[0, 1\)"):
        _core.dropout_apply(w, w, 1.0, np.empty_like(w))
