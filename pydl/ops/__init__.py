"""Differentiable operations: the building blocks of custom layers and losses.

Every function takes NumPy arrays, Python numbers, Variables or Tensors and
returns a Tensor. Inside a `pydl.GradientTape` the call is recorded (when one
of its inputs is watched), so `tape.gradient` can differentiate through it.
Shapes broadcast as in NumPy; gradients are summed back to each input's shape.
The heavy work runs in the C++ core (`pydl._core`).
"""

from ..tensor import Tensor
from .activation import (elu, gelu, leaky_relu, linear, log_softmax, relu, selu, sigmoid, silu,
                         softmax, softplus, swish, tanh)
from .dense import dense
from .discrete import argmax, argmin, equal, one_hot
from .dropout import dropout
from .embedding import embedding_lookup
from .linalg import matmul, tensordot
from .losses import (binary_crossentropy, categorical_crossentropy, categorical_hinge,
                     cosine_similarity, hinge, huber, kl_divergence, log_cosh,
                     mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
                     mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                     squared_hinge)
from .math import (abs, add, cast, clip, divide, exp, log, maximum, minimum, multiply, negative,
                   pow, sqrt, square, subtract, where)
from .normalization import batch_normalization, layer_normalization, normalize
from .pooling import global_average_pool1d, global_max_pool1d
from .reduction import max, mean, min, sum
from .shape import (broadcast_to, concatenate, expand_dims, getitem, reshape, squeeze, stack,
                    transpose)
# After `.shape`: importing that submodule binds `pydl.ops.shape` to the module;
# this binds it to the function, as in Keras.
from .creation import array, convert_to_numpy, convert_to_tensor, ones, shape, zeros  # noqa: E402

__all__ = [
    "Tensor", "abs", "add", "argmax", "argmin", "array", "binary_crossentropy", "broadcast_to",
    "cast", "categorical_crossentropy", "clip", "concatenate", "convert_to_numpy",
    "convert_to_tensor", "dense", "divide", "dropout", "elu", "equal", "exp", "expand_dims",
    "gelu", "getitem", "huber", "leaky_relu", "linear", "log", "log_softmax", "matmul", "max",
    "maximum", "mean", "mean_absolute_error", "mean_squared_error", "min", "minimum", "multiply",
    "negative", "one_hot", "ones", "pow", "relu", "reshape", "selu", "shape", "sigmoid", "silu",
    "softmax", "softplus", "sparse_categorical_crossentropy", "sqrt", "square", "squeeze",
    "stack", "subtract", "sum", "swish", "tanh", "tensordot", "transpose", "where", "zeros",
]
# Layers beyond Dense (normalization, embedding, pooling) and the second-milestone losses.
__all__ += [
    "batch_normalization", "categorical_hinge", "cosine_similarity", "embedding_lookup",
    "global_average_pool1d", "global_max_pool1d", "hinge", "kl_divergence",
    "layer_normalization", "log_cosh", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "normalize", "poisson", "squared_hinge",
]
