"""The nine losses of the second milestone fused on the plan (each `Loss._plan_loss()`
names a core loss kind, the kernel the tape's op calls): plan vs tape bit for bit,
sample weights and a partial last batch included, in a Sequential and a two-output
Functional model."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers, losses, optimizers
from pydl.models import plan as _plan

from conftest import num_threads
from .test_fit_plan import assert_same_training, fit_both, mlp

N = 45

# loss class, the final activation that keeps its inputs in its domain, targets
LOSSES = {
    "KLDivergence": (losses.KLDivergence, "softmax", "probabilities"),
    "Poisson": (losses.Poisson, "softplus", "counts"),
    "LogCosh": (losses.LogCosh, None, "normal"),
    "Hinge": (losses.Hinge, "tanh", "zero_one"),
    "SquaredHinge": (losses.SquaredHinge, None, "signs"),
    "CategoricalHinge": (losses.CategoricalHinge, None, "one_hot"),
    "CosineSimilarity": (losses.CosineSimilarity, None, "normal"),
    "MeanSquaredLogarithmicError": (losses.MeanSquaredLogarithmicError, "relu", "counts"),
    "MeanAbsolutePercentageError": (losses.MeanAbsolutePercentageError, None, "normal"),
}


def _targets(rng, kind, n, out):
    if kind == "probabilities":
        p = rng.random((n, out)).astype(np.float32) + 0.1
        return p / p.sum(axis=1, keepdims=True)
    if kind == "counts":
        return rng.poisson(2.0, (n, out)).astype(np.float32)
    if kind == "zero_one":
        return (rng.random((n, out)) < 0.5).astype(np.float32)
    if kind == "signs":
        return np.where(rng.random((n, out)) < 0.5, -1.0, 1.0).astype(np.float32)
    if kind == "one_hot":
        return np.eye(out, dtype=np.float32)[rng.integers(0, out, n)]
    return rng.standard_normal((n, out)).astype(np.float32)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_new_loss_is_fused_and_matches_the_tape(name):
    cls, activation, target_kind = LOSSES[name]
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, 6)).astype(np.float32)
    y = _targets(rng, target_kind, N, 4)
    spec = [lambda: layers.Dense(10, activation="tanh"),
            lambda: layers.Dense(4, activation=activation)]
    model = mlp(spec, (6,))
    model.compile(optimizer="adam", loss=cls())
    assert _plan.plan_reason(model) is None
    assert cls()._plan_loss()[0] == cls.kind
    plan, tape = fit_both(lambda: mlp(spec, (6,)),
                          lambda: dict(optimizer=optimizers.Adam(0.01), loss=cls(),
                                       metrics=["mae"]),
                          x, y, batch_size=8, epochs=2,
                          sample_weight=rng.random(N).astype(np.float32))
    assert_same_training(plan, tape)


def test_new_losses_on_two_outputs_at_2_threads():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, 6)).astype(np.float32)
    y = {"a": _targets(rng, "probabilities", N, 5), "b": _targets(rng, "signs", N, 2)}

    def build():
        pydl.utils.set_random_seed(5)
        inp = pydl.Input((6,))
        h = layers.BatchNormalization()(layers.Dense(64)(inp))
        h = layers.Activation("relu")(h)
        a = layers.Dense(5, activation="softmax", name="a")(h)
        b = layers.Dense(2, name="b")(h)
        return pydl.Model(inp, [a, b])

    with num_threads(2):
        plan, tape = fit_both(build, lambda: dict(
            optimizer=optimizers.Adam(0.01),
            loss={"a": losses.KLDivergence(), "b": losses.SquaredHinge()},
            loss_weights={"a": 0.7, "b": 1.0}), x, y, batch_size=8, epochs=2)
    assert_same_training(plan, tape)
