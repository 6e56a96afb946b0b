"""Activity penalties on the fused plan against the GradientTape, bit for bit.

ActivityRegularization and Dense(activity_regularizer=...) add ``penalty(output) / batch``
to the loss (Keras 3's Layer.__call__). The plan adds each term in model.losses order
among the weight penalties, and its gradient where the tape recorded its op: after the
nodes that ran before it, in reverse recording order. Cases: a penalty in the middle,
two in a row on one value, one before a view (Flatten shares its input's memory), one
on a model input (no gradient), a value feeding two branches, a layer called twice, a
nested model, weight penalties around them, the last batch partial, 1 and 2 threads; a
penalized model output takes the tape."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers, optimizers, regularizers
from pydl.models import plan as _plan

from conftest import num_threads
from .test_fit_plan import assert_same_training, fit_both, mlp

N = 45  # batches of 8: the last one has 5 rows


SEQUENTIAL = {
    # name: (layer makers, per-sample input shape, loss, output units)
    "middle": ([lambda: layers.Dense(8, activation="relu"),
                lambda: layers.ActivityRegularization(l1=0.01, l2=0.02),
                lambda: layers.Dense(3)], (6,), "mse", 3),
    "two-in-a-row-and-weight-penalties": (
        [lambda: layers.Dense(8, activation="tanh", kernel_regularizer="l2"),
         lambda: layers.ActivityRegularization(l1=0.05),
         lambda: layers.ActivityRegularization(l2=0.1),
         lambda: layers.Dense(3, bias_regularizer=regularizers.L1(0.01))], (6,), "mse", 3),
    "before-a-view": ([lambda: layers.Dense(8), lambda: layers.Reshape((2, 4)),
                       lambda: layers.ActivityRegularization(l1=0.01, l2=0.01),
                       lambda: layers.Flatten(), lambda: layers.Dense(3)], (6,), "mae", 3),
    "on-the-model-input": ([lambda: layers.ActivityRegularization(l1=0.1, l2=0.1),
                            lambda: layers.Dense(3)], (6,), "mse", 3),
    "dense-activity-regularizer": (
        [lambda: layers.Dense(8, activation="relu",
                              activity_regularizer=regularizers.L1L2(0.01, 0.01)),
         lambda: layers.Dense(3)], (6,), "mse", 3),
}


def _data(rng, shape, loss, out, n=N):
    x = rng.standard_normal((n,) + shape).astype(np.float32)
    if loss == "sparse_categorical_crossentropy":
        return x, rng.integers(0, out, n)
    return x, rng.standard_normal((n, out)).astype(np.float32)


def _compare_sequential(name, threads):
    spec, shape, loss, out = SEQUENTIAL[name]
    x, y = _data(np.random.default_rng(3), shape, loss, out)
    with num_threads(threads):
        plan, tape = fit_both(lambda: mlp(spec, shape),
                              lambda: dict(optimizer=optimizers.Adam(0.01), loss=loss),
                              x, y, batch_size=8, epochs=2)
    assert_same_training(plan, tape)
    return plan


@pytest.mark.parametrize("name", sorted(SEQUENTIAL))
def test_sequential_activity_penalties_match_the_tape_bitwise(name):
    _compare_sequential(name, threads=1)


@pytest.mark.parametrize("name", ["middle", "dense-activity-regularizer"])
def test_activity_penalties_match_the_tape_at_2_threads(name):
    _compare_sequential(name, threads=2)


def test_a_penalized_model_output_takes_the_tape():
    """The tape's cross-entropy reads the logits kept beside a softmax output while the
    penalty's gradient flows through the softmax: the plan says no."""
    spec = [lambda: layers.Dense(8, activation="relu"),
            lambda: layers.Dense(4, activation="softmax", activity_regularizer="l2")]
    x, y = _data(np.random.default_rng(3), (6,), "sparse_categorical_crossentropy", 4)
    model = mlp(spec, (6,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert "activity penalty on the model output 0" in _plan.plan_reason(model)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0).history
    assert model._trained_on == "tape" and history["loss"][-1] < history["loss"][0]


def test_the_penalty_is_in_the_loss_divided_by_the_batch():
    """Zero weights: the data loss is the mean of y ** 2; the rest is l1 * sum|x| / batch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    model = pydl.Sequential([pydl.Input((3,)), layers.ActivityRegularization(l1=10.0),
                             layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse")
    loss = model.fit(x, y, batch_size=8, epochs=1, verbose=0).history["loss"][0]
    assert model._trained_on == "plan", _plan.plan_reason(model)
    assert loss == pytest.approx(np.mean(y ** 2) + 10.0 * np.abs(x).sum() / 8, rel=1e-6)


# -- Functional graphs ------------------------------------------------------------------------
def _two_branches():
    """The penalized value feeds two branches (three contributions to its gradient)."""
    x = pydl.Input((6,))
    h = layers.Dense(8, activation="relu", kernel_regularizer="l1")(x)
    p = layers.ActivityRegularization(l1=0.02, l2=0.01)(h)
    a = layers.Dense(4, activation="tanh")(p)
    b = layers.Dense(4, activity_regularizer="l1")(h)
    return pydl.Model(x, layers.Dense(1)(layers.Concatenate()([a, b, p])))


def _called_twice():
    """One ActivityRegularization called on two values, its terms in call order."""
    x = pydl.Input((6,))
    reg = layers.ActivityRegularization(l1=0.03, l2=0.02)
    a = reg(layers.Dense(5, activation="relu")(x))
    b = reg(layers.Dense(5, activation="sigmoid")(x))
    return pydl.Model(x, layers.Dense(1)(layers.Add()([a, b])))


def _nested():
    inner_in = pydl.Input((8,))
    inner = pydl.Model(inner_in, layers.ActivityRegularization(l2=0.05)(
        layers.Dense(8, activation="relu", activity_regularizer="l1")(inner_in)))
    x = pydl.Input((6,))
    return pydl.Model(x, layers.Dense(1)(inner(layers.Dense(8)(x))))


FUNCTIONAL = {"two-branches": _two_branches, "called-twice": _called_twice, "nested": _nested}


@pytest.mark.parametrize("name", sorted(FUNCTIONAL))
@pytest.mark.parametrize("threads", [1, 2])
def test_functional_activity_penalties_match_the_tape_bitwise(name, threads):
    rng = np.random.default_rng(5)
    x, y = _data(rng, (6,), "mse", 1)

    def build():
        pydl.utils.set_random_seed(11)
        return FUNCTIONAL[name]()

    with num_threads(threads):
        plan, tape = fit_both(build, lambda: dict(optimizer=optimizers.SGD(0.05, momentum=0.9),
                                                  loss="mse"),
                              x, y, batch_size=8, epochs=2)
    assert_same_training(plan, tape)


def test_an_activity_regularizer_the_core_cannot_compute_takes_the_tape():
    def custom(x):
        return pydl.ops.sum(pydl.ops.abs(x)) * 0.5

    model = mlp([lambda: layers.Dense(4, activity_regularizer=custom),
                 lambda: layers.Dense(1)], (6,))
    model.compile(optimizer="sgd", loss="mse")
    assert "is not L1/L2" in _plan.plan_reason(model)


def test_activity_penalty_spec_checks_its_arguments():
    with pytest.raises(ValueError, match="value, after, rank"):
        pydl._core.plan.ActivityPenalty(-1, 0, 0, 0.1, 0.0)
    with pytest.raises(ValueError, match="l1, l2"):
        pydl._core.plan.ActivityPenalty(0, 0, 0, float("nan"), 0.0)
