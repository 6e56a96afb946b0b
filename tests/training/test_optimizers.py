"""Every optimizer, every variant, against its written Keras 3 rule (optimizer_reference.py)."""

import json

import numpy as np
import pytest

import pydl
from pydl import optimizers
from pydl.optimizers import schedules

from .optimizer_reference import ReferenceOptimizer


class Var:
    """The part of pydl.Variable optimizers rely on: `.value` (updated in place) and `.name`."""

    def __init__(self, value, name="v"):
        self.value = value
        self.name = name


EXP = schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)
PIECEWISE = schedules.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.02])
COSINE = schedules.CosineDecay(0.0, decay_steps=4, alpha=0.1, warmup_target=0.05, warmup_steps=2)

# (id, pydl factory(**clip), reference kind, reference hyperparameters)
CASES = [
    ("sgd", lambda **c: optimizers.SGD(0.1, **c), "sgd", dict(learning_rate=0.1)),
    ("sgd_momentum", lambda **c: optimizers.SGD(0.1, momentum=0.9, **c), "sgd",
     dict(learning_rate=0.1, momentum=0.9)),
    ("sgd_nesterov", lambda **c: optimizers.SGD(0.1, momentum=0.9, nesterov=True, **c), "sgd",
     dict(learning_rate=0.1, momentum=0.9, nesterov=True)),
    ("sgd_weight_decay", lambda **c: optimizers.SGD(0.1, momentum=0.5, weight_decay=0.05, **c), "sgd",
     dict(learning_rate=0.1, momentum=0.5, weight_decay=0.05)),
    ("sgd_piecewise", lambda **c: optimizers.SGD(PIECEWISE, momentum=0.9, **c), "sgd",
     dict(learning_rate=PIECEWISE, momentum=0.9)),
    ("adagrad", lambda **c: optimizers.Adagrad(0.1, initial_accumulator_value=0.2, epsilon=1e-6, **c),
     "adagrad", dict(learning_rate=0.1, initial_accumulator_value=0.2, epsilon=1e-6)),
    ("rmsprop", lambda **c: optimizers.RMSprop(0.01, **c), "rmsprop", dict(learning_rate=0.01)),
    ("rmsprop_momentum", lambda **c: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, **c), "rmsprop",
     dict(learning_rate=0.01, rho=0.8, momentum=0.5)),
    ("rmsprop_centered", lambda **c: optimizers.RMSprop(0.01, centered=True, **c), "rmsprop",
     dict(learning_rate=0.01, centered=True)),
    ("rmsprop_centered_momentum_cosine",
     lambda **c: optimizers.RMSprop(COSINE, momentum=0.3, centered=True, **c), "rmsprop",
     dict(learning_rate=COSINE, momentum=0.3, centered=True)),
    ("adam", lambda **c: optimizers.Adam(0.01, **c), "adam", dict(learning_rate=0.01)),
    ("adam_amsgrad", lambda **c: optimizers.Adam(0.01, beta_1=0.8, beta_2=0.9, amsgrad=True, **c), "adam",
     dict(learning_rate=0.01, beta_1=0.8, beta_2=0.9, amsgrad=True)),
    ("adam_exponential", lambda **c: optimizers.Adam(EXP, epsilon=1e-3, **c), "adam",
     dict(learning_rate=EXP, epsilon=1e-3)),
    ("adamw", lambda **c: optimizers.AdamW(0.01, weight_decay=0.1, **c), "adam",
     dict(learning_rate=0.01, weight_decay=0.1)),
    ("adamw_amsgrad", lambda **c: optimizers.AdamW(0.01, amsgrad=True, **c), "adam",
     dict(learning_rate=0.01, weight_decay=0.004, amsgrad=True)),
]
CLIPS = {
    "noclip": {},
    "clipnorm": dict(clipnorm=0.5),
    "clipvalue": dict(clipvalue=0.1),
    "global_clipnorm": dict(global_clipnorm=0.7),
}
SHAPES = [(3, 4), (5,), (1,)]


def gradient_sequence(rng, steps, dtype):
    # Shrinking magnitudes so that AMSGrad's running maximum matters and clipping
    # is active in the first steps and not in the last ones.
    return [[(rng.standard_normal(s) * 2.0 / (t + 1)).astype(dtype) for s in SHAPES] for t in range(steps)]


def run_both(make, kind, hp, clip, dtype, rng, steps=6):
    weights = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    grads = gradient_sequence(rng, steps, dtype)
    variables = [Var(w.copy(), name=f"w{i}") for i, w in enumerate(weights)]
    opt = make(**clip)
    ref = ReferenceOptimizer(kind, **hp, **clip)
    ref_weights = [w.astype(np.float64) for w in weights]
    for step_grads in grads:
        opt.apply_gradients(zip(step_grads, variables))
        ref.step(ref_weights, [g.astype(np.float64) for g in step_grads])
    return opt, variables, ref_weights


@pytest.mark.parametrize("clip", list(CLIPS), ids=list(CLIPS))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_keras_rule_float64(case, clip, rng):
    _, make, kind, hp = case
    opt, variables, ref_weights = run_both(make, kind, hp, CLIPS[clip], np.float64, rng)
    assert opt.iterations == 6
    for v, ref in zip(variables, ref_weights):
        np.testing.assert_allclose(v.value, ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_float32_preserved_and_close_to_float64_rule(case, rng):
    _, make, kind, hp = case
    _, variables, ref_weights = run_both(make, kind, hp, {}, np.float32, rng)
    for v, ref in zip(variables, ref_weights):
        assert v.value.dtype == np.float32
        np.testing.assert_allclose(v.value, ref, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize(
    "make, steps",
    [
        (lambda: optimizers.SGD(0.1), 200),
        (lambda: optimizers.SGD(0.05, momentum=0.9, nesterov=True), 200),
        (lambda: optimizers.Adagrad(0.5), 300),
        (lambda: optimizers.RMSprop(0.01, centered=True), 400),
        (lambda: optimizers.Adam(0.05), 400),
        (lambda: optimizers.AdamW(0.05, weight_decay=1e-4, amsgrad=True), 400),
    ],
    ids=["sgd", "nesterov", "adagrad", "rmsprop", "adam", "adamw"],
)
def test_converges_on_a_quadratic(make, steps):
    # f(w) = 0.5 * sum(a * (w - c)^2), minimum at c.
    a = np.array([1.0, 3.0, 0.5, 2.0])
    c = np.array([1.0, -2.0, 0.5, 3.0])
    w = Var(np.zeros(4))
    opt = make()
    for _ in range(steps):
        opt.apply_gradients([(a * (w.value - c), w)])
    np.testing.assert_allclose(w.value, c, atol=0.05)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_config_round_trip(case):
    opt = case[1](clipnorm=1.5)
    config = json.loads(json.dumps(optimizers.serialize(opt)))
    restored = optimizers.get(config)
    assert type(restored) is type(opt)
    assert restored.get_config() == opt.get_config()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_state_restores_exactly(case, rng):
    """variables -> set_variables on a fresh optimizer continues bitwise identically."""
    make = case[1]
    weights = [Var(rng.standard_normal(s)) for s in SHAPES]
    grads = gradient_sequence(rng, 6, np.float64)
    opt = make()
    for g in grads[:3]:
        opt.apply_gradients(zip(g, weights))
    saved_state = [np.array(a) for a in opt.variables]
    saved_weights = [v.value.copy() for v in weights]
    for g in grads[3:]:
        opt.apply_gradients(zip(g, weights))

    resumed = [Var(w) for w in saved_weights]
    opt2 = make()
    opt2.set_variables(saved_state, var_list=resumed)
    assert opt2.iterations == 3
    for g in grads[3:]:
        opt2.apply_gradients(zip(g, resumed))
    for a, b in zip(weights, resumed):
        np.testing.assert_array_equal(a.value, b.value)


def test_slots_are_built_kind_by_kind_in_variable_order():
    variables = [Var(np.zeros((2, 3))), Var(np.zeros(4))]
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    opt.build(variables)
    assert [a.shape for a in opt.variables] == [(), (2, 3), (4,), (2, 3), (4,), (2, 3), (4,)]
    assert list(opt.slots(variables[1])) == ["velocity", "momentum", "average_gradient"]
    assert np.all(optimizers.Adagrad(initial_accumulator_value=0.3).variables[0] == 0)
    ada = optimizers.Adagrad(initial_accumulator_value=0.3)
    ada.build(variables)
    assert np.all(ada.variables[1] == 0.3)


def test_none_gradient_skips_the_variable_and_its_decay(rng):
    a, b = Var(np.ones(3)), Var(np.ones(2))
    opt = optimizers.AdamW(0.1, weight_decay=0.5)
    opt.apply_gradients([(np.ones(3), a), (None, b)])
    np.testing.assert_array_equal(b.value, np.ones(2))
    assert not np.array_equal(a.value, np.ones(3))
    assert opt.iterations == 1


def test_gradients_are_converted_to_the_variable_dtype():
    w = Var(np.zeros((2, 2), np.float32))
    opt = optimizers.SGD(1.0)
    opt.apply_gradients([(np.arange(4.0).reshape(2, 2).T, w)])  # float64, not C-contiguous
    assert w.value.dtype == np.float32
    np.testing.assert_array_equal(w.value, -np.array([[0.0, 2.0], [1.0, 3.0]], np.float32))
    opt.apply_gradients([([[1, 1], [1, 1]], w)])  # nested lists work too
    np.testing.assert_array_equal(w.value, -np.array([[1.0, 3.0], [2.0, 4.0]], np.float32))


def test_exclude_from_weight_decay():
    kernel, bias = Var(np.ones(2), name="dense/kernel"), Var(np.ones(2), name="dense/bias")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients([(np.zeros(2), kernel), (np.zeros(2), bias)])
    np.testing.assert_allclose(kernel.value, 0.95)
    np.testing.assert_array_equal(bias.value, 1.0)


def test_learning_rate_property_and_setter():
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.02
    assert opt.learning_rate == 0.02 and opt.get_config()["learning_rate"] == 0.02
    sched = optimizers.SGD(schedules.ExponentialDecay(1.0, 1, 0.5))
    w = Var(np.zeros(1))
    assert sched.learning_rate == 1.0
    sched.apply_gradients([(np.ones(1), w)])
    assert sched.learning_rate == 0.5
    with pytest.raises(TypeError, match="not settable"):
        sched.learning_rate = 0.1


def test_get_resolves_names_instances_and_dicts():
    for name, cls in [("sgd", optimizers.SGD), ("Adagrad", optimizers.Adagrad), ("RMSPROP", optimizers.RMSprop),
                      ("adam", optimizers.Adam), ("AdamW", optimizers.AdamW)]:
        assert type(optimizers.get(name)) is cls
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    assert optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.5}}).learning_rate == 0.5
    assert pydl.optimizers is optimizers


def test_keras_defaults():
    assert optimizers.SGD().get_config()["learning_rate"] == 0.01
    ada = optimizers.Adagrad()
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)
    rms = optimizers.RMSprop()
    assert (rms.learning_rate, rms.rho, rms.momentum, rms.epsilon, rms.centered) == (0.001, 0.9, 0.0, 1e-7, False)
    adam = optimizers.Adam()
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon, adam.amsgrad) == (0.001, 0.9, 0.999, 1e-7, False)
    assert optimizers.AdamW().weight_decay == 0.004


def test_bad_arguments():
    with pytest.raises(ValueError, match="Only one of `clipnorm`, `clipvalue` and `global_clipnorm`"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match="clipnorm"):
        optimizers.Adam(clipnorm=-1.0)
    with pytest.raises(ValueError, match="momentum"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="weight_decay"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizers.Adam(learning_rate="fast")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier: 'adamax'"):
        optimizers.get("adamax")
    opt = optimizers.SGD()
    w = Var(np.zeros(3))
    with pytest.raises(ValueError, match="expected shape"):
        opt.apply_gradients([(np.zeros(4), w)])
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply_gradients([(np.zeros(2), Var(np.zeros(2), name="stranger"))])
    with pytest.raises(TypeError, match="float32 or float64"):
        optimizers.SGD().apply_gradients([(np.zeros(2), Var(np.zeros(2, np.int32)))])
    with pytest.raises(ValueError, match="values"):
        opt.set_variables([np.array(0)] * 3)
