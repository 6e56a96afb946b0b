"""Functional graphs on the fused plan against the GradientTape, bit for bit: two towers
joined by Concatenate, a residual Add, every merge layer, two outputs with loss_weights,
nested models, shared layers, frozen layers; at 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.models import plan as _plan

from conftest import num_threads


def _two_tower():
    a, b = pydl.Input((12,), name="left"), pydl.Input((7,), name="right")
    ha = layers.Dense(16, activation="relu")(a)
    hb = layers.Dense(16, activation="tanh")(b)
    h = layers.Concatenate()([ha, hb])
    h = layers.Dense(20, activation="relu")(h)
    return pydl.Model([a, b], layers.Dense(4, activation="softmax")(h))


def _residual():
    x = pydl.Input((12,))
    h = layers.Dense(10, activation="relu")(x)
    r = layers.Dense(10, activation="gelu")(h)
    h = layers.Add()([h, r])  # h feeds the Add and the next Dense: two contributions
    r = layers.Dense(10, activation="elu")(h)
    h = layers.add([r, h])
    return pydl.Model(x, layers.Dense(3)(h))


def _every_merge():
    x = pydl.Input((12,))
    h = layers.Dense(8, activation="relu")(x)
    r = layers.Dense(8, activation="tanh")(h)
    s = layers.Add()([h, r, h])
    m = layers.Multiply()([s, h, r])
    av = layers.Average()([m, h, s])
    mx = layers.Maximum()([av, h])
    mn = layers.Minimum()([mx, s, r])
    d = layers.Subtract()([mn, h])
    d = layers.Reshape((2, 4))(d)
    d = layers.Dropout(0.3)(layers.Flatten()(d))
    return pydl.Model(x, layers.Dense(3)(layers.Concatenate()([d, h, d])))


def _two_outputs():
    x = pydl.Input((12,), name="features")
    h = layers.Dense(16, activation="relu")(x)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(h)
    department = layers.Dense(4, activation="softmax", name="department")(h)
    return pydl.Model(x, [priority, department])


def _nested():
    inner_in = pydl.Input((12,))
    inner = pydl.Model(inner_in, layers.Dense(9, activation="relu")(inner_in))
    seq = pydl.Sequential([pydl.Input((9,)), layers.Dense(6, activation="tanh")])
    x = pydl.Input((12,))
    return pydl.Model(x, layers.Dense(3)(seq(inner(x))))


def _shared():
    shared = layers.Dense(8, activation="relu")
    a, b = pydl.Input((12,)), pydl.Input((12,))
    h = layers.Concatenate()([shared(a), shared(b)])  # one kernel, two gradients
    return pydl.Model([a, b], layers.Dense(2)(h))


def _frozen():
    x = pydl.Input((12,))
    frozen = layers.Dense(10, activation="relu")
    frozen.trainable = False
    h = frozen(x)
    return pydl.Model(x, layers.Dense(3)(layers.Dense(7, activation="relu")(h)))


def _data(rng, n, model_name):
    x = rng.standard_normal((n, 12)).astype(np.float32)
    if model_name in ("two_tower",):
        return [x, rng.standard_normal((n, 7)).astype(np.float32)], rng.integers(0, 4, n)
    if model_name == "shared":
        return [x, rng.standard_normal((n, 12)).astype(np.float32)], \
            rng.standard_normal((n, 2)).astype(np.float32)
    if model_name == "two_outputs":
        return x, {"priority": rng.random((n, 1)).astype(np.float32),
                   "department": rng.integers(0, 4, n)}
    return x, rng.standard_normal((n, 3)).astype(np.float32)


CASES = {
    "two_tower": (_two_tower, dict(loss="sparse_categorical_crossentropy",
                                   metrics=["accuracy"])),
    "residual": (_residual, dict(loss="mse", metrics=["mae"])),
    "every_merge": (_every_merge, dict(loss="huber")),
    "two_outputs": (_two_outputs, dict(
        loss={"priority": "binary_crossentropy",
              "department": "sparse_categorical_crossentropy"},
        loss_weights={"priority": 1.0, "department": 0.2},
        metrics={"priority": ["mae"], "department": ["accuracy"]})),
    "nested": (_nested, dict(loss="mse")),
    "shared": (_shared, dict(loss="mae")),
    "frozen": (_frozen, dict(loss="mse")),
}


def _train(case, use_plan, threads, rng_seed=3):
    build, compile_args = CASES[case]
    rng = np.random.default_rng(rng_seed)
    x, y = _data(rng, 45, case)  # batches of 8: the last one has 5 rows
    pydl.utils.set_random_seed(11)
    model = build()
    model.compile(optimizer=pydl.optimizers.Adam(0.01), **compile_args)
    pydl.utils.set_random_seed(12)
    with num_threads(threads):
        if use_plan:
            history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        else:
            with _plan.disabled():
                history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return model, history.history


@pytest.mark.parametrize("case", sorted(CASES))
def test_functional_plan_matches_tape_bitwise(case):
    plan_model, plan_history = _train(case, True, 1)
    assert plan_model._trained_on == "plan", _plan.plan_reason(plan_model)
    tape_model, tape_history = _train(case, False, 1)
    assert tape_model._trained_on == "tape"
    assert plan_history == tape_history
    for a, b in zip(plan_model.get_weights(), tape_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(plan_model.optimizer.variables, tape_model.optimizer.variables):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", ["two_tower", "every_merge", "two_outputs"])
def test_functional_plan_same_bits_at_1_and_2_threads(case):
    one, h1 = _train(case, True, 1)
    two, h2 = _train(case, True, 2)
    assert h1 == h2
    for a, b in zip(one.get_weights(), two.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_two_output_history_keys_follow_keras():
    _, history = _train("two_outputs", True, 1)
    assert set(history) == {"loss", "priority_loss", "department_loss", "priority_mae",
                            "department_accuracy"}
    for epoch in range(2):  # the total is the weighted sum of the per-output losses
        total = history["priority_loss"][epoch] + 0.2 * history["department_loss"][epoch]
        assert history["loss"][epoch] == pytest.approx(total, rel=1e-5)


def test_merge_layers_with_broadcast_shapes_take_the_tape():
    x = pydl.Input((6,))
    h = layers.Dense(4)(x)
    one = layers.Dense(1)(x)
    model = pydl.Model(x, layers.Dense(2)(layers.Multiply()([h, one])))
    model.compile(optimizer="sgd", loss="mse")
    assert "different shapes" in _plan.plan_reason(model)
    rng = np.random.default_rng(0)
    model.fit(rng.standard_normal((16, 6)), rng.standard_normal((16, 2)), verbose=0)
    assert model._trained_on == "tape"


def test_an_output_that_feeds_another_layer_takes_the_tape():
    x = pydl.Input((6,))
    h = layers.Dense(4, activation="softmax")(x)
    out2 = layers.Dense(2)(h)
    model = pydl.Model(x, [h, out2])
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])
    assert "feeds another layer" in _plan.plan_reason(model)
