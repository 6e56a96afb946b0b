"""A custom-layer model trained in a GradientTape loop ends with the same weights as `fit`."""

from __future__ import annotations

import numpy as np

import pydl
from pydl import ops




class Linear(pydl.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, x):
        return ops.sigmoid(ops.matmul(x, self.w) + self.b)


def _model():
    pydl.utils.set_random_seed(123)
    model = pydl.Sequential([pydl.Input(shape=(4,)), Linear(3), Linear(1)])
    return model


def test_tape_loop_and_fit_give_bitwise_identical_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype(np.float32)
    y = (x.sum(axis=1, keepdims=True) > 0).astype(np.float32)

    fitted = _model()
    fitted.compile(optimizer=pydl.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy")
    fitted.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)

    looped = _model()
    optimizer = pydl.optimizers.SGD(learning_rate=0.1)
    loss_fn = pydl.losses.get("binary_crossentropy")
    for _ in range(2):
        for start in range(0, 64, 16):
            xb, yb = x[start:start + 16], y[start:start + 16]
            with pydl.GradientTape() as tape:
                loss = loss_fn(yb, looped(xb, training=True))
            grads = tape.gradient(loss, looped.trainable_weights)
            optimizer.apply_gradients(zip(grads, looped.trainable_weights))

    for a, b in zip(fitted.get_weights(), looped.get_weights()):
        np.testing.assert_array_equal(a, b)
    initial = _model().get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(initial, looped.get_weights()))
