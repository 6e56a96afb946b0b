"""fit reuses the model's plan description between calls, and notices every change
that matters: each scenario trains a plan model and a tape model through the same
changes between fit calls, and they must stay bitwise identical."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import pydl
from pydl import activations, layers, optimizers
from pydl.models import plan as _plan


def _model():
    pydl.utils.set_random_seed(5)
    return pydl.Sequential([pydl.Input(shape=(5,)), layers.Dense(8, activation="relu"),
                            layers.Dropout(0.0), layers.Dense(3, activation="softmax")])


def _compile(model):
    model.compile(optimizer=optimizers.SGD(0.1, momentum=0.5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def _data(rng):
    return rng.standard_normal((40, 5)).astype(np.float32), rng.integers(0, 3, 40)


def _on_plan(model) -> bool:
    return model._trained_on == "plan"


def _set_activation(model):
    model.layers[0].activation = activations.get("tanh")


def _freeze_first(model):
    model.layers[0].trainable = False


def _freeze_and_thaw(model):
    model.layers[0].trainable = False
    model.fit(*_data(np.random.default_rng(7)), batch_size=8, verbose=0)
    model.layers[0].trainable = True


def _new_kernel_array(model):
    kernel = model.layers[0].kernel
    kernel.value = kernel.value * 0.5  # a new array: the old plan holds the old one


def _dropout_on(model):
    model.layers[1].rate = 0.5


def _learning_rate(model):
    model.optimizer.learning_rate = 0.03  # read at every run, not part of the cache key


def _nesterov_on(model):
    model.optimizer.nesterov = True


def _recompile_adam(model):
    model.compile(optimizer=optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")


def _kernel_regularizer(model):
    model.layers[0].kernel_regularizer = pydl.regularizers.L2(0.01)
    model.layers[0].kernel.regularizer = model.layers[0].kernel_regularizer


def _weight_regularizer(model):
    model.layers[2].bias.regularizer = pydl.regularizers.L1(0.01)  # the layer's own stays None


def _regularizer_factor(model):
    model.layers[0].kernel.regularizer = pydl.regularizers.L2(0.01)
    model.fit(*_data(np.random.default_rng(7)), batch_size=8, verbose=0)
    model.layers[0].kernel.regularizer.l2 = 0.5  # mutated in place: the plan must see it


def _dropout_generator(model):
    _dropout_on(model)
    model.fit(*_data(np.random.default_rng(7)), batch_size=8, verbose=0)
    model.layers[1].generator = np.random.default_rng(3)  # a new stream for the masks


def _noise_shape(model):
    model.layers[1].rate = 0.5
    model.layers[1].noise_shape = (None, 1)


def _pop_and_add(model):
    model.pop()
    model.add(layers.Dense(3, activation="softmax"))
    _compile(model)  # the optimizer knows only the variables it was built with


def _set_weights(model):
    model.set_weights([w * 0.5 for w in model.get_weights()])


# name -> (change between two fit calls, whether the second fit takes the plan)
CHANGES = {
    "nothing": (lambda model: None, True),
    "activation": (_set_activation, True),
    "trainable=False": (_freeze_first, True),
    "trainable back to True": (_freeze_and_thaw, True),
    "kernel rebound to a new array": (_new_kernel_array, True),
    "dropout rate > 0": (_dropout_on, True),
    "dropout generator replaced": (_dropout_generator, True),
    "dropout noise_shape": (_noise_shape, False),
    "optimizer nesterov": (_nesterov_on, True),
    "learning rate": (_learning_rate, True),
    "recompile": (_recompile_adam, True),
    "kernel regularizer": (_kernel_regularizer, True),
    "regularizer set on a weight": (_weight_regularizer, True),
    "regularizer factor changed in place": (_regularizer_factor, True),
    "pop and add a layer": (_pop_and_add, True),
    "set_weights": (_set_weights, True),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_a_change_between_fits_trains_as_the_tape_does(name, rng):
    change, on_plan = CHANGES[name]
    x, y = _data(rng)
    results = []
    for use_plan in (True, False):
        model = _model()
        _compile(model)
        pydl.utils.set_random_seed(9)
        with (contextlib.nullcontext() if use_plan else _plan.disabled()):
            model.fit(x, y, batch_size=8, epochs=2, verbose=0)
            change(model)
            history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        if use_plan:
            assert _on_plan(model) == on_plan, _plan.plan_reason(model)
        results.append((model, history.history))
    (pm, ph), (tm, th) = results
    assert ph == th
    for a, b in zip(pm.get_weights(), tm.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(pm.optimizer.variables, tm.optimizer.variables):
        np.testing.assert_array_equal(a, b)


def test_an_unchanged_model_reuses_its_step_and_plan(rng, monkeypatch):
    x, y = _data(rng)
    model = _model()
    _compile(model)
    model.fit(x, y, batch_size=8, verbose=0)
    plan = model._plan_cache.fused
    described = []
    monkeypatch.setattr(_plan, "describe", lambda m, shapes: described.append(m))
    for _ in range(3):
        model.fit(x, y, batch_size=8, verbose=0)
        model.train_on_batch(x[:8], y[:8])
    assert described == []
    assert model._trained_on == "plan" and model._plan_cache.fused is plan


def test_the_cache_adds_no_weights_or_penalties_to_the_model(rng):
    """Layer scans tuple / list / dict attributes for Variables: the cache must hide
    the weights it holds, or the model would count them (and their penalties) twice."""
    x, y = _data(rng)
    model = pydl.Sequential([pydl.Input(shape=(5,)),
                             layers.Dense(4, kernel_regularizer="l2"), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    weights, penalties = list(model.weights), len(model.losses)
    model.fit(x, np.zeros((40, 3), np.float32), batch_size=8, verbose=0)
    model.add(layers.Activation("linear"))  # a structure change rescans the attributes
    assert [id(w) for w in model.weights] == [id(w) for w in weights]
    assert len(model.losses) == penalties == 1
