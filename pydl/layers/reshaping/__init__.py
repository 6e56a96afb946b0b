"""Shape layers: Reshape, Permute, RepeatVector (Keras' ``keras.layers`` reshaping layers)."""

from .permute import Permute
from .repeat_vector import RepeatVector
from .reshape import Reshape

__all__ = ["Permute", "RepeatVector", "Reshape"]
