"""Shape layers (Reshape, Permute, RepeatVector) and Lambda: values, shapes, errors, gradients."""

import numpy as np
import pytest

import pydl
from pydl import layers, ops
from pydl.testing import gradcheck

R = np.random.default_rng(5)


def test_reshape_values_shapes_and_minus_one():
    x = R.normal(size=(2, 12)).astype("f4")
    np.testing.assert_array_equal(np.asarray(layers.Reshape((3, 4))(x)), x.reshape(2, 3, 4))
    np.testing.assert_array_equal(np.asarray(layers.Reshape((-1, 2))(x)), x.reshape(2, 6, 2))
    assert layers.Reshape((-1, 2))(pydl.Input(shape=(12,))).shape == (None, 6, 2)
    assert layers.Reshape((-1, 2))(pydl.Input(shape=(None, 4))).shape == (None, None, 2)
    assert layers.Reshape((3, 4)).get_config()["target_shape"] == [3, 4]


def test_reshape_errors():
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        layers.Reshape((-1, -1))
    with pytest.raises(ValueError, match="target_shape"):
        layers.Reshape((0, 3))
    with pytest.raises(TypeError, match="target_shape"):
        layers.Reshape(None)
    with pytest.raises(ValueError, match=r"total size .* unchanged.*input_shape=\(12,\)"):
        layers.Reshape((5,))(pydl.Input(shape=(12,)))
    with pytest.raises(ValueError, match="do not fill"):
        layers.Reshape((-1, 5))(pydl.Input(shape=(12,)))


def test_permute_values_shapes_and_errors():
    x = R.normal(size=(2, 3, 4, 5)).astype("f4")
    np.testing.assert_array_equal(np.asarray(layers.Permute((3, 1, 2))(x)),
                                  x.transpose(0, 3, 1, 2))
    assert layers.Permute((2, 1))(pydl.Input(shape=(10, 64))).shape == (None, 64, 10)
    with pytest.raises(ValueError, match="consecutive and start from 1"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="consecutive"):
        layers.Permute((1, 3))
    with pytest.raises(ValueError, match=r"rank 3, received input_shape=\(None, 4\)"):
        layers.Permute((2, 1))(pydl.Input(shape=(4,)))


def test_repeat_vector_values_shapes_and_errors():
    x = R.normal(size=(2, 3)).astype("f4")
    np.testing.assert_array_equal(np.asarray(layers.RepeatVector(4)(x)),
                                  np.repeat(x[:, None, :], 4, axis=1))
    assert layers.RepeatVector(4)(pydl.Input(shape=(3,))).shape == (None, 4, 3)
    with pytest.raises(TypeError, match="integer value for n"):
        layers.RepeatVector(2.0)
    with pytest.raises(ValueError, match="n >= 1"):
        layers.RepeatVector(0)
    with pytest.raises(ValueError, match="rank 2"):
        layers.RepeatVector(2)(pydl.Input(shape=(3, 2)))


WEIGHTS = R.normal(size=48)


def weighted(out):
    return ops.sum(ops.multiply(out, WEIGHTS[: int(np.prod(out.shape))].reshape(out.shape)))


@pytest.mark.parametrize("layer", [layers.Reshape((2, -1), dtype="float64"),
                                   layers.Permute((2, 1), dtype="float64"),
                                   layers.RepeatVector(3, dtype="float64"),
                                   layers.Lambda(lambda x: ops.square(x) * 2.0, dtype="float64")],
                         ids=["reshape", "permute", "repeat_vector", "lambda"])
def test_shape_layer_gradients_by_finite_differences(layer):
    x = R.normal(size=(2, 4)) if not isinstance(layer, layers.Permute) else R.normal(size=(2, 3, 4))
    assert gradcheck(lambda x: weighted(layer(x)), [x])


def scale_by(x, factor=1.0):
    return ops.multiply(x, factor)


def test_lambda_call_arguments_training_and_output_shape():
    x = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(np.asarray(layers.Lambda(scale_by, arguments={"factor": 3.0})(
        x)), 3 * x)
    seen = []

    def remember(x, training=None):
        seen.append(training)
        return x

    layers.Lambda(remember)(x, training=True)
    assert seen == [True]
    assert layers.Lambda(lambda t: ops.sum(t, axis=1))(pydl.Input(shape=(3, 5))).shape == \
        (None, 5)
    fixed = layers.Lambda(lambda t: t, output_shape=(7,))
    assert fixed(pydl.Input(shape=(7,))).shape == (None, 7)
    computed = layers.Lambda(lambda t: t, output_shape=lambda s: (s[0], s[1]))
    assert computed(pydl.Input(shape=(4,))).shape == (None, 4)


def test_lambda_argument_checks():
    with pytest.raises(TypeError, match="callable"):
        layers.Lambda(3)
    with pytest.raises(ValueError, match="mask is not supported"):
        layers.Lambda(scale_by, mask=lambda x, m: m)
    with pytest.raises(TypeError, match="arguments"):
        layers.Lambda(scale_by, arguments=[1])
    with pytest.raises(TypeError, match="output_shape"):
        layers.Lambda(scale_by, output_shape="big")


def test_lambda_trains_on_the_tape():
    pydl.utils.set_random_seed(2)
    x = R.normal(size=(64, 3)).astype("f4")
    y = (2.0 * x[:, :1] ** 2).astype("f4")
    inputs = pydl.Input(shape=(3,))
    h = layers.Lambda(lambda t: ops.square(t))(inputs)
    model = pydl.Model(inputs, layers.Dense(1)(h))
    model.compile(optimizer=pydl.optimizers.Adam(0.05), loss="mse")
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]


def test_lambda_config_stores_the_function_name_only():
    config = layers.Lambda(scale_by, arguments={"factor": 2.0}, name="lam").get_config()
    assert config["function"]["class_name"] == "function"
    assert config["function"]["config"] == "scale_by"
    with pytest.raises(ValueError, match=r"'scale_by' is not known.*custom_objects"):
        layers.Lambda.from_config(config)
    rebuilt = layers.Lambda.from_config(config, custom_objects={"scale_by": scale_by})
    assert rebuilt.function is scale_by and rebuilt.arguments == {"factor": 2.0}
    relu = layers.Lambda.from_config(layers.Lambda(ops.relu).get_config())
    assert relu.function is ops.relu  # pydl's own ops are found by name
    with pytest.raises(ValueError, match="bytecode"):
        layers.Lambda.from_config({"function": {"class_name": "__lambda__",
                                                "config": {"code": "AAAA"}}})
