"""Sequential: structure, building, summary, weights, config, error cases."""

import numpy as np
import pytest

import pydl
from pydl import layers


def mlp(input_shape=(8,)):
    return pydl.Sequential([
        pydl.Input(shape=input_shape),
        layers.Dense(16, activation="relu"),
        layers.Dropout(0.2),
        layers.Dense(3, activation="softmax"),
    ], name="mlp")


def test_built_at_once_with_an_input():
    model = mlp()
    assert model.built
    assert len(model.layers) == 3 and not any(isinstance(layer, layers.InputLayer)
                                              for layer in model.layers)
    assert [w.value.shape for w in model.weights] == [(8, 16), (16,), (16, 3), (3,)]
    assert model.trainable_weights == model.weights
    assert model.count_params() == 8 * 16 + 16 + 16 * 3 + 3
    assert model.output_shape == (None, 3)


def test_input_shape_on_first_layer_and_add():
    model = pydl.Sequential()
    model.add(layers.Dense(4, input_shape=(6,)))
    assert model.built and model.weights[0].value.shape == (6, 4)
    model.add(layers.Dense(2))
    assert model.built and model.weights[-1].value.shape == (2,)
    assert model.input_shape == (None, 6)
    popped = model.pop()
    assert isinstance(popped, layers.Dense) and len(model.layers) == 1
    assert model.output_shape == (None, 4)


def test_deferred_build_on_first_data(rng):
    model = pydl.Sequential([layers.Dense(4, activation="relu"), layers.Dense(1)])
    assert not model.built and model.weights == []
    with pytest.raises(ValueError, match="not been built"):
        model.summary()
    with pytest.raises(ValueError, match="not been built"):
        model.count_params()
    y = model.predict(rng.standard_normal((5, 7)), verbose=0)
    assert y.shape == (5, 1) and y.dtype == np.float32
    assert model.built and model.weights[0].value.shape == (7, 4)


def test_build_explicitly():
    model = pydl.Sequential([layers.Dense(3)])
    model.build((None, 5))
    assert model.weights[0].value.shape == (5, 3)
    with pytest.raises(ValueError, match="input_shape"):
        pydl.Sequential([layers.Dense(3)]).build((None,))


def test_summary_table():
    lines = []
    mlp().summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "mlp"' in text
    assert "Layer (type)" in text and "Output Shape" in text and "Param #" in text
    assert "(Dense)" in text and "(Dropout)" in text
    assert "(None, 16)" in text and "(None, 3)" in text
    assert "144" in text and "51" in text
    assert "Total params: 195" in text
    assert "Trainable params: 195" in text
    assert "Non-trainable params: 0" in text


def test_summary_prints_to_stdout(capsys):
    mlp().summary()
    assert "Total params: 195" in capsys.readouterr().out


def test_get_set_weights_round_trip(rng):
    model = mlp()
    x = rng.standard_normal((4, 8)).astype(np.float32)
    before = model.predict(x, verbose=0)
    weights = model.get_weights()
    weights[0] += 1.0  # a copy: the model is unchanged
    np.testing.assert_array_equal(model.predict(x, verbose=0), before)
    other = mlp()
    other.set_weights(model.get_weights())
    np.testing.assert_array_equal(other.predict(x, verbose=0), before)


def test_set_weights_checks_count_and_shapes():
    model = mlp()
    weights = model.get_weights()
    with pytest.raises(ValueError, match="expects 4 arrays.*received 3"):
        model.set_weights(weights[:3])
    bad = list(weights)
    bad[2] = np.zeros((3, 16), np.float32)
    with pytest.raises(ValueError, match=r"shape \(16, 3\).*shape \(3, 16\)"):
        model.set_weights(bad)
    # nothing was half-assigned
    np.testing.assert_array_equal(model.get_weights()[0], weights[0])


def test_wrong_input_shape_is_a_clear_error(rng):
    model = mlp()
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 8\).*\(5, 7\)"):
        model.predict(rng.standard_normal((5, 7)), verbose=0)
    with pytest.raises(ValueError, match=r"\(None, 8\)"):
        model(np.zeros((2, 9), np.float32))
    with pytest.raises(ValueError, match="declared with input shape"):
        model.build((None, 4))


def test_add_errors():
    model = pydl.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="only come first"):
        model.add(pydl.Input(shape=(3,)))
    with pytest.raises(TypeError, match="expected a pydl layer"):
        model.add("dense")
    dense = layers.Dense(2)
    model.add(dense)
    with pytest.raises(ValueError, match="already in the model"):
        model.add(dense)
    with pytest.raises(TypeError, match="no layers"):
        pydl.Sequential().pop()
    with pytest.raises(TypeError, match="list of layers"):
        pydl.Sequential(layers.Dense(2))


def test_call_inside_gradient_tape(rng):
    model = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)])
    x = rng.standard_normal((4, 3)).astype(np.float32)
    with pydl.GradientTape() as tape:
        loss = pydl.ops.sum(model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    np.testing.assert_allclose(grads[0], np.repeat(x.sum(0)[:, None], 2, axis=1), rtol=1e-5)
    np.testing.assert_allclose(grads[1], [4.0, 4.0])


def test_float64_input_is_converted_once(rng):
    model = mlp()
    x = rng.standard_normal((3, 8))
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               model.predict(x.astype(np.float32), verbose=0))
    assert np.asarray(model(x)).dtype == np.float32


def test_config_round_trip(rng):
    model = mlp()
    config = model.get_config()
    clone = pydl.Sequential.from_config(config)
    assert clone.get_config()["layers"] == config["layers"]
    assert [w.value.shape for w in clone.weights] == [w.value.shape for w in model.weights]


def test_nested_sequential(rng):
    inner = pydl.Sequential([layers.Dense(4, activation="relu")])
    model = pydl.Sequential([pydl.Input(shape=(3,)), inner, layers.Dense(1)])
    assert len(model.weights) == 4
    x = rng.standard_normal((2, 3)).astype(np.float32)
    assert model.predict(x, verbose=0).shape == (2, 1)


@pytest.mark.parametrize("activation", ["relu", "softmax", "gelu", "leaky_relu", None])
def test_predict_fast_path_equals_the_layer_calls(rng, activation):
    model = pydl.Sequential([pydl.Input(shape=(2, 5)), layers.Flatten(),
                             layers.Dense(7, activation=activation), layers.Dropout(0.5),
                             layers.Activation("tanh"), layers.Dense(3, activation=activation)])
    assert model._inference_chain is not None
    x = rng.standard_normal((9, 2, 5)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0),
                                  np.asarray(model(x, training=False)))


def test_training_does_not_track_weights_twice(rng):
    model = pydl.Sequential([pydl.Input(shape=(3,)),
                             layers.Dense(2, kernel_regularizer=pydl.regularizers.L2(0.1))])
    model.compile(optimizer="sgd", loss="mse")
    model.train_on_batch(rng.standard_normal((4, 3)), rng.standard_normal((4, 2)))
    assert len(model.losses) == 1 and len(model.weights) == 2
