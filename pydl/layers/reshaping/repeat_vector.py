"""``RepeatVector``: repeats each sample's vector ``n`` times.

    pydl.layers.RepeatVector(3)(x)      # (None, 32) -> (None, 3, 32)
"""

from __future__ import annotations

import numpy as np

from ... import ops
from ..layer import Layer


class RepeatVector(Layer):
    """``y[b, i, :] = x[b, :]`` for ``i < n``.

    Args:
        n: the number of repetitions (int >= 1).
    """

    def __init__(self, n, **kwargs):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"RepeatVector: expected an integer value for n, received "
                            f"n={n!r} of type {type(n).__name__}")
        if n < 1:
            raise ValueError(f"RepeatVector: expected n >= 1, received n={n!r}")
        super().__init__(**kwargs)
        self.n = int(n)

    def _check_rank(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector ({self.name!r}): expected inputs of rank 2 (batch, "
                             f"features), received input_shape={input_shape}")
        return input_shape

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        batch, features = self._check_rank(input_shape)
        return (batch, self.n, features)

    def call(self, inputs):
        x = ops.expand_dims(inputs, 1)  # (batch, 1, features), broadcast by the product:
        return ops.multiply(x, np.ones((1, self.n, 1), dtype=np.asarray(x).dtype))

    def get_config(self) -> dict:
        config = super().get_config()
        config["n"] = self.n
        return config
