"""Layers: the `Layer` base class (custom layers) and the built-in layers."""

from .layer import Layer
from .core import Activation, Dense, Dropout, Flatten
from .input_layer import Input, InputLayer

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "InputLayer", "Layer"]
