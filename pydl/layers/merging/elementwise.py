"""The elementwise merge layers and their function forms: Add, Subtract, Multiply,
Average, Maximum, Minimum.

    added = pydl.layers.Add()([x1, x2])          # or pydl.layers.add([x1, x2])

Each folds its list of inputs (same shapes, or shapes that broadcast) with one
differentiable ``pydl.ops`` call per pair.
"""

from __future__ import annotations

from ... import ops
from .base_merge import Merge, check_shape_list


def _fold(op, inputs):
    """``op(op(op(x1, x2), x3), ...)``: left to right, as the plan's merge node folds."""
    out = inputs[0]
    for x in inputs[1:]:
        out = op(out, x)
    return out


class Add(Merge):
    """Sum of the inputs: ``y = x1 + x2 + ...``."""

    _plan_kind = "add"

    def _merge_function(self, inputs):
        return _fold(ops.add, inputs)


class Subtract(Merge):
    """Difference of exactly two inputs: ``y = x1 - x2``."""

    _plan_kind = "subtract"

    def build(self, input_shape):
        shapes = check_shape_list(self, input_shape)
        if len(shapes) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={input_shape}")
        super().build(shapes)

    def _merge_function(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received {len(inputs)} inputs")
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Elementwise product of the inputs: ``y = x1 * x2 * ...``."""

    _plan_kind = "multiply"

    def _merge_function(self, inputs):
        return _fold(ops.multiply, inputs)


class Average(Merge):
    """Elementwise mean of the inputs: ``y = (x1 + x2 + ...) / n``."""

    _plan_kind = "average"

    def _merge_function(self, inputs):
        return ops.divide(_fold(ops.add, inputs), len(inputs))


class Maximum(Merge):
    """Elementwise maximum of the inputs (the gradient goes to the first on ties)."""

    _plan_kind = "maximum"

    def _merge_function(self, inputs):
        return _fold(ops.maximum, inputs)


class Minimum(Merge):
    """Elementwise minimum of the inputs (the gradient goes to the first on ties)."""

    _plan_kind = "minimum"

    def _merge_function(self, inputs):
        return _fold(ops.minimum, inputs)


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``: the sum of a list of tensors."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``: the difference of two tensors."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``: the elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``: the elementwise mean of a list of tensors."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``: the elementwise maximum of a list of tensors."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``: the elementwise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)
