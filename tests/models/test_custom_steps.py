"""train_step / test_step / predict_step / compute_loss overrides, as Keras 3 runs them.

The first four tests are the keras.io guide "Customizing what happens in fit() with
TensorFlow" with its imports swapped (`tf.GradientTape` -> `pydl.GradientTape`,
`import keras` -> `import pydl as keras`), on data of the right shape; its last
example (a GAN) needs Conv2D, which pydl does not have.
"""

from __future__ import annotations

import numpy as np
import pytest

import pydl
import pydl as keras


def _data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, 32)), rng.random((n, 1))


CALLS = []


class GuideModel(keras.Model):
    def train_step(self, data):
        CALLS.append(1)
        x, y = data
        with pydl.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_guide_first_example_calls_the_override():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = GuideModel(inputs, outputs)
    assert isinstance(model, GuideModel) and isinstance(model, keras.Model)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _data()
    CALLS.clear()
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
    assert len(CALLS) == 3 * 7  # every batch of every epoch
    assert model._trained_on == "tape"
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    # The compiled metrics are reset each epoch: the last epoch's mae is its own mean.
    assert history.history["mae"][-1] == pytest.approx(model.metrics[1].result()["mae"])


class LowerLevelModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        with pydl.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.loss_fn(y, y_pred)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_guide_lower_level_model_compiles_with_an_optimizer_alone():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = LowerLevelModel(inputs, outputs)
    model.compile(optimizer="adam")  # no loss, no metrics
    x, y = _data()
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    # reset at every epoch: the tracker holds one epoch's batches (7), not five epochs'
    assert float(np.asarray(model.loss_tracker.count)) == 7


class WeightedModel(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        with pydl.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


def test_guide_sample_weight_example():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = WeightedModel(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _data()
    sw = np.random.default_rng(1).random((200, 1))
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(sorted(logs))

    history = model.fit(x, y, sample_weight=sw, epochs=3, batch_size=32, verbose=0,
                        callbacks=[Spy()])
    assert seen[0] == ["loss", "mae"]
    assert np.isfinite(history.history["loss"]).all()


class EvalModel(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_guide_custom_test_step_in_evaluate():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = EvalModel(inputs, outputs)
    model.compile(loss="mse", metrics=["mae"])
    x, y = _data()
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    prediction = model.predict(x, verbose=0)
    assert result["mae"] == pytest.approx(np.mean(np.abs(prediction - y)), rel=1e-5)
    # The guide's loss tracker averages batch losses (weight 1 each), as in Keras.
    batches = [np.mean((prediction[i:i + 32] - y[i:i + 32]) ** 2) for i in range(0, 200, 32)]
    assert result["loss"] == pytest.approx(np.mean(batches), rel=1e-4)


def test_predict_step_override_is_called_per_batch():
    class Doubling(keras.Model):
        def predict_step(self, data):
            (x,) = data
            return pydl.ops.multiply(self(x, training=False), 2.0)

    inputs = keras.Input(shape=(4,))
    model = Doubling(inputs, keras.layers.Dense(3)(inputs))
    x = np.random.default_rng(0).random((10, 4)).astype(np.float32)
    plain = keras.Model(inputs, model.outputs)
    np.testing.assert_allclose(model.predict(x, batch_size=4, verbose=0),
                               2 * plain.predict(x, batch_size=4, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x), 2 * plain.predict_on_batch(x),
                               rtol=1e-6)


def test_compute_loss_override_sends_fit_to_the_tape():
    class Penalized(keras.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            loss = super().compute_loss(x, y, y_pred, sample_weight, training)
            return pydl.ops.add(loss, pydl.ops.multiply(pydl.ops.mean(pydl.ops.square(y_pred)),
                                                        0.1))

    inputs = keras.Input(shape=(32,))
    model = Penalized(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data()
    model.fit(x, y, epochs=1, verbose=0)
    assert model._trained_on == "tape"


def test_subclassed_model_with_call_and_train_step():
    """The book's subclassing style: layers as attributes, call, and a train_step."""
    class Classifier(keras.Model):
        def __init__(self, classes):
            super().__init__()
            self.hidden = keras.layers.Dense(16, activation="relu")
            self.out = keras.layers.Dense(classes, activation="softmax")
            self.tracker = keras.metrics.Mean(name="loss")
            self.loss_fn = keras.losses.SparseCategoricalCrossentropy()

        def call(self, x):
            return self.out(self.hidden(x))

        def train_step(self, data):
            x, y = data
            with pydl.GradientTape() as tape:
                loss = self.loss_fn(y, self(x, training=True))
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            self.tracker.update_state(loss)
            return {"loss": self.tracker.result()}

    rng = np.random.default_rng(2)
    x = rng.standard_normal((256, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = Classifier(2)
    model.compile(optimizer=keras.optimizers.RMSprop(0.01))
    history = model.fit(x, y, epochs=6, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_default_train_step_called_directly_matches_fit():
    """train_step(data) is public: one call is one fit step."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = rng.standard_normal((16, 2)).astype(np.float32)
    models = []
    for direct in (True, False):
        pydl.utils.set_random_seed(4)
        inputs = keras.Input(shape=(5,))
        model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
        if direct:
            logs = model.train_step((x, y))
        else:
            model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
            logs = model.get_metrics_result()
        models.append((model.get_weights(), {k: float(v) for k, v in logs.items()}))
    for a, b in zip(models[0][0], models[1][0]):
        np.testing.assert_array_equal(a, b)
    assert models[0][1] == models[1][1]


def test_fit_and_evaluate_before_compile_raise_value_error():
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    x, y = np.zeros((4, 3)), np.zeros((4, 1))
    for call in (lambda: model.fit(x, y, verbose=0), lambda: model.evaluate(x, y, verbose=0),
                 lambda: model.train_on_batch(x, y), lambda: model.test_on_batch(x, y)):
        with pytest.raises(ValueError, match="compile"):
            call()


def test_compiled_without_a_loss_and_no_override_is_a_clear_error():
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="no loss to compute"):
        model.fit(np.zeros((4, 3)), np.zeros((4, 1)), verbose=0)
