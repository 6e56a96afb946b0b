"""Layers: the `Layer` base class (custom layers) and the built-in layers."""

from .layer import Layer
from .core import Activation, Dense, Dropout, Flatten
from .input_layer import Input, InputLayer
from .keras_tensor import KerasTensor
from .lambda_layer import Lambda
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, dot, maximum, minimum, multiply, subtract)
from .reshaping import Permute, RepeatVector, Reshape
from .embedding import Embedding
from .identity import Identity
from .normalization import BatchNormalization, LayerNormalization, UnitNormalization
from .pooling import GlobalAveragePooling1D, GlobalMaxPooling1D
from .preprocessing import CategoryEncoding, Normalization, Rescaling
from .regularization import ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise

# Keras' aliases.
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D

__all__ = ["Activation", "Add", "Average", "Concatenate", "Dense", "Dot", "Dropout", "Flatten",
           "Input", "InputLayer", "KerasTensor", "Lambda", "Layer", "Maximum", "Minimum",
           "Multiply", "Permute", "RepeatVector", "Reshape", "Subtract", "add", "average",
           "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]
# Layers beyond Dense (second milestone).
__all__ += ["ActivityRegularization", "AlphaDropout", "BatchNormalization", "CategoryEncoding",
            "Embedding", "GaussianDropout", "GaussianNoise", "GlobalAveragePooling1D",
            "GlobalAvgPool1D", "GlobalMaxPool1D", "GlobalMaxPooling1D", "Identity",
            "LayerNormalization", "Normalization", "Rescaling", "UnitNormalization"]
