"""Noise and regularization layers: GaussianNoise, GaussianDropout, AlphaDropout,
ActivityRegularization.

The noise layers act only when called with ``training=True`` (as `fit` calls them)
and draw from their own generator (seeded by `seed`, else from pydl's global
generator, like Dropout), so a seeded layer repeats its noise; the noise enters
as constants of one or two recorded ops.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _core, _random, ops, regularizers
from . import _checks
from .layer import Layer

# SELU's constants (Klambauer et al., 2017), as Keras writes them.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _NoiseLayer(Layer):
    """A layer that draws from its own generator in training (config: its `seed`)."""

    supports_masking = True

    def __init__(self, seed=None, **kwargs):
        seed = _checks.seed(type(self).__name__, seed)
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = _random.spawn_generator(seed)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _native_noise(self, call, kind: str, loc: float, stddev: float):
        """The plan node of a Gaussian noise layer, with the noise of a whole plan call
        drawn as its tape calls draw it: NumPy's float64 normals are drawn one after
        the other whatever the chunking (tests/plan), each rounded to float32."""

        def draw(out: np.ndarray) -> None:
            out[...] = self.generator.normal(loc, stddev, size=out.shape)

        return call.native(_core.plan.Noise(kind), draw=draw, draw_source=self.generator)

    def _dtype_of(self, inputs) -> np.dtype:
        dtype = np.asarray(inputs).dtype
        return dtype if dtype.kind == "f" else np.dtype(self.dtype)


class GaussianNoise(_NoiseLayer):
    """Adds zero-centered Gaussian noise in training: ``y = x + normal(0, stddev)``.

    Args:
        stddev: standard deviation of the noise, in [0, 1] (Keras' range).
        seed: seed of the layer's own generator (int >= 0) or None.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        stddev = _checks.number("GaussianNoise", "stddev", stddev, 0.0, 1.0)
        super().__init__(seed=seed, **kwargs)
        self.stddev = stddev

    def call(self, inputs, training=False):
        if not training or self.stddev == 0:
            return inputs
        dtype = self._dtype_of(inputs)
        noise = self.generator.normal(0.0, self.stddev, size=np.shape(inputs)).astype(dtype)
        return ops.add(inputs, noise)

    def _plan_node(self, call):
        if self.stddev == 0 or not call.training:
            return call.identity()
        return self._native_noise(call, "gaussian_noise", 0.0, self.stddev)

    def get_config(self) -> dict:
        return dict(super().get_config(), stddev=self.stddev, seed=self.seed)


class GaussianDropout(_NoiseLayer):
    """Multiplies by Gaussian noise of mean 1 in training.

    ```python
    y = x * normal(1, sqrt(rate / (1 - rate)))
    ```

    Args:
        rate: the equivalent dropout probability, in [0, 1).
        seed: seed of the layer's own generator (int >= 0) or None.
    """

    def __init__(self, rate, seed=None, **kwargs):
        rate = _checks.number("GaussianDropout", "rate", rate, 0.0, 1.0, high_open=True)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        dtype = self._dtype_of(inputs)
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self.generator.normal(1.0, stddev, size=np.shape(inputs)).astype(dtype)
        return ops.multiply(inputs, noise)

    def _plan_node(self, call):
        if self.rate == 0 or not call.training:
            return call.identity()
        return self._native_noise(call, "gaussian_dropout", 1.0,
                                  math.sqrt(self.rate / (1.0 - self.rate)))

    def get_config(self) -> dict:
        return dict(super().get_config(), rate=self.rate, seed=self.seed)


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps SELU activations' mean and variance (for self-normalizing networks).

    ```python
    kept = uniform(noise_shape) >= rate              # from the layer's generator, float32
    alpha_p = -SELU_ALPHA * SELU_SCALE
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5;  b = -a * alpha_p * rate
    y = a * (x * kept + alpha_p * (1 - kept)) + b    # in training; x otherwise
    ```

    Args:
        rate: fraction of the units to drop, in [0, 1).
        noise_shape: shape of the keep mask, broadcast against the input (None
            entries take the input's size).
        seed: seed of the layer's own generator (int >= 0) or None.

    Reference: [Klambauer et al., 2017](https://arxiv.org/abs/1706.02515).
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        rate = _checks.number("AlphaDropout", "rate", rate, 0.0, 1.0, high_open=True)
        super().__init__(seed=seed, **kwargs)
        self.rate = rate
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            return inputs
        dtype = self._dtype_of(inputs)
        shape = np.shape(inputs)
        noise_shape = shape if self.noise_shape is None else tuple(
            shape[i] if n is None else n for i, n in enumerate(self.noise_shape))
        kept = (self.generator.random(noise_shape, dtype=np.float32) >= self.rate).astype(dtype)
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        try:
            shift = (a * alpha_p * (1 - kept) + b).astype(dtype)
            return ops.add(ops.multiply(inputs, (a * kept).astype(dtype)), shift)
        except ValueError:
            raise ValueError(f"AlphaDropout: noise_shape {noise_shape} cannot be broadcast to "
                             f"the input's shape {shape}") from None

    def _plan_node(self, call):
        if self.rate == 0 or not call.training:
            return call.identity()
        if self.noise_shape is not None:
            return call.unsupported(f"AlphaDropout {self.name!r} has a noise_shape, which takes "
                                    "the tape")
        alpha_p = -_SELU_ALPHA * _SELU_SCALE  # the constants exactly as call forms them
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        node = _core.plan.Noise("alpha_dropout", rate=self.rate, a=a, a_alpha_p=a * alpha_p, b=b)
        return call.native(node, draw=self._draw_uniforms, draw_source=self.generator)

    def _draw_uniforms(self, out: np.ndarray) -> None:
        """The float32 uniforms of a whole plan call (a chunk-free stream, as Dropout's)."""
        self.generator.random(out=out, dtype=np.float32)

    def get_config(self) -> dict:
        return dict(super().get_config(), rate=self.rate, seed=self.seed,
                    noise_shape=None if self.noise_shape is None else list(self.noise_shape))


class ActivityRegularization(Layer):
    """Passes its input through and adds ``(l1 * sum(|x|) + l2 * sum(x ** 2)) / batch`` to the
    model's loss (Keras 3 divides an activity penalty by the batch size).

    Args:
        l1, l2: the penalty factors (>= 0).
    """

    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        l1 = _checks.number("ActivityRegularization", "l1", l1, 0.0)
        l2 = _checks.number("ActivityRegularization", "l2", l2, 0.0)
        super().__init__(**kwargs)
        self.l1 = l1
        self.l2 = l2
        self.activity_regularizer = regularizers.L1L2(l1=l1, l2=l2)

    def call(self, inputs):
        self._add_activity_penalty(inputs)
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _plan_node(self, call):
        return call.identity(activity_penalty=self._plan_activity_penalty(call))

    def get_config(self) -> dict:
        return dict(super().get_config(), l1=self.l1, l2=self.l2)
