"""``Permute``: permutes the axes of each sample (the batch axis stays first).

    pydl.layers.Permute((2, 1))(x)      # (None, 10, 64) -> (None, 64, 10)
"""

from __future__ import annotations

import numpy as np

from ... import ops
from ..layer import Layer


class Permute(Layer):
    """``y = transpose(x, (0,) + dims)``.

    Args:
        dims: a permutation of 1..rank-1 (indexing starts at 1: the batch axis is
            not part of it).
    """

    def __init__(self, dims, **kwargs):
        try:
            items = tuple(dims)
        except TypeError:
            raise TypeError(f"Permute: expected dims to be a tuple of ints, received "
                            f"dims={dims!r}") from None
        if not items or any(isinstance(d, bool) or not isinstance(d, (int, np.integer))
                            for d in items) or sorted(items) != list(range(1, len(items) + 1)):
            raise ValueError(f"Invalid permutation argument `dims` for Permute Layer. The set "
                             f"of indices in `dims` must be consecutive and start from 1. "
                             f"Received dims={dims!r}")
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in items)

    def _check_rank(self, input_shape) -> tuple:
        input_shape = tuple(input_shape)
        if len(input_shape) != len(self.dims) + 1:
            raise ValueError(f"Permute ({self.name!r}): dims={self.dims} permutes the "
                             f"{len(self.dims)} axes of inputs of rank {len(self.dims) + 1}, "
                             f"received input_shape={input_shape}")
        return input_shape

    def build(self, input_shape):
        self._check_rank(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = self._check_rank(input_shape)
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def get_config(self) -> dict:
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config
