"""``KerasTensor``: a symbolic tensor -- a shape and a dtype, no values.

``pydl.Input(shape=(784,))`` returns one; calling a layer on symbolic tensors
returns new ones (see node.py). Each carries ``_keras_history = (layer,
node_index, tensor_index)``: the layer call that produced it
(``layer._inbound_nodes[node_index]``) and its position among that call's
flattened outputs. Following these histories back from a model's outputs gives
the model's graph.
"""

from __future__ import annotations

import collections
import itertools

import numpy as np

_names = [itertools.count()]


def reset_names() -> None:
    """Restarts auto-naming (keras_tensor, keras_tensor_1, ...); see Layer's reset_names."""
    _names[0] = itertools.count()


class KerasHistory(collections.namedtuple("KerasHistory", ["layer", "node_index", "tensor_index"])):
    """Which layer call made a KerasTensor: ``layer._inbound_nodes[node_index]``,
    output number ``tensor_index``."""

    __slots__ = ()

    @property
    def operation(self):
        """Keras 3's name for ``layer``."""
        return self.layer


def _check_shape(shape) -> tuple:
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"KerasTensor: expected a shape (tuple of ints or None), received "
                        f"shape={shape!r}") from None
    for d in dims:
        if d is not None and (isinstance(d, bool) or not isinstance(d, (int, np.integer))
                              or d < 0):
            raise ValueError(f"KerasTensor: expected a shape of ints >= 0 or None, received "
                             f"shape={shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


class KerasTensor:
    """A symbolic tensor: ``shape`` (batch first; None where unknown), ``dtype``, ``name``.

    Args:
        shape: the full shape, batch dimension included.
        dtype: a NumPy dtype name (default "float32").
        name: default "keras_tensor", "keras_tensor_1", ...
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = _check_shape(shape)
        self.dtype = np.dtype(dtype).name
        if name is None:
            n = next(_names[0])
            name = "keras_tensor" if n == 0 else f"keras_tensor_{n}"
        self.name = name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"{self!r} is symbolic (a shape, no values): it can be passed to layers to "
            "build a model, not to NumPy or pydl.ops. To compute on it, wrap the "
            "computation in a layer, e.g. pydl.layers.Lambda(lambda x: ...)(tensor)")

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def is_keras_tensor(value) -> bool:
    """Whether ``value`` is a symbolic tensor produced by ``Input`` or a layer call."""
    return isinstance(value, KerasTensor) and hasattr(value, "_keras_history")
