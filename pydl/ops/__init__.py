"""Differentiable operations: the building blocks of custom layers and losses.

Every function takes NumPy arrays, Python numbers, Variables or Tensors and
returns a Tensor. Inside a `pydl.GradientTape` the call is recorded (when one
of its inputs is watched), so `tape.gradient` can differentiate through it.
Shapes broadcast as in NumPy; gradients are summed back to each input's shape.
The heavy work runs in the C++ core (`pydl._core`).
"""

from ..tensor import Tensor
from .activation import (elu, gelu, leaky_relu, linear, relu, selu, sigmoid, silu, softmax,
                         softplus, swish, tanh)
from .dense import dense
from .dropout import dropout
from .linalg import matmul
from .losses import (binary_crossentropy, categorical_crossentropy, huber, mean_absolute_error,
                     mean_squared_error, sparse_categorical_crossentropy)
from .math import (abs, add, cast, clip, divide, exp, log, maximum, minimum, multiply, negative,
                   pow, sqrt, square, subtract, where)
from .reduction import max, mean, min, sum
from .shape import concatenate, expand_dims, getitem, reshape, squeeze, stack, transpose


def convert_to_tensor(x, dtype=None):
    """`x` as a Tensor (not recorded; float32 unless `dtype` or a float64 array says otherwise)."""
    from ._convert import as_float, float_dtype, raw

    v = raw(x)
    return Tensor(as_float(v, float_dtype(v) if dtype is None else dtype))


def convert_to_numpy(x):
    """`x` as a NumPy array (the Tensor's value, or np.asarray)."""
    import numpy as np

    return np.asarray(x)


__all__ = [
    "Tensor", "abs", "add", "binary_crossentropy", "cast", "categorical_crossentropy", "clip",
    "concatenate", "convert_to_numpy", "convert_to_tensor", "dense", "divide", "dropout", "elu",
    "exp", "expand_dims", "gelu", "getitem", "huber", "leaky_relu", "linear", "log", "matmul",
    "max", "maximum", "mean", "mean_absolute_error", "mean_squared_error", "min", "minimum",
    "multiply", "negative", "pow", "relu", "reshape", "selu", "sigmoid", "silu", "softmax",
    "softplus", "sparse_categorical_crossentropy", "sqrt", "square", "squeeze", "stack",
    "subtract", "sum", "swish", "tanh", "transpose", "where",
]
