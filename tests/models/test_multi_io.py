"""Models with several inputs and outputs: compile with per-output losses, metrics and
loss_weights (lists or dicts), fit / evaluate / predict on lists or dicts of arrays,
History keys as Keras 3 names them, and the errors that name what is wrong."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers


def ticket_classifier(vocabulary_size=100, num_tags=12, num_departments=4):
    """DLwP ch. 7's multi-input, multi-output model (listing 7.9 / 7.10)."""
    title = pydl.Input(shape=(vocabulary_size,), name="title")
    text_body = pydl.Input(shape=(vocabulary_size,), name="text_body")
    tags = pydl.Input(shape=(num_tags,), name="tags")
    features = layers.Concatenate()([title, text_body, tags])
    features = layers.Dense(64, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(num_departments, activation="softmax", name="department")(features)
    return pydl.Model(inputs=[title, text_body, tags], outputs=[priority, department])


def ticket_data(n=128, vocabulary_size=100, num_tags=12, num_departments=4, seed=0):
    rng = np.random.default_rng(seed)
    title = rng.integers(0, 2, size=(n, vocabulary_size)).astype("float32")
    text_body = rng.integers(0, 2, size=(n, vocabulary_size)).astype("float32")
    tags = rng.integers(0, 2, size=(n, num_tags)).astype("float32")
    priority = rng.random(size=(n, 1))
    department = rng.integers(0, 2, size=(n, num_departments)).astype("float32")
    department = np.eye(num_departments, dtype="float32")[rng.integers(0, num_departments, n)]
    return [title, text_body, tags], [priority, department]


def test_ticket_classifier_trains_evaluates_and_predicts():
    model = ticket_classifier()
    model.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    x, y = ticket_data()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert model._trained_on == "plan"
    assert set(history.history) == {"loss", "priority_loss", "department_loss",
                                    "priority_mean_absolute_error", "department_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    results = model.evaluate(x, y, verbose=0)
    assert model.metrics_names == ["loss", "priority_mean_absolute_error",
                                   "department_accuracy", "priority_loss", "department_loss"]
    assert len(results) == 5
    assert results[0] == pytest.approx(results[3] + results[4], rel=1e-5)
    priority, department = model.predict(x, verbose=0)
    assert priority.shape == (128, 1) and department.shape == (128, 4)
    np.testing.assert_allclose(department.sum(axis=1), 1.0, rtol=1e-5)


def test_ticket_classifier_with_dicts():
    """The book's dict form: inputs and targets keyed by name."""
    model = ticket_classifier()
    model.compile(optimizer="rmsprop",
                  loss={"priority": "mean_squared_error", "department": "categorical_crossentropy"},
                  metrics={"priority": ["mean_absolute_error"], "department": ["accuracy"]})
    (title, text_body, tags), (priority, department) = ticket_data()
    history = model.fit({"title": title, "text_body": text_body, "tags": tags},
                        {"priority": priority, "department": department},
                        epochs=2, batch_size=16, verbose=0)
    assert "department_accuracy" in history.history
    logs = model.evaluate({"title": title, "text_body": text_body, "tags": tags},
                          {"priority": priority, "department": department}, verbose=0,
                          return_dict=True)
    assert set(logs) == set(history.history)


def test_list_and_dict_data_train_the_same_bits():
    results = []
    for as_dict in (False, True):
        pydl.utils.set_random_seed(3)
        model = ticket_classifier()
        model.compile(optimizer="adam", loss=["mse", "categorical_crossentropy"],
                      loss_weights=[1.0, 0.5])
        x, y = ticket_data(n=40)
        if as_dict:
            x = dict(zip(["title", "text_body", "tags"], x))
            y = dict(zip(["priority", "department"], y))
        pydl.utils.set_random_seed(4)
        history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        results.append((history.history, model.get_weights()))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


def test_dict_outputs_predict_a_dict_and_take_dict_targets():
    x = pydl.Input((5,), name="x")
    h = layers.Dense(8, activation="relu")(x)
    model = pydl.Model(x, {"b": layers.Dense(1, name="b_out")(h),
                           "a": layers.Dense(2, activation="softmax", name="a_out")(h)})
    model.compile(optimizer="adam", loss={"a": "sparse_categorical_crossentropy", "b": "mse"},
                  loss_weights={"a": 2.0, "b": 1.0})
    rng = np.random.default_rng(1)
    xs = rng.standard_normal((32, 5)).astype(np.float32)
    ys = {"a": rng.integers(0, 2, 32), "b": rng.standard_normal((32, 1)).astype(np.float32)}
    history = model.fit(xs, ys, epochs=2, batch_size=8, verbose=0)
    assert {"loss", "a_loss", "b_loss"} <= set(history.history)
    out = model.predict(xs, verbose=0)
    assert isinstance(out, dict) and out["a"].shape == (32, 2) and out["b"].shape == (32, 1)


def test_one_loss_for_every_output_and_per_output_sample_weights():
    model = ticket_classifier()
    model.compile(optimizer="sgd", loss="mse")  # one loss, applied to both outputs
    x, y = ticket_data(n=24)
    sw = np.linspace(0.5, 1.5, 24)
    history = model.fit(x, y, sample_weight=sw, batch_size=8, verbose=0)
    assert {"priority_loss", "department_loss"} <= set(history.history)
    model.fit(x, y, sample_weight={"priority": sw, "department": np.ones(24)}, batch_size=8,
              verbose=0)


def test_errors_name_the_input_output_or_key():
    model = ticket_classifier()
    with pytest.raises(ValueError, match="loss: the keys \\['prio'\\] name no output"):
        model.compile(optimizer="sgd", loss={"prio": "mse", "department": "mse"})
    with pytest.raises(ValueError, match="loss_weights: expected one entry per output"):
        model.compile(optimizer="sgd", loss="mse", loss_weights=[1.0])
    model.compile(optimizer="sgd", loss=["mse", "categorical_crossentropy"])
    x, y = ticket_data(n=8)
    with pytest.raises(ValueError, match="x: the model .* has 3 inputs"):
        model.fit(x[:2], y, verbose=0)
    with pytest.raises(ValueError, match="x: the keys \\['titel'\\] name no input"):
        model.fit({"titel": x[0], "text_body": x[1], "tags": x[2]}, y, verbose=0)
    with pytest.raises(ValueError, match="y: expected entries for the outputs"):
        model.fit(x, {"priority": y[0]}, verbose=0)
    with pytest.raises(ValueError, match="y: expected one entry per output"):
        model.fit(x, y[:1], verbose=0)
    with pytest.raises(ValueError, match="x and y must have the same number of samples.*"
                                         "y\\[1\\] with 5 samples"):
        model.fit(x, [y[0], y[1][:5]], verbose=0)
    with pytest.raises(ValueError, match="x\\['tags'\\]: the model .* expects inputs of shape"):
        model.fit([x[0], x[1], x[2][:, :5]], y, verbose=0)
    with pytest.raises(ValueError, match="class_weight: only supported for models with one"):
        model.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_an_output_without_a_loss_is_not_trained_for():
    model = ticket_classifier()
    model.compile(optimizer="sgd", loss=[None, "categorical_crossentropy"])
    x, y = ticket_data(n=16)
    before = model.get_layer("priority").get_weights()
    history = model.fit(x, [None, y[1]], batch_size=8, verbose=0)
    assert "department_loss" not in history.history  # one loss: no per-output trackers
    for a, b in zip(before, model.get_layer("priority").get_weights()):
        np.testing.assert_array_equal(a, b)  # no gradient reaches the priority head


def test_array_valued_metrics_in_fit_and_evaluate():
    """F1Score(average=None) gives one value per class: kept as an array in the logs."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 64)]
    model = pydl.Sequential([pydl.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=[pydl.metrics.F1Score(average=None), pydl.metrics.R2Score()])
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert np.shape(history.history["f1_score"][-1]) == (3,)
    assert np.shape(history.history["val_f1_score"][-1]) == (3,)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert np.shape(logs["f1_score"]) == (3,) and isinstance(logs["r2_score"], float)
