"""A model trained in pydl on the bundled digits, exported both ways (.keras and .onnx),
loaded by Keras and by onnxruntime, predicts the same on the digits test set."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers

from .keras_side import KERAS_NUMPY2_WARNING, keras

pytestmark = KERAS_NUMPY2_WARNING


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("sklearn")
    (x_train, y_train), (x_test, y_test) = pydl.datasets.digits.load_data()
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 16
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 16
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input(shape=(64,), name="pixels"),
                             layers.Dense(64, activation="relu"), layers.Dropout(0.1),
                             layers.Dense(32, activation="gelu"),
                             layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=15, batch_size=32, verbose=0)
    directory = tmp_path_factory.mktemp("digits")
    return model, x_test, y_test, directory


def test_trained_model_is_worth_exporting(trained):
    model, x_test, y_test, _ = trained
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.93


def test_keras_predicts_what_pydl_predicts(trained):
    k = keras()
    model, x_test, y_test, directory = trained
    model.save(directory / "digits.keras")
    loaded = k.models.load_model(directory / "digits.keras")
    expected = model.predict(x_test, verbose=0)
    got = np.asarray(loaded.predict(x_test, verbose=0))
    assert np.abs(got - expected).max() <= 1e-6
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
    keras_loss, keras_accuracy = loaded.evaluate(x_test, y_test, verbose=0)
    pydl_loss, pydl_accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert keras_accuracy == pytest.approx(pydl_accuracy)
    assert keras_loss == pytest.approx(pydl_loss, rel=1e-5)


def test_onnxruntime_predicts_what_pydl_predicts(trained):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    model, x_test, _, directory = trained
    model.export(directory / "digits.onnx", format="onnx", verbose=False)
    session = ort.InferenceSession(str(directory / "digits.onnx"),
                                   providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"pixels": x_test})
    expected = model.predict(x_test, verbose=0)
    assert np.abs(got - expected).max() <= 1e-5
    np.testing.assert_array_equal(got.argmax(axis=1), expected.argmax(axis=1))
