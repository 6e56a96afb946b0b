"""The built-in layers of a dense network: Dense, Activation, Dropout, Flatten.

Each ``call`` is one ``pydl.ops`` call, so a layer is one tape entry and one core
call. Constructors validate and store their config (messages echo the bad
value, as Keras does); ``get_config``/``from_config`` round-trip.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _core, _random, activations, initializers, ops, regularizers
from ..ops.activation import core_activation
from .layer import Layer


def _serialize(module, obj):
    if obj is None:
        return None
    if isinstance(obj, str):
        return obj
    return module.serialize(obj)


class Dense(Layer):
    """A densely connected layer: ``y = activation(x @ kernel + bias)``.

    Args:
        units: size of the output (int >= 1).
        activation: name or function from ``pydl.activations``; None is linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: names or ``pydl.initializers`` objects.
        kernel_regularizer, bias_regularizer: penalties on the weights, added to
            the loss through ``layer.losses``.
        activity_regularizer: penalty on the output, added the same way divided by the
            batch size (Keras 3).
        input_shape / input_dim: the per-sample input shape, as in Keras (for
            the first layer of a Sequential).

    Example:
        layer = pydl.layers.Dense(10, activation="softmax", input_shape=(784,))
    """

    supports_masking = True  # passes a mask on unchanged (Keras 3)

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 **kwargs):
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(
                f"Dense: expected units to be an int >= 1, received units={units!r}"
            )
        if not isinstance(use_bias, (bool, np.bool_)):
            raise TypeError(f"Dense: expected use_bias to be a bool, received use_bias={use_bias!r}")
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.kernel = None
        self.bias = None

    @property
    def _core_activation(self):
        """(core name, alpha) of the activation, None for a custom one (read at each use:
        `activation` may be reassigned)."""
        return core_activation(self.activation)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(
                f"Dense: expected an input of rank >= 2 with a known last dimension, "
                f"received input_shape={input_shape}"
            )
        self.kernel = self.add_weight(
            shape=(input_shape[-1], self.units), initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, name="bias")
        self.input_dim = int(input_shape[-1])
        self.built = True

    def call(self, inputs):
        outputs = ops.dense(inputs, self.kernel, self.bias, self.activation, bf16=self._bf16)
        if self.activity_regularizer is not None:
            self._add_activity_penalty(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def _plan_node(self, call):
        if self._core_activation is None:
            return call.unsupported(f"the activation of {self.name!r} is a custom function")
        name, alpha = self._core_activation
        weights = [self.kernel] + ([self.bias] if self.use_bias else [])
        node = _core.plan.Dense(self.kernel.value, None if self.bias is None else self.bias.value,
                                name, alpha, bf16=self._bf16)
        return call.native(node, weights, activity_penalty=self._plan_activity_penalty(call))

    def _infer(self, x: np.ndarray) -> np.ndarray:
        """``call`` for predict: NumPy in and out, no Tensor, no tape, one core call.

        ``x`` is C-contiguous in the kernel's dtype (predict converted it once).
        """
        spec = self._core_activation
        if spec is None or self.activity_regularizer is not None:
            return np.asarray(self(x, training=False))
        name, alpha = spec
        kernel = self.kernel.value
        x2 = x.reshape(-1, kernel.shape[0])
        y = np.empty((x2.shape[0], self.units), dtype=kernel.dtype)
        z = np.empty_like(y) if _core.activation_needs_preactivation(name) else None
        _core.dense_forward(x2, kernel, None if self.bias is None else self.bias.value, name, y,
                            z=z, alpha=alpha, bf16=self._bf16 and kernel.dtype == np.float32)
        return y.reshape(x.shape[:-1] + (self.units,))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": _serialize(initializers, self.kernel_initializer),
            "bias_initializer": _serialize(initializers, self.bias_initializer),
            "kernel_regularizer": _serialize(regularizers, self.kernel_regularizer),
            "bias_regularizer": _serialize(regularizers, self.bias_regularizer),
            "activity_regularizer": _serialize(regularizers, self.activity_regularizer),
        })
        return config


class Activation(Layer):
    """Applies an activation function: ``y = activation(x)``.

    Args:
        activation: name or function from ``pydl.activations``.
    """

    supports_masking = True  # passes a mask on unchanged (Keras 3)

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _plan_node(self, call):
        spec = core_activation(self.activation)
        if spec is None:
            return call.unsupported(f"the activation of {self.name!r} is a custom function")
        return call.native(_core.plan.Activation(*spec))

    def _infer(self, x: np.ndarray) -> np.ndarray:
        spec = core_activation(self.activation)
        if spec is None:
            return np.asarray(self(x, training=False))
        out = np.empty_like(x)
        _core.activation_forward(spec[0], x, out, alpha=spec[1])
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config["activation"] = activations.serialize(self.activation)
        return config


class Dropout(Layer):
    """Sets a fraction ``rate`` of the inputs to 0 during training, scaling the rest
    by ``1 / (1 - rate)``; the identity otherwise (``training`` not True).

    Args:
        rate: fraction of the inputs to drop, in [0, 1).
        noise_shape: shape of the binary mask, broadcast against the input
            (e.g. ``(batch, 1, features)`` to drop the same features at every step).
        seed: seed of this layer's own generator; from the global one when None.
    """

    supports_masking = True  # passes a mask on unchanged (Keras 3)

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        if isinstance(rate, bool) or not isinstance(rate, (int, float, np.floating)) \
                or not math.isfinite(rate) or not 0 <= rate < 1:
            raise ValueError(
                f"Dropout: expected rate to be a float in [0, 1), received rate={rate!r}"
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
                                 or seed < 0):
            raise ValueError(f"Dropout: expected seed to be an int >= 0 or None, received seed={seed!r}")
        super().__init__(**kwargs)
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = None if seed is None else int(seed)
        self.generator = _random.spawn_generator(self.seed)

    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=None):
        if not training or self.rate == 0.0:
            return inputs
        return ops.dropout(inputs, self.rate, noise_shape=self.noise_shape, seed=self.generator)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _infer(self, x: np.ndarray) -> np.ndarray:
        return x

    def _plan_node(self, call):
        if self.rate == 0.0 or not call.training:
            return call.identity()  # draws nothing, even in training
        if self.noise_shape is not None:
            # A mask broadcast over some axes: another draw shape per step.
            return call.unsupported(f"Dropout {self.name!r} has a noise_shape, which takes the tape")
        return call.native(_core.plan.Dropout(self.rate), draw=self._draw_uniforms,
                           draw_source=self.generator)

    def _draw_uniforms(self, out: np.ndarray) -> None:
        """The uniforms of a whole plan call, as its calls on the tape would draw them
        (NumPy's float32 stream does not depend on how it is chunked)."""
        self.generator.random(out=out, dtype=np.float32)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "rate": self.rate,
            "noise_shape": None if self.noise_shape is None else list(self.noise_shape),
            "seed": self.seed,
        })
        return config


class Flatten(Layer):
    """Flattens each sample: ``(batch, d1, d2, ...) -> (batch, d1 * d2 * ...)``."""

    def build(self, input_shape):
        self.built = True

    def call(self, inputs):
        return ops.reshape(inputs, (-1, _product(inputs.shape[1:])))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else _product(rest)
        return (input_shape[0], size)

    def _infer(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(x.shape[0], -1)

    def _plan_node(self, call):
        return call.native(_core.plan.Reshape([_product(call.input_shapes[0])]))


def _product(dims) -> int:
    result = 1
    for d in dims:
        result *= int(d)
    return result
