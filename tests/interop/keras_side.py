"""Keras 3 for the interop tests: imported once, on its light numpy backend."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest


# Keras' numpy backend converts its variables with np.array(x), which NumPy 2 warns about;
# a Keras issue, not pydl's: test modules that run Keras ignore just that warning.
KERAS_NUMPY2_WARNING = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")


def keras():
    """The keras module on the numpy backend (the test is skipped when Keras is absent)."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "numpy"
    module = pytest.importorskip("keras")
    pytest.importorskip("h5py")
    if module.backend.backend() != "numpy":
        pytest.skip(f"Keras was imported with the {module.backend.backend()} backend; these "
                    f"tests run it on numpy (KERAS_BACKEND=numpy)")
    return module


def value(variable) -> np.ndarray:
    """A Keras variable as a NumPy array (``Variable.numpy`` warns under NumPy 2)."""
    return np.asarray(variable.value)


def weights(model) -> list:
    """A Keras model's weights as NumPy arrays (its ``get_weights``, without the warning)."""
    return [value(v) for v in model.weights]


def optimizer_arrays(model) -> list:
    """A Keras model's optimizer variables as NumPy arrays, in Keras' order."""
    return [value(v) for v in model.optimizer.variables]
