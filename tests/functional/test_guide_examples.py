"""keras.io "The Functional API" and "Deep Learning with Python" ch. 7 examples, with
``import pydl as keras`` and data of the right shape (only the Dense/merge/shape-layer
examples; multi-output training belongs to the compile/fit work)."""

import numpy as np
import pytest

import pydl as keras
from pydl import layers

R = np.random.default_rng(2024)


def test_guide_mnist_mlp_builds_trains_evaluates_saves(tmp_path):
    inputs = keras.Input(shape=(784,))
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[0] == 'Model: "mnist_model"' and "Total params: 55,050 (215.04 KB)" in lines

    x_train = R.random((256, 784)).astype("float32")
    y_train = R.integers(0, 10, 256)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=keras.optimizers.RMSprop(),
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2,
                        verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    test_scores = model.evaluate(x_train[:64], y_train[:64], verbose=0)
    assert len(test_scores) == 2

    model.save(tmp_path / "path_to_my_model.pydl")
    expected = model.predict(x_train[:8], verbose=0)
    del model
    model = keras.models.load_model(tmp_path / "path_to_my_model.pydl")
    np.testing.assert_array_equal(model.predict(x_train[:8], verbose=0), expected)


def test_guide_one_graph_many_models_autoencoder():
    # "Use the same graph of layers to define multiple models" (Dense in place of Conv2D).
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Flatten()(encoder_input)
    x = layers.Dense(32, activation="relu")(x)
    encoder_output = layers.Dense(16, activation="relu")(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    x = layers.Dense(32, activation="relu")(encoder_output)
    x = layers.Dense(784, activation="sigmoid")(x)
    decoder_output = layers.Reshape((28, 28, 1))(x)
    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    assert encoder.output_shape == (None, 16) and autoencoder.output_shape == (None, 28, 28, 1)
    assert autoencoder.layers[:4] == encoder.layers
    img = R.random((3, 28, 28, 1)).astype("float32")
    assert autoencoder(img).shape == (3, 28, 28, 1)


def test_guide_all_models_are_callable():
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Flatten()(encoder_input)
    encoder_output = layers.Dense(16, activation="relu")(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Dense(784, activation="sigmoid")(decoder_input)
    decoder_output = layers.Reshape((28, 28, 1))(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    autoencoder = keras.Model(autoencoder_input, decoded_img, name="autoencoder")
    assert [l.name for l in autoencoder.layers] == ["img", "encoder", "decoder"]
    img = R.random((2, 28, 28, 1)).astype("float32")
    np.testing.assert_array_equal(np.asarray(autoencoder(img)),
                                  np.asarray(decoder(encoder(img))))


def test_guide_extract_and_reuse_nodes():
    model = keras.Sequential([keras.Input(shape=(20,)), layers.Dense(16, activation="relu"),
                              layers.Dense(8, activation="relu"), layers.Dense(2)])
    features_list = [layer.output for layer in model.layers]
    feat_extraction_model = keras.Model(inputs=model.input, outputs=features_list)
    img = R.random((4, 20)).astype("float32")
    extracted_features = feat_extraction_model(img)
    assert [f.shape for f in extracted_features] == [(4, 16), (4, 8), (4, 2)]
    np.testing.assert_allclose(np.asarray(extracted_features[-1]), np.asarray(model(img)),
                               rtol=1e-6)


def ticket_classifier():
    vocabulary_size = 10000
    num_tags = 100
    num_departments = 4

    title = keras.Input(shape=(vocabulary_size,), name="title")
    text_body = keras.Input(shape=(vocabulary_size,), name="text_body")
    tags = keras.Input(shape=(num_tags,), name="tags")

    features = layers.Concatenate()([title, text_body, tags])
    features = layers.Dense(64, activation="relu")(features)

    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(
        num_departments, activation="softmax", name="department")(features)

    model = keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])
    return model, (title, text_body, tags), (priority, department)


def ticket_data(num_samples=16):
    title_data = R.integers(0, 2, size=(num_samples, 10000))
    text_body_data = R.integers(0, 2, size=(num_samples, 10000))
    tags_data = R.integers(0, 2, size=(num_samples, 100))
    return title_data, text_body_data, tags_data


def test_dlwp_ticket_classifier_builds_summarizes_predicts_and_saves(tmp_path):
    model, (title, text_body, tags), (priority, department) = ticket_classifier()
    lines = []
    model.summary(print_fn=lines.append)
    assert "Connected to" in lines[2]
    assert "Total params: 1,286,789 (4.91 MB)" in lines
    title_data, text_body_data, tags_data = ticket_data()
    priority_preds, department_preds = model([title_data, text_body_data, tags_data])
    assert priority_preds.shape == (16, 1) and department_preds.shape == (16, 4)
    np.testing.assert_allclose(np.asarray(department_preds).sum(axis=1), 1.0, rtol=1e-5)
    by_name = model({"title": title_data, "text_body": text_body_data, "tags": tags_data})
    np.testing.assert_array_equal(np.asarray(by_name[0]), np.asarray(priority_preds))

    model.save(tmp_path / "ticket_classifier.pydl")
    loaded = keras.models.load_model(tmp_path / "ticket_classifier.pydl")
    for got, want in zip(loaded([title_data, text_body_data, tags_data]),
                         (priority_preds, department_preds)):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))

    # "Accessing layers" and "Creating a new model by reusing intermediate layer outputs"
    assert [type(l).__name__ for l in model.layers] == ["InputLayer"] * 3 + [
        "Concatenate", "Dense", "Dense", "Dense"]
    assert model.layers[3].input == [title, text_body, tags]
    assert model.layers[3].output.shape == (None, 20100)
    features = model.layers[4].output
    difficulty = layers.Dense(3, activation="softmax", name="difficulty")(features)
    new_model = keras.Model(inputs=[title, text_body, tags],
                            outputs=[priority, department, difficulty])
    outs = new_model([title_data, text_body_data, tags_data])
    assert [o.shape for o in outs] == [(16, 1), (16, 4), (16, 3)]
    np.testing.assert_array_equal(np.asarray(outs[1]), np.asarray(department_preds))


def test_dlwp_subclassed_layer_in_functional_and_functional_in_subclassed():
    class Classifier(keras.Model):
        def __init__(self, num_classes=2):
            super().__init__()
            if num_classes == 2:
                num_units = 1
                activation = "sigmoid"
            else:
                num_units = num_classes
                activation = "softmax"
            self.dense = layers.Dense(num_units, activation=activation)

        def call(self, inputs):
            return self.dense(inputs)

    inputs = keras.Input(shape=(3,))
    features = layers.Dense(64, activation="relu")(inputs)
    outputs = Classifier(num_classes=10)(features)
    model = keras.Model(inputs=inputs, outputs=outputs)
    assert outputs.shape == (None, 10) and model(np.ones((2, 3))).shape == (2, 10)

    inputs = keras.Input(shape=(64,))
    outputs = layers.Dense(1, activation="sigmoid")(inputs)
    binary_classifier = keras.Model(inputs=inputs, outputs=outputs)

    class MyModel(keras.Model):
        def __init__(self, num_classes=2):
            super().__init__()
            self.dense = layers.Dense(64, activation="relu")
            self.classifier = binary_classifier

        def call(self, inputs):
            features = self.dense(inputs)
            return self.classifier(features)

    model = MyModel()
    assert model(np.ones((2, 5))).shape == (2, 1)
    assert len(model.weights) == 4


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_two_tower_with_concatenate_trains(dtype):
    keras.utils.set_random_seed(3)
    left = keras.Input(shape=(8,), dtype=dtype)
    right = keras.Input(shape=(8,), dtype=dtype)
    a = layers.Dense(16, activation="relu", dtype=dtype)(left)
    b = layers.Dense(16, activation="relu", dtype=dtype)(right)
    out = layers.Dense(1, dtype=dtype)(layers.concatenate([a, b], dtype=dtype))
    model = keras.Model([left, right], out)
    xl, xr = R.normal(size=(64, 8)).astype(dtype), R.normal(size=(64, 8)).astype(dtype)
    y = (xl[:, :1] - xr[:, 1:2]).astype(dtype)
    optimizer = keras.optimizers.Adam(0.01)
    losses = []
    for _ in range(40):
        with keras.GradientTape() as tape:
            loss = keras.losses.MeanSquaredError()(y, model([xl, xr], training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        losses.append(float(loss))
    assert losses[-1] < 0.2 * losses[0]
