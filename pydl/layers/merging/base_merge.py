"""``Merge``: the base of the layers that combine a list of tensors elementwise.

``build`` checks the list of shapes (same batch size; other dimensions equal,
1 or unknown, aligned from the right: inputs of lower rank gain axes of size 1
after the batch axis, as in Keras 3); ``call`` folds the inputs with one
differentiable ``pydl.ops`` call per pair, so gradients come from the tape.
"""

from __future__ import annotations

from ... import ops
from ..layer import Layer


def _is_shape_list(input_shape) -> bool:
    return isinstance(input_shape, (list, tuple)) and len(input_shape) > 0 and \
        all(isinstance(s, (list, tuple)) for s in input_shape)


def check_shape_list(layer, input_shape) -> list:
    """``input_shape`` as a list of tuples; ValueError unless it is a list of shapes."""
    if not _is_shape_list(input_shape):
        raise ValueError(f"A `{type(layer).__name__}` layer should be called on a list of at "
                         f"least 1 input. Received: input_shape={input_shape}")
    return [tuple(s) for s in input_shape]


def broadcast_shapes(layer, shape1, shape2) -> tuple:
    """The shape of an elementwise op on per-sample shapes ``shape1`` and ``shape2``."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return tuple(shape1)
    out = list(shape1[:-len(shape2)])
    for i, j in zip(shape1[-len(shape2):], shape2):
        if i is None or j is None:
            out.append(None)
        elif i == 1 or j == 1:
            out.append(j if i == 1 else i)
        elif i != j:
            raise ValueError(f"Layer {layer.name!r} ({type(layer).__name__}): inputs have "
                             f"incompatible shapes. Received shapes {shape1} and {shape2} "
                             "(without the batch dimension)")
        else:
            out.append(i)
    return tuple(out)


class Merge(Layer):
    """Base class of the elementwise merge layers (Add, Multiply, ...).

    Subclasses define ``_merge_function(inputs) -> tensor`` over inputs of one rank.
    """

    def build(self, input_shape):
        shapes = check_shape_list(self, input_shape)
        batch_sizes = {s[0] for s in shapes if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}): cannot merge "
                             f"tensors with different batch sizes. Received tensors with "
                             f"shapes {shapes}")
        self.compute_output_shape(shapes)  # checks that the shapes broadcast
        self.built = True

    def compute_output_shape(self, input_shape):
        shapes = check_shape_list(self, input_shape)
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = broadcast_shapes(self, out, shape[1:])
        batch = next((s[0] for s in shapes if s and s[0] is not None), None)
        return (batch,) + out

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A `{type(self).__name__}` layer should be called on a list of "
                             f"inputs. Received: inputs={inputs!r} (not a list of tensors)")
        rank = max(len(x.shape) for x in inputs)
        inputs = [_expand_to(x, rank) for x in inputs]
        return self._merge_function(inputs)

    def _merge_function(self, inputs):
        raise NotImplementedError

    # The core's name of the fold (_core.plan.Merge), None for a merge it does not run.
    _plan_kind = None

    def _plan_node(self, call):
        shapes = call.input_shapes
        if self._plan_kind is None or any(s != shapes[0] for s in shapes):
            return call.unsupported(f"{type(self).__name__} {self.name!r} on inputs of "
                                    f"different shapes {shapes} takes the tape")
        from ... import _core

        return call.native(_core.plan.Merge(self._plan_kind))


def _expand_to(x, rank: int):
    """``x`` with axes of size 1 added after the batch axis up to ``rank`` (Keras 3)."""
    missing = rank - len(x.shape)
    if missing <= 0:
        return x
    return ops.reshape(x, (x.shape[0],) + (1,) * missing + tuple(x.shape[1:]))
