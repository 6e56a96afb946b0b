"""fit / evaluate / predict learn: the book's MNIST example, XOR, a teacher regression."""

import numpy as np
import pytest

import pydl
from pydl import layers

from conftest import num_threads


def test_book_mnist_example_runs_unchanged(rng, capsys):
    # Deep Learning with Python, chapter 2, on random data of the same shape.
    train_images = rng.integers(0, 256, size=(1024, 28 * 28)).astype("float32") / 255
    train_labels = rng.integers(0, 10, size=1024).astype("uint8")
    test_images = rng.integers(0, 256, size=(256, 28 * 28)).astype("float32") / 255
    test_labels = rng.integers(0, 10, size=256).astype("uint8")

    from pydl import layers as klayers
    import pydl as keras

    model = keras.Sequential([
        klayers.Dense(512, activation="relu"),
        klayers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="rmsprop",
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=2, batch_size=128)
    test_digits = test_images[0:10]
    predictions = model.predict(test_digits)
    assert predictions.shape == (10, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)
    assert 0 <= predictions[0].argmax() < 10
    test_loss, test_acc = model.evaluate(test_images, test_labels)
    assert np.isfinite(test_loss) and 0.0 <= test_acc <= 1.0
    assert set(history.history) == {"loss", "accuracy"}
    assert len(history.history["loss"]) == 2
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "8/8" in out
    assert "loss:" in out and "accuracy:" in out


def test_xor_learns():
    pydl.utils.set_random_seed(1)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    model = pydl.Sequential([pydl.Input(shape=(2,)), layers.Dense(16, activation="tanh"),
                             layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=pydl.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0).round(), y)
    assert model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"] == 1.0


def test_teacher_regression_learns(rng):
    pydl.utils.set_random_seed(2)
    teacher_w = rng.standard_normal((10, 1)).astype(np.float32)
    x = rng.standard_normal((512, 10)).astype(np.float32)
    y = np.tanh(x @ teacher_w)
    model = pydl.Sequential([layers.Dense(32, activation="relu", input_shape=(10,)),
                             layers.Dense(1)])
    model.compile(optimizer=pydl.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    before = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, epochs=30, batch_size=32, validation_split=0.25, verbose=0)
    after = model.evaluate(x, y, verbose=0)
    assert after[0] < 0.1 * before[0]
    assert history.history["val_loss"][-1] < 0.1 * history.history["val_loss"][0]
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae"}


def test_categorical_crossentropy_with_one_hot(rng):
    pydl.utils.set_random_seed(4)
    centers = rng.standard_normal((3, 4)).astype(np.float32) * 4
    labels = rng.integers(0, 3, 300)
    x = centers[labels] + rng.standard_normal((300, 4)).astype(np.float32)
    y = pydl.utils.to_categorical(labels, 3)
    model = pydl.Sequential([pydl.Input(shape=(4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=pydl.optimizers.Adam(0.05), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9


def test_subclassed_model_fits(rng):
    class TwoLayer(pydl.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="relu")
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    pydl.utils.set_random_seed(5)
    x = rng.standard_normal((128, 3)).astype(np.float32)
    y = (x ** 2).sum(axis=1, keepdims=True)
    model = TwoLayer()
    model.compile(optimizer="adam", loss="mse")
    first = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    last = model.fit(x, y, epochs=40, batch_size=16, verbose=0).history["loss"][-1]
    assert last < 0.3 * first
    assert len(model.layers) == 2 and len(model.trainable_weights) == 4


def test_custom_layer_trains_through_fit(rng):
    class Linear(layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, x):
            return pydl.ops.matmul(x, self.w) + self.b

    pydl.utils.set_random_seed(6)
    x = rng.standard_normal((256, 4)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32) + 1.0
    model = pydl.Sequential([pydl.Input(shape=(4,)), Linear(1)])
    model.compile(optimizer=pydl.optimizers.SGD(0.1), loss="mse")
    model.fit(x, y, epochs=30, batch_size=32, verbose=0)
    w, b = model.get_weights()
    np.testing.assert_allclose(w.ravel(), [1.0, -2.0, 0.5, 3.0], atol=1e-2)
    np.testing.assert_allclose(b, [1.0], atol=1e-2)


@pytest.mark.parametrize("dropout", [0.3, None], ids=["tape", "plan"])
@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_is_bitwise_reproducible(rng, shuffle, dropout):
    """Same seed, same weights and logs, bit for bit -- also at another thread count."""
    x = rng.standard_normal((200, 6)).astype(np.float32)
    y = rng.integers(0, 3, 200)

    def run():
        pydl.utils.set_random_seed(11)
        model = pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(8, activation="relu"),
                                 *([layers.Dropout(dropout)] if dropout else []),
                                 layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        history = model.fit(x, y, epochs=3, batch_size=32, shuffle=shuffle, verbose=0)
        return model.get_weights(), history.history

    with num_threads(1):
        w1, h1 = run()
    with num_threads(2):
        w2, h2 = run()
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)
    assert h1 == h2


def test_float64_model_trains_and_predicts_in_float64(rng):
    model = pydl.Sequential([pydl.Input(shape=(3,), dtype="float64"),
                             layers.Dense(4, activation="tanh", dtype="float64"),
                             layers.Dense(1, dtype="float64")])
    model.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((64, 3)).astype(np.float32)  # converted once, to float64
    history = model.fit(x, x.sum(axis=1), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x[:2], verbose=0).dtype == np.float64
    assert all(w.value.dtype == np.float64 for w in model.weights)
