"""fit on the fused plan against fit on the GradientTape: bitwise the same training."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers, optimizers
from pydl.models import plan as _plan

from conftest import num_threads


def mlp(spec, input_shape, seed=5):
    pydl.utils.set_random_seed(seed)
    return pydl.Sequential([pydl.Input(shape=input_shape)] + [make() for make in spec])


def fit_both(build, compile_args, x, y, seed=9, **fit_args):
    """(plan model, history), (tape model, history) trained from the same start."""
    results = []
    for use_plan in (True, False):
        model = build()
        model.compile(**compile_args())
        pydl.utils.set_random_seed(seed)
        if use_plan:
            history = model.fit(x, y, verbose=0, **fit_args)
        else:
            with _plan.disabled():
                history = model.fit(x, y, verbose=0, **fit_args)
        results.append((model, history.history))
    return results


def fused_plan(model):
    """The model's fused plan, or None when it trains on the tape."""
    return getattr(model.__dict__.get("_plan_cache"), "fused", None)


def assert_same_training(plan_result, tape_result):
    (pm, ph), (tm, th) = plan_result, tape_result
    assert fused_plan(pm) is not None, _plan.plan_reason(pm)
    assert fused_plan(tm) is None
    assert ph == th  # every loss and metric, bit for bit
    for a, b in zip(pm.get_weights(), tm.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(pm.optimizer.variables, tm.optimizer.variables):
        np.testing.assert_array_equal(a, b)


def data(rng, n, shape, loss, out):
    x = rng.standard_normal((n,) + shape).astype(np.float32)
    if loss == "sparse_categorical_crossentropy":
        y = rng.integers(0, out, n)
    elif loss == "categorical_crossentropy":
        y = np.eye(out, dtype=np.float32)[rng.integers(0, out, n)]
    elif loss == "binary_crossentropy":
        y = (rng.random((n, out)) < 0.5).astype(np.float32)
    else:
        y = rng.standard_normal((n, out)).astype(np.float32)
    return x, y


CASES = {
    "relu-softmax-sparse-sgd-momentum": dict(
        shape=(6,), out=3, loss="sparse_categorical_crossentropy",
        layers=[lambda: layers.Dense(16, activation="relu"),
                lambda: layers.Dense(3, activation="softmax")],
        compile=lambda: dict(optimizer=optimizers.SGD(0.05, momentum=0.9),
                             loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
        fit=dict(batch_size=16, epochs=2)),
    "relu-softmax-sparse-sgd-momentum-no-metrics": dict(  # no predictions asked for
        shape=(6,), out=3, loss="sparse_categorical_crossentropy",
        layers=[lambda: layers.Dense(16, activation="relu"),
                lambda: layers.Dense(3, activation="softmax")],
        compile=lambda: dict(optimizer=optimizers.SGD(0.05, momentum=0.9),
                             loss="sparse_categorical_crossentropy"),
        fit=dict(batch_size=16, epochs=2)),
    "sigmoid-bce-adam-no-metrics": dict(
        shape=(5,), out=2, loss="binary_crossentropy",
        layers=[lambda: layers.Dense(8, activation="tanh"),
                lambda: layers.Dense(2, activation="sigmoid")],
        compile=lambda: dict(optimizer="adam", loss="binary_crossentropy"),
        fit=dict(batch_size=8, epochs=2)),
    "flatten-tanh-activation-softmax-categorical-adam-weighted": dict(
        shape=(4, 3), out=4, loss="categorical_crossentropy", weighted=True,
        layers=[lambda: layers.Flatten(), lambda: layers.Dense(8, activation="tanh"),
                lambda: layers.Dense(4), lambda: layers.Activation("softmax")],
        compile=lambda: dict(optimizer=optimizers.Adam(0.01), loss="categorical_crossentropy",
                             metrics=["accuracy"], weighted_metrics=["accuracy"]),
        fit=dict(batch_size=10, epochs=2)),
    "sigmoid-bce-rmsprop-dropout0-classweight": dict(
        shape=(5,), out=1, loss="binary_crossentropy",
        layers=[lambda: layers.Dense(8, activation="sigmoid"), lambda: layers.Dropout(0.0),
                lambda: layers.Dense(1, activation="sigmoid")],
        compile=lambda: dict(optimizer=optimizers.RMSprop(0.01, momentum=0.3),
                             loss="binary_crossentropy", metrics=["accuracy"]),
        fit=dict(batch_size=8, epochs=2, class_weight={0: 0.5, 1: 2.0})),
    "gelu-nobias-mse-adagrad-validation": dict(
        shape=(7,), out=2, loss="mse",
        layers=[lambda: layers.Dense(6, activation="gelu", use_bias=False),
                lambda: layers.Dense(2)],
        compile=lambda: dict(optimizer="adagrad", loss="mse", metrics=["mae"]),
        fit=dict(batch_size=12, epochs=2, validation_split=0.2)),
    "elu-huber-adamw-schedule-clipnorm-noshuffle": dict(
        shape=(4,), out=2, loss="huber",
        layers=[lambda: layers.Dense(5, activation="elu"), lambda: layers.Dense(2)],
        compile=lambda: dict(
            optimizer=optimizers.AdamW(optimizers.schedules.ExponentialDecay(0.05, 3, 0.7),
                                       clipnorm=0.2),
            loss="huber"),
        fit=dict(batch_size=7, epochs=2, shuffle=False)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_fit_plan_matches_tape_bitwise(case, rng):
    c = CASES[case]
    x, y = data(rng, 45, c["shape"], c["loss"], c["out"])
    fit = dict(c["fit"])
    if c.get("weighted"):
        fit["sample_weight"] = rng.random(45).astype(np.float32)
    plan, tape = fit_both(lambda: mlp(c["layers"], c["shape"]), c["compile"], x, y, **fit)
    assert_same_training(plan, tape)


class BatchEnds(pydl.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_train_batch_end(self, batch, logs=None):
        self.seen.append((batch, logs["loss"]))


def _small_model():
    return mlp([lambda: layers.Dense(12, activation="relu"),
                lambda: layers.Dense(3, activation="softmax")], (5,))


def test_steps_per_execution_changes_calls_not_results(rng):
    x, y = data(rng, 70, (5,), "sparse_categorical_crossentropy", 3)
    runs = {}
    for spe in (1, 4):
        model = _small_model()
        model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], steps_per_execution=spe)
        hook = BatchEnds()
        pydl.utils.set_random_seed(3)
        history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[hook])
        runs[spe] = (model, history.history, hook.seen)
    # 9 batches per epoch: hooks once per execution, at its last batch (Keras).
    assert [b for b, _ in runs[1][2]] == list(range(9)) * 2
    assert [b for b, _ in runs[4][2]] == [3, 7, 8] * 2
    assert runs[1][1] == runs[4][1]
    assert runs[4][2][:3] == [runs[1][2][i] for i in (3, 7, 8)]
    for a, b in zip(runs[1][0].get_weights(), runs[4][0].get_weights()):
        np.testing.assert_array_equal(a, b)
    assert runs[4][0].optimizer.iterations == 18


def test_fit_same_bits_at_1_and_2_threads(rng):
    x, y = data(rng, 256, (40,), "sparse_categorical_crossentropy", 10)
    weights = []
    for threads in (1, 2):
        model = mlp([lambda: layers.Dense(128, activation="relu"),
                     lambda: layers.Dense(10, activation="softmax")], (40,))
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        pydl.utils.set_random_seed(4)
        with num_threads(threads):
            model.fit(x, y, batch_size=64, epochs=2, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)


def test_training_continues_exactly_after_set_weights_and_train_on_batch(rng):
    x, y = data(rng, 40, (5,), "sparse_categorical_crossentropy", 3)
    models = []
    for use_plan in (True, False):
        model = _small_model()
        model.compile(optimizer=optimizers.SGD(0.1, momentum=0.5),
                      loss="sparse_categorical_crossentropy")
        pydl.utils.set_random_seed(6)
        ctx = _plan.disabled() if not use_plan else _nullcontext()
        with ctx:
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)
            model.set_weights([w * 0.5 for w in model.get_weights()])
            model.fit(x, y, batch_size=8, epochs=1, verbose=0)
            logs = model.train_on_batch(x[:13], y[:13], return_dict=True)
        models.append((model, logs))
    (pm, pl), (tm, tl) = models
    assert pl == tl
    for a, b in zip(pm.get_weights(), tm.get_weights()):
        np.testing.assert_array_equal(a, b)


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_recompile_builds_a_new_plan(rng):
    x, y = data(rng, 32, (5,), "sparse_categorical_crossentropy", 3)
    model = _small_model()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, verbose=0)
    first = fused_plan(model)
    model.fit(x, y, batch_size=8, verbose=0)
    assert fused_plan(model) is first  # reused: same arrays, same settings
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, verbose=0)
    assert fused_plan(model) is not first


class Scale(layers.Layer):
    def call(self, x):
        return x * 2.0


@pytest.mark.parametrize("why, build, compile_args", [
    ("custom layer", lambda: mlp([lambda: Scale(), lambda: layers.Dense(2)], (3,)), {}),
    ("dropout noise_shape", lambda: mlp([lambda: layers.Dense(4),
                                         lambda: layers.Dropout(0.5, noise_shape=(None, 1)),
                                         lambda: layers.Dense(2)], (3,)), {}),
    ("activity regularizer",
     lambda: mlp([lambda: layers.Dense(2, activity_regularizer="l2")], (3,)), {}),
    ("custom regularizer", lambda: mlp([lambda: layers.Dense(
        2, kernel_regularizer=lambda w: pydl.ops.sum(pydl.ops.abs(w)))], (3,)), {}),
    ("custom loss", lambda: mlp([lambda: layers.Dense(2)], (3,)),
     {"loss": lambda t, p: pydl.ops.mean(pydl.ops.square(t - p))}),
])
def test_models_outside_the_plan_train_on_the_tape(why, build, compile_args, rng):
    x, y = data(rng, 20, (3,), "mse", 2)
    model = build()
    model.compile(**dict({"optimizer": "sgd", "loss": "mse"}, **compile_args))
    assert isinstance(_plan.plan_reason(model), str)
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=5, verbose=0)
    assert fused_plan(model) is None
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_float64_model_trains_on_the_tape(rng):
    x, y = data(rng, 20, (3,), "mse", 2)
    pydl.utils.set_random_seed(1)
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2, dtype="float64")])
    model.compile(optimizer="sgd", loss="mse")
    assert "float32" in _plan.plan_reason(model)
    model.fit(x.astype(np.float64), y.astype(np.float64), batch_size=5, verbose=0)
    assert fused_plan(model) is None


def test_plan_learns_a_teacher_problem(rng):
    teacher = rng.standard_normal((8, 2)).astype(np.float32)
    x = rng.standard_normal((400, 8)).astype(np.float32)
    y = np.tanh(x @ teacher)
    model = mlp([lambda: layers.Dense(32, activation="tanh"), lambda: layers.Dense(2)], (8,))
    model.compile(optimizer=optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, batch_size=32, epochs=30, verbose=0)
    assert fused_plan(model) is not None
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]
