"""``Reshape``: each sample to ``target_shape`` (the batch dimension is kept).

    pydl.layers.Reshape((3, 4))(x)      # (None, 12) -> (None, 3, 4)
    pydl.layers.Reshape((-1, 2))(x)     # one -1: inferred from the sample size
"""

from __future__ import annotations

import math

import numpy as np

from ... import ops
from ..layer import Layer


def _check_target(target_shape) -> tuple:
    try:
        dims = tuple(target_shape)
    except TypeError:
        raise TypeError(f"Reshape: expected target_shape to be a tuple of ints, received "
                        f"target_shape={target_shape!r}") from None
    for d in dims:
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or (d < 1 and d != -1):
            raise ValueError(f"Reshape: expected target_shape to hold ints >= 1 and at most "
                             f"one -1, received target_shape={target_shape!r}")
    if dims.count(-1) > 1:
        raise ValueError(f"Reshape: there must be at most one unknown dimension (-1) in "
                         f"target_shape, received target_shape={target_shape!r}")
    return tuple(int(d) for d in dims)


def resolve_target(sample_shape, target: tuple, name: str) -> tuple:
    """``target`` with its -1 worked out from ``sample_shape`` (None when unknown)."""
    if any(d is None for d in sample_shape):
        return tuple(None if d == -1 else d for d in target)
    size = math.prod(sample_shape)
    known = math.prod(d for d in target if d != -1)
    if -1 not in target:
        if size != known:
            raise ValueError(f"Reshape ({name!r}): the total size of the tensor must be "
                             f"unchanged. Received: input_shape={tuple(sample_shape)}, "
                             f"target_shape={target}")
        return target
    if known == 0 or size % known:
        raise ValueError(f"Reshape ({name!r}): the total size of the tensor must be unchanged, "
                         f"and {size} values do not fill target_shape={target}. Received: "
                         f"input_shape={tuple(sample_shape)}")
    return tuple(size // known if d == -1 else d for d in target)


class Reshape(Layer):
    """``y = reshape(x, (batch,) + target_shape)``.

    Args:
        target_shape: the per-sample output shape (ints; one may be -1).
    """

    def __init__(self, target_shape, **kwargs):
        target = _check_target(target_shape)
        super().__init__(**kwargs)
        self.target_shape = target

    def build(self, input_shape):
        resolve_target(tuple(input_shape)[1:], self.target_shape, self.name)
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0],) + resolve_target(input_shape[1:], self.target_shape, self.name)

    def call(self, inputs):
        shape = tuple(inputs.shape)
        return ops.reshape(inputs, (shape[0],) + resolve_target(shape[1:], self.target_shape,
                                                                  self.name))

    def _plan_node(self, call):
        from ... import _core

        target = resolve_target(call.input_shapes[0], self.target_shape, self.name)
        return call.native(_core.plan.Reshape(list(target)))

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config
