"""pydl.activations: lookup by name, serialization, Keras' relu options."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import activations, ops


NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu", "gelu",
         "softplus", "silu"]


@pytest.mark.parametrize("name", NAMES)
def test_get_and_serialize_round_trip(name):
    fn = activations.get(name)
    assert callable(fn) and activations.serialize(fn) == name
    assert activations.get(activations.serialize(fn)) is fn


def test_get_special_identifiers():
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu
    assert activations.serialize("swish") == "silu"
    custom = lambda x: x  # noqa: E731
    assert activations.get(custom) is custom
    with pytest.raises(ValueError, match="relu.*sigmoid|linear"):
        activations.get("rleu")
    with pytest.raises(TypeError):
        activations.get(3)


def test_functions_match_numpy_references():
    x = np.linspace(-3, 3, 13).reshape(1, 13)
    np.testing.assert_allclose(np.asarray(activations.relu(x)), np.maximum(x, 0))
    np.testing.assert_allclose(np.asarray(activations.sigmoid(x)), 1 / (1 + np.exp(-x)),
                               rtol=1e-12)
    np.testing.assert_allclose(np.asarray(activations.leaky_relu(x)),
                               np.where(x > 0, x, 0.2 * x))
    np.testing.assert_allclose(np.asarray(activations.elu(x, alpha=0.5)),
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(activations.softmax(x)).sum(), 1.0)
    assert activations.linear(x) is x


def test_relu_keras_options():
    x = np.array([-2.0, -0.5, 0.5, 1.0, 3.0])
    got = activations.relu(x, negative_slope=0.1, max_value=2.0, threshold=0.75)
    expected = np.minimum(np.where(x >= 0.75, x, 0.1 * (x - 0.75)), 2.0)
    np.testing.assert_allclose(np.asarray(got), expected)
    assert pydl.testing.gradcheck(
        lambda x: activations.relu(x, negative_slope=0.1, max_value=2.0, threshold=0.75),
        [x + 0.01])


def test_numpy_ufuncs_on_tensors_are_recorded():
    w = pydl.Variable([0.5, -1.0])
    with pydl.GradientTape() as tape:
        y = ops.sum(np.exp(w) + np.square(w) * np.ones(2))
    np.testing.assert_allclose(tape.gradient(y, w), np.exp(w.numpy()) + 2 * w.numpy(),
                               rtol=1e-6)
