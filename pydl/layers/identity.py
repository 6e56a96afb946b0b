"""`Identity`: returns its input unchanged (a placeholder, as in Keras 3)."""

from __future__ import annotations

from .layer import Layer


class Identity(Layer):
    """``y = x``; a mask passes through."""

    supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def _plan_node(self, call):
        return call.identity()
