"""A weight's constraint runs after every update (Keras 3), on the tape; the plan leaves
constrained weights to it."""

from __future__ import annotations

import numpy as np

import pydl
from pydl.models import plan as _plan


class NonNeg:
    def __call__(self, w):
        return pydl.ops.maximum(w, 0.0)


class Clipped(pydl.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones",
                                 constraint=NonNeg())

    def call(self, x):
        return pydl.ops.matmul(x, self.w)


def test_constraint_applied_after_each_update():
    v = pydl.Variable(np.array([0.5, -0.5], np.float32))
    v.constraint = NonNeg()
    opt = pydl.optimizers.SGD(1.0)
    opt.apply_gradients([(np.array([1.0, 0.0], np.float32), v)])
    np.testing.assert_array_equal(v.value, [0.0, 0.0])


def test_constrained_weights_train_on_the_tape():
    x = np.ones((8, 3), np.float32)
    y = -np.ones((8, 2), np.float32)
    model = pydl.Sequential([pydl.Input((3,)), Clipped()])
    model.compile(optimizer=pydl.optimizers.SGD(0.5), loss="mse")
    model.fit(x, y, epochs=3, verbose=0)
    assert (model.get_weights()[0] >= 0).all()
    assert model._trained_on == "tape"
    dense = pydl.Sequential([pydl.Input((3,)), pydl.layers.Dense(2)])
    dense.layers[0].kernel.constraint = NonNeg()
    dense.compile(optimizer="sgd", loss="mse")
    assert "constraint" in _plan.plan_reason(dense)
