"""Optimizers with use_ema (Keras 3): the moving average after each update, fit ending on
the averages, SwapEMAWeights; the tape and the fused plan alike."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers, optimizers
from pydl.models import plan as _plan


def test_moving_average_follows_keras_rule():
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal(5).astype(np.float32)
    v = pydl.Variable(w0.copy())
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.9)
    average = None
    for step in range(4):
        g = rng.standard_normal(5).astype(np.float32)
        opt.apply_gradients([(g, v)])
        m = np.float32(0.0 if step == 0 else 0.9)
        w = v.value.copy()
        average = w.copy() if average is None else m * average + (np.float32(1) - m) * w
        np.testing.assert_array_equal(opt.slots(v)["average"], average)


def test_overwrite_frequency_sets_the_weights_to_the_average():
    v = pydl.Variable(np.ones(3, np.float32))
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    opt.apply_gradients([(np.ones(3, np.float32), v)])
    assert not np.array_equal(v.value, np.ones(3, np.float32) * 0.0)
    opt.apply_gradients([(np.ones(3, np.float32), v)])  # step 2: overwritten
    np.testing.assert_array_equal(v.value, opt.slots(v)["average"])


def _model():
    pydl.utils.set_random_seed(3)
    model = pydl.Sequential([pydl.Input((6,)), layers.Dense(8, activation="relu"),
                             layers.Dense(2)])
    model.compile(optimizer=optimizers.Adam(0.01, use_ema=True, ema_momentum=0.8), loss="mse")
    return model


def test_fit_ends_on_the_averages_and_plan_matches_tape():
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((40, 6)), rng.standard_normal((40, 2))
    runs = []
    for use_plan in (True, False):
        model = _model()
        pydl.utils.set_random_seed(4)
        if use_plan:
            model.fit(x, y, batch_size=8, epochs=2, verbose=0)
            assert model._trained_on == "plan", _plan.plan_reason(model)
        else:
            with _plan.disabled():
                model.fit(x, y, batch_size=8, epochs=2, verbose=0)
        opt = model.optimizer
        for v in model.trainable_weights:
            np.testing.assert_array_equal(v.value, opt.slots(v)["average"])
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


def test_swap_ema_weights_evaluates_with_the_averages():
    rng = np.random.default_rng(2)
    x, y = rng.standard_normal((40, 6)), rng.standard_normal((40, 2))
    model = _model()
    seen = {}

    class Probe(pydl.callbacks.Callback):
        def on_test_begin(self, logs=None):
            seen["weights"] = [w.copy() for w in self.model.get_weights()]
            seen["averages"] = [self.model.optimizer.slots(v)["average"].copy()
                                for v in self.model.trainable_weights]

    model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y),
              callbacks=[pydl.callbacks.SwapEMAWeights(), Probe()])
    # Inside evaluation the model holds the averages (and the optimizer the weights).
    assert seen and all(not np.array_equal(a, b)
                        for a, b in zip(seen["weights"], seen["averages"]))


def test_swap_ema_weights_needs_use_ema():
    model = pydl.Sequential([pydl.Input((2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="use_ema=True"):
        model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0,
                  validation_data=(np.zeros((4, 2)), np.zeros((4, 1))),
                  callbacks=[pydl.callbacks.SwapEMAWeights()])


def test_ema_state_is_saved_and_configured():
    opt = optimizers.RMSprop(use_ema=True, ema_momentum=0.95, ema_overwrite_frequency=3)
    config = opt.get_config()
    assert (config["use_ema"], config["ema_momentum"], config["ema_overwrite_frequency"]) == \
        (True, 0.95, 3)
    assert optimizers.RMSprop.from_config(config).ema_momentum == 0.95
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.SGD(use_ema=True, ema_overwrite_frequency=0)
