"""Merge layers: combine a list of tensors (Keras' ``keras.layers`` merging layers)."""

from .base_merge import Merge
from .concatenate import Concatenate, concatenate
from .dot import Dot, dot
from .elementwise import (Add, Average, Maximum, Minimum, Multiply, Subtract, add, average,
                          maximum, minimum, multiply, subtract)

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Merge", "Minimum", "Multiply",
           "Subtract", "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply",
           "subtract"]
