"""Layer base: build/call/add_weight lifecycle, weight tracking, losses, config, naming."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops



class Linear(pydl.layers.Layer):
    """The custom layer of shared/api.md."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal",
                                 name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, x):
        return ops.sigmoid(ops.matmul(x, self.w) + self.b)


class Scale(pydl.layers.Layer):
    """A layer without matmul, so that it runs before the GEMM kernels exist."""

    def build(self, input_shape):
        self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="s")

    def call(self, x, training=None):
        self.seen_training = training
        return x * self.s


class Block(pydl.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.first = Scale()
        self.rest = [Scale(), Scale()]
        self.frozen = self.add_weight(shape=(2,), initializer="zeros", trainable=False)

    def call(self, x):
        for layer in [self.first, *self.rest]:
            x = layer(x)
        return x + self.frozen


def test_builds_on_first_call_with_the_input_shape():
    layer = Scale()
    assert not layer.built and layer.weights == []
    y = layer(np.ones((3, 4), np.float64))
    assert layer.built and layer.s.shape == (4,)
    assert y.dtype == np.float32  # NumPy input cast to the layer dtype
    assert layer.count_params() == 4


def test_weights_of_sublayers_in_creation_order():
    block = Block()
    block(np.ones((1, 2)))
    assert block.weights == [block.frozen, block.first.s, block.rest[0].s, block.rest[1].s]
    assert block.trainable_weights == [block.first.s, block.rest[0].s, block.rest[1].s]
    assert block.non_trainable_weights == [block.frozen]
    block.trainable = False
    assert block.trainable_weights == [] and len(block.non_trainable_weights) == 4
    assert not block.rest[1].s.trainable
    block.trainable = True
    assert not block.frozen.trainable and block.rest[1].s.trainable


def test_training_flag_passes_to_call_and_to_inner_layers():
    block = Block()
    block(np.ones((1, 2)), training=True)
    assert block.first.seen_training is True and block.rest[1].seen_training is True
    block(np.ones((1, 2)))
    assert block.first.seen_training is None


def test_auto_names_are_unique_snake_case():
    pydl.layers.layer.reset_names()
    assert [Scale().name, Scale().name, Block().name] == ["scale", "scale_1", "block"]
    assert Scale(name="mine").name == "mine"
    layer = Scale(name="s")
    layer(np.ones((1, 2)))
    assert layer.s.path == "s/s"


def test_constructor_arguments_and_config():
    layer = Scale(input_shape=(4,), trainable=False, dtype="float64")
    assert layer._input_shape_arg == (4,)
    assert Scale(input_dim=3)._input_shape_arg == (3,)
    config = layer.get_config()
    assert config["trainable"] is False and config["dtype"] == "float64"
    clone = Scale.from_config(config)
    assert clone.dtype == "float64" and not clone.trainable
    with pytest.raises(TypeError, match="Unrecognized keyword arguments.*units_typo"):
        Scale(units_typo=3)
    with pytest.raises(ValueError, match="dtype"):
        Scale(dtype="int32")
    with pytest.raises(NotImplementedError):
        Scale().compute_output_shape((None, 3))
    with pytest.raises(ValueError, match="not built"):
        Scale().count_params()


def test_losses_are_differentiable_and_cleared_each_call():
    def l2(variable):
        return ops.sum(ops.square(variable)) * 0.5

    class Regularized(pydl.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(2,), initializer="ones", regularizer=l2)

        def call(self, x):
            self.add_loss(ops.sum(x) * 0.0 + 1.0)
            return x * self.w

    layer = Regularized()
    layer(np.ones((1, 2)))
    layer(np.ones((1, 2)))
    assert len(layer.losses) == 2  # one add_loss (the last call's) + one penalty
    with pydl.GradientTape() as tape:
        penalty = layer.losses[-1]
    np.testing.assert_allclose(tape.gradient(penalty, layer.w), [1.0, 1.0])


def test_add_weight_arguments():
    layer = pydl.layers.Layer(dtype="float64")
    w = layer.add_weight(shape=(2, 3), name="kernel")
    assert w.dtype == np.float64 and w.trainable and w.name == "kernel"
    assert np.abs(w.numpy()).max() <= np.sqrt(6 / 5)  # glorot_uniform by default
    with pytest.raises(ValueError, match="unknown name"):
        layer.add_weight(shape=(1,), initializer="nope")
    with pytest.raises(TypeError, match="constraint"):
        layer.add_weight(shape=(1,), constraint="nope")


def test_scale_layer_trains_in_a_tape_loop():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    target = x * np.array([2.0, -1.0, 0.5], np.float32)
    layer = Scale()
    losses = []
    for _ in range(100):
        with pydl.GradientTape() as tape:
            loss = ops.mean(ops.square(layer(x) - target))
        grads = tape.gradient(loss, layer.trainable_weights)
        for v, g in zip(layer.trainable_weights, grads):
            v.assign_sub(0.5 * g)
        losses.append(float(loss))
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(layer.s.numpy(), [2.0, -1.0, 0.5], atol=1e-2)


def test_custom_linear_layer_trains_with_plain_sgd():
    pydl.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(128, 4)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [1.5]]) > 0).astype(np.float32)
    layer = Linear(1)
    first = None
    for _ in range(100):
        with pydl.GradientTape() as tape:
            loss = ops.binary_crossentropy(y, layer(x)) if hasattr(pydl._core, "loss") \
                else ops.mean(ops.square(layer(x) - y))
        grads = tape.gradient(loss, layer.trainable_weights)
        for v, g in zip(layer.trainable_weights, grads):
            v.assign_sub(0.5 * g)
        first = float(loss) if first is None else first
    assert float(loss) < 0.5 * first
    assert pydl.testing.gradcheck(lambda x, w, b: layer(x), [x[:5], layer.w, layer.b])
    assert layer.w.dtype == np.float32  # gradcheck restored the float32 weights


def test_seeds_perceptron_example():
    """sigmoid(w0 + w . x) with w0 = 1, w = (3, -2), x = (-1, 2): sigmoid(-6) ~ 0.0025."""
    w0 = pydl.Variable(1.0)
    w = pydl.Variable([[3.0], [-2.0]])
    x = np.array([[-1.0, 2.0]], np.float32)
    with pydl.GradientTape() as tape:
        y = ops.sigmoid(ops.matmul(x, w) + w0)
    assert abs(float(y[0, 0]) - 1 / (1 + np.exp(6.0))) < 1e-6
    assert round(float(y[0, 0]), 3) == 0.002
    dw0, dw = tape.gradient(y, [w0, w])
    s = 1 / (1 + np.exp(6.0))
    np.testing.assert_allclose(dw0, s * (1 - s), rtol=1e-4)
    np.testing.assert_allclose(dw, [[-s * (1 - s)], [2 * s * (1 - s)]], rtol=1e-4)


def test_weight_lists_follow_later_changes():
    block = Block()
    block(np.ones((1, 2)))
    assert len(block.weights) == 4
    extra = Scale()
    block.rest.append(extra)  # a list attribute mutated after the first access
    assert block._sublayers()[-1] is extra
    extra(np.ones((1, 2)))  # a sublayer building later
    assert block.weights[-1] is extra.s
    block.more = {"a": Scale()}
    block.more["a"](np.ones((1, 3)))
    assert block.weights[-1] is block.more["a"].s
    del block.more
    assert len(block.weights) == 5
    extra.s.trainable = False  # a variable's flag changed directly
    assert extra.s not in block.trainable_weights
