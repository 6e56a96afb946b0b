"""Dense, Activation, Dropout, Flatten, Input: validation, math, config round-trips."""

import numpy as np
import pytest

import pydl
from pydl import layers


def _relu(x):
    return np.maximum(x, 0)


def test_dense_forward_matches_numpy(rng):
    layer = layers.Dense(5, activation="relu")
    x = rng.standard_normal((7, 3)).astype(np.float32)
    y = np.asarray(layer(x))
    w, b = layer.get_weights()
    assert w.shape == (3, 5) and b.shape == (5,)
    np.testing.assert_allclose(y, _relu(x.astype(np.float64) @ w + b), rtol=1e-5, atol=1e-6)
    assert [v.name for v in layer.weights][:1] and len(layer.trainable_weights) == 2


def test_dense_without_bias_and_shapes():
    layer = layers.Dense(4, use_bias=False)
    assert layer.compute_output_shape((None, 9)) == (None, 4)
    out = layer(np.ones((2, 9), np.float32))
    assert np.asarray(out).shape == (2, 4)
    assert len(layer.weights) == 1


def test_dense_glorot_uniform_bounds():
    pydl.utils.set_random_seed(3)
    layer = layers.Dense(300)
    layer(np.zeros((1, 200), np.float32))
    w = layer.get_weights()[0]
    limit = np.sqrt(6 / (200 + 300))
    assert np.all(np.abs(w) <= limit) and w.std() > limit / 3
    assert np.all(layer.get_weights()[1] == 0)


@pytest.mark.parametrize("units", [0, -3, 2.5, "8", None, True])
def test_dense_rejects_bad_units(units):
    with pytest.raises((ValueError, TypeError), match=f"units={units!r}"):
        layers.Dense(units)


def test_dense_rejects_unknown_activation():
    with pytest.raises(ValueError, match="nope"):
        layers.Dense(3, activation="nope")


def test_dense_config_round_trip():
    layer = layers.Dense(6, activation="tanh", use_bias=False, kernel_initializer="he_normal",
                         kernel_regularizer=pydl.regularizers.L2(0.003), input_shape=(4,),
                         name="my_dense")
    config = layer.get_config()
    assert config["units"] == 6 and config["name"] == "my_dense"
    assert tuple(config["batch_input_shape"]) == (None, 4)
    clone = layers.Dense.from_config(config)
    assert clone.get_config() == config
    assert clone.kernel_regularizer.l2 == pytest.approx(0.003)


def test_activation_layer_matches_function(rng):
    x = rng.standard_normal((4, 5)).astype(np.float32)
    out = np.asarray(layers.Activation("relu")(x))
    np.testing.assert_array_equal(out, _relu(x))
    config = layers.Activation("sigmoid").get_config()
    assert layers.Activation.from_config(config).get_config() == config


def test_dropout_is_identity_unless_training(rng):
    x = rng.standard_normal((50, 40)).astype(np.float32)
    layer = layers.Dropout(0.5, seed=1)
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    y = np.asarray(layer(x, training=True))
    dropped = y == 0
    assert 0.35 < dropped.mean() < 0.65
    np.testing.assert_allclose(y[~dropped], 2 * x[~dropped], rtol=1e-6)


def test_dropout_seed_makes_masks_reproducible(rng):
    x = np.ones((20, 30), np.float32)
    a = np.asarray(layers.Dropout(0.3, seed=7)(x, training=True))
    b = np.asarray(layers.Dropout(0.3, seed=7)(x, training=True))
    np.testing.assert_array_equal(a, b)


def test_dropout_noise_shape_drops_whole_columns():
    x = np.ones((16, 10), np.float32)
    y = np.asarray(layers.Dropout(0.5, noise_shape=(1, 10), seed=2)(x, training=True))
    assert np.all(y == y[:1])


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5, "0.5", float("nan")])
def test_dropout_rejects_bad_rate(rate):
    with pytest.raises(ValueError, match="rate="):
        layers.Dropout(rate)


def test_dropout_config_round_trip():
    config = layers.Dropout(0.25, noise_shape=(None, 1), seed=3, name="d").get_config()
    assert config["rate"] == 0.25 and config["seed"] == 3
    assert layers.Dropout.from_config(config).get_config() == config


def test_flatten(rng):
    x = rng.standard_normal((3, 4, 5)).astype(np.float32)
    layer = layers.Flatten()
    np.testing.assert_array_equal(np.asarray(layer(x)), x.reshape(3, 20))
    assert layer.compute_output_shape((None, 4, 5)) == (None, 20)


def test_input_placeholder_and_validation():
    inp = pydl.Input(shape=(784,))
    assert inp.shape == (None, 784) and inp.dtype == "float32"
    assert pydl.Input(shape=(3,), batch_size=8).shape == (8, 3)
    with pytest.raises(ValueError, match="shape"):
        pydl.Input(shape=(0,))
    with pytest.raises(ValueError, match="shape=None"):
        pydl.Input()
    with pytest.raises(ValueError, match="dtype"):
        pydl.Input(shape=(3,), dtype="int32")


def test_input_layer_config_round_trip():
    layer = layers.InputLayer(shape=(5, 2), name="inp")
    config = layer.get_config()
    assert config["batch_shape"] == [None, 5, 2]
    assert layers.InputLayer.from_config(config).get_config() == config
