"""``Concatenate``: joins a list of tensors along one axis.

    merged = pydl.layers.Concatenate()([title, body, tags])   # (None, a + b + c)

Every dimension other than ``axis`` must match (unknown ones are accepted).
"""

from __future__ import annotations

import numpy as np

from ... import ops
from ..layer import Layer
from .base_merge import check_shape_list


class Concatenate(Layer):
    """``y = concatenate([x1, x2, ...], axis)``.

    Args:
        axis: the axis to join along (default -1, the last; 0 is the batch axis).
    """

    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"Concatenate: expected axis to be an int, received axis={axis!r}")
        super().__init__(**kwargs)
        self.axis = int(axis)

    def _check(self, input_shape) -> list:
        shapes = check_shape_list(self, input_shape)
        ranks = {len(s) for s in shapes}
        message = (f"A `Concatenate` layer ({self.name!r}) requires inputs with matching shapes "
                   f"except for the concatenation axis {self.axis}. Received: "
                   f"input_shape={shapes}")
        if len(ranks) != 1:
            raise ValueError(message)
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(f"Concatenate ({self.name!r}): axis {self.axis} is out of range "
                             f"for inputs of rank {rank}; received input_shape={shapes}")
        axis = self.axis % rank
        for d in range(rank):
            if d == axis:
                continue
            known = {s[d] for s in shapes if s[d] is not None}
            if len(known) > 1:
                raise ValueError(message)
        return shapes

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = self._check(input_shape)
        axis = self.axis % len(shapes[0])
        out = list(shapes[0])
        for d in range(len(out)):
            if d == axis:
                sizes = [s[d] for s in shapes]
                out[d] = None if any(n is None for n in sizes) else int(sum(sizes))
            elif out[d] is None:
                out[d] = next((s[d] for s in shapes if s[d] is not None), None)
        return tuple(out)

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def _plan_node(self, call):
        from ... import _core

        rank = len(call.input_shapes[0]) + 1
        axis = self.axis % rank
        if axis == 0:
            return call.unsupported(f"Concatenate {self.name!r} joins along the batch axis")
        return call.native(_core.plan.Concatenate(axis - 1))

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)
