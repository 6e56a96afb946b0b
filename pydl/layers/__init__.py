"""Layers: the `Layer` base class (custom layers) and the built-in layers."""

from .layer import Layer
from .core import Activation, Dense, Dropout, Flatten
from .input_layer import Input, InputLayer
from .keras_tensor import KerasTensor
from .lambda_layer import Lambda
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, dot, maximum, minimum, multiply, subtract)
from .reshaping import Permute, RepeatVector, Reshape

__all__ = ["Activation", "Add", "Average", "Concatenate", "Dense", "Dot", "Dropout", "Flatten",
           "Input", "InputLayer", "KerasTensor", "Lambda", "Layer", "Maximum", "Minimum",
           "Multiply", "Permute", "RepeatVector", "Reshape", "Subtract", "add", "average",
           "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]
