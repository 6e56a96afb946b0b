"""``Input``: the declared input of a model, as in Keras.

``pydl.Input(shape=(784,))`` returns a ``KerasTensor`` (shape with a leading
batch dimension, dtype, name): the start of a Functional model's graph, or the
first entry of a ``Sequential`` (which is then built at once, before it sees
data). ``InputLayer`` is the layer behind it (the identity); its one node, made
when it is created, has no inputs and outputs that tensor.
"""

from __future__ import annotations

import numpy as np

from .._config import floatx
from .keras_tensor import KerasTensor
from .layer import Layer
from .node import Node

_FLOAT_DTYPES = ("float32", "float64")


def check_sample_shape(arg: str, shape) -> tuple:
    """A per-sample shape: a tuple of ints >= 1 (None allowed for unknown dims)."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{arg}: expected a tuple of ints, received {arg}={shape!r}") from None
    for d in dims:
        if d is None:
            continue
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
            raise ValueError(
                f"{arg}: expected a tuple of ints >= 1 (or None), received {arg}={shape!r}"
            )
    return tuple(None if d is None else int(d) for d in dims)


def _check_dtype(dtype) -> str:
    if dtype is None:
        return floatx()
    try:
        name = np.dtype(dtype).name
    except TypeError:
        raise TypeError(f"Input: expected dtype float32 or float64, received dtype={dtype!r}") from None
    if name not in _FLOAT_DTYPES:
        raise ValueError(f"Input: expected dtype float32 or float64, received dtype={dtype!r}")
    return name


def _check_batch_size(batch_size):
    if batch_size is None:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(
            f"Input: expected batch_size to be an int >= 1 or None, received batch_size={batch_size!r}"
        )
    return int(batch_size)


class InputLayer(Layer):
    """The identity layer that records a model's input shape and dtype.

    Args:
        shape: per-sample shape (without the batch dimension).
        batch_size: fixed batch size, or None (any).
        dtype: "float32" (default) or "float64".
        batch_shape: the full shape, batch first, instead of shape/batch_size.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, batch_shape=None, name=None,
                 **kwargs):
        # Keras 2 spelling.
        if shape is None and "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if batch_shape is None and "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        if batch_shape is not None:
            if shape is not None:
                raise ValueError("Input: pass shape or batch_shape, not both "
                                 f"(received shape={shape!r}, batch_shape={batch_shape!r})")
            batch_shape = tuple(batch_shape)
            if not batch_shape:
                raise ValueError(f"Input: batch_shape must have a batch dimension, "
                                 f"received batch_shape={batch_shape!r}")
            batch_size = batch_shape[0]
            shape = batch_shape[1:]
        if shape is None:
            raise ValueError("Input: expected a shape, e.g. Input(shape=(784,)), received shape=None")
        dtype = _check_dtype(dtype)
        kwargs.pop("dtype", None)
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.sample_shape = check_sample_shape("shape", shape)
        self.batch_size = _check_batch_size(batch_size)
        self.input_dtype = dtype
        self.built = True
        Node(self, outputs=KerasTensor(self.batch_shape, dtype, name=self.name))

    @property
    def batch_shape(self) -> tuple:
        return (self.batch_size,) + self.sample_shape

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        return {"batch_shape": list(self.batch_shape), "dtype": self.input_dtype,
                "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "InputLayer":
        return cls(**config)


def Input(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None):
    """A model input: ``Input(shape=(784,))`` starts a Functional model or stands
    first in a ``Sequential``.

    Args:
        shape: per-sample shape, without the batch dimension.
        batch_size: fixed batch size, or None.
        dtype: "float32" (default) or "float64".
        name: optional name.
        batch_shape: the full shape with the batch first, instead of shape.

    Returns:
        The ``KerasTensor`` the InputLayer outputs.
    """
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name,
                      batch_shape=batch_shape).output
