"""Loss classes against the pydl.ops loss functions they wrap, and `get`."""

import json

import numpy as np
import pytest

import pydl
from pydl import losses, ops


def data(rng, kind, dtype=np.float64, batch=6, classes=4):
    if kind in ("mse", "mae", "huber"):
        return rng.standard_normal((batch, classes)).astype(dtype), rng.standard_normal((batch, classes)).astype(dtype)
    if kind == "binary":
        return (rng.random((batch, 1)) < 0.5).astype(dtype), rng.uniform(0.05, 0.95, (batch, 1)).astype(dtype)
    logits = rng.standard_normal((batch, classes))
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, classes, batch)
    if kind == "sparse":
        return labels, p.astype(dtype)
    return np.eye(classes, dtype=dtype)[labels], p.astype(dtype)


CASES = [
    (losses.MeanSquaredError(), ops.mean_squared_error, {}, "mse"),
    (losses.MeanAbsoluteError(), ops.mean_absolute_error, {}, "mae"),
    (losses.Huber(delta=0.7), ops.huber, {"delta": 0.7}, "huber"),
    (losses.BinaryCrossentropy(), ops.binary_crossentropy, {}, "binary"),
    (losses.CategoricalCrossentropy(), ops.categorical_crossentropy, {}, "categorical"),
    (losses.SparseCategoricalCrossentropy(), ops.sparse_categorical_crossentropy, {}, "sparse"),
]


@pytest.mark.parametrize("loss, fn, kwargs, kind", CASES, ids=[c[3] for c in CASES])
def test_class_equals_the_ops_function_value_and_gradient(loss, fn, kwargs, kind, rng):
    y_true, y_pred = data(rng, kind)
    weight = rng.random(len(y_pred))
    for sw in (None, weight):
        expected = np.asarray(fn(y_true, y_pred, sample_weight=sw, **kwargs))
        assert np.asarray(loss(y_true, y_pred, sample_weight=sw)) == expected
        v1, v2 = pydl.Variable(y_pred.copy()), pydl.Variable(y_pred.copy())
        with pydl.GradientTape(persistent=True) as tape:
            a = loss(y_true, v1, sample_weight=sw)
            b = fn(y_true, v2, sample_weight=sw, **kwargs)
        np.testing.assert_array_equal(tape.gradient(a, [v1])[0], tape.gradient(b, [v2])[0])


def test_from_logits_and_hand_computed_values(rng):
    logits = rng.standard_normal((5, 3))
    labels = rng.integers(0, 3, 5)
    log_p = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    expected = -np.mean(log_p[np.arange(5), labels])
    assert float(losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)) == pytest.approx(expected, rel=1e-12)
    assert float(losses.CategoricalCrossentropy(from_logits=True)(np.eye(3)[labels], logits)) == pytest.approx(
        expected, rel=1e-12)
    y, z = np.array([[1.0], [0.0]]), np.array([[0.3], [-1.2]])
    expected = np.mean(np.log1p(np.exp(-z)) * y + np.log1p(np.exp(z)) * (1 - y))
    assert float(losses.BinaryCrossentropy(from_logits=True)(y, z)) == pytest.approx(expected, rel=1e-12)
    assert float(losses.MeanSquaredError()([[1.0, 2.0]], [[2.0, 4.0]])) == pytest.approx(2.5)
    assert float(losses.Huber(delta=1.0)([[0.0, 0.0]], [[0.5, 3.0]])) == pytest.approx((0.125 + 2.5) / 2)


def test_label_smoothing_moves_targets(rng):
    y_true, y_pred = data(rng, "categorical")
    smoothed = y_true * 0.8 + 0.2 / 4
    assert float(losses.CategoricalCrossentropy(label_smoothing=0.2)(y_true, y_pred)) == pytest.approx(
        float(ops.categorical_crossentropy(smoothed, y_pred)), rel=1e-15)
    y_true, y_pred = data(rng, "binary")
    assert float(losses.BinaryCrossentropy(label_smoothing=0.1)(y_true, y_pred)) == pytest.approx(
        float(ops.binary_crossentropy(y_true * 0.9 + 0.05, y_pred)), rel=1e-15)
    with pytest.raises(ValueError, match="label_smoothing"):
        losses.BinaryCrossentropy(label_smoothing=2.0)


def test_custom_loss_subclass_reduces_per_sample_values(rng):
    class Cubic(losses.Loss):
        def call(self, y_true, y_pred):
            return ops.mean(ops.abs(ops.subtract(y_pred, y_true)) ** 3, axis=-1)

    y_true, y_pred = rng.standard_normal((4, 2)), rng.standard_normal((4, 2))
    w = np.array([1.0, 0.0, 2.0, 0.5])
    per_sample = np.mean(np.abs(y_pred - y_true) ** 3, axis=-1)
    cubic = Cubic()
    assert cubic.name == "cubic"
    assert float(cubic(y_true, y_pred)) == pytest.approx(per_sample.mean())
    assert float(cubic(y_true, y_pred, sample_weight=w)) == pytest.approx(np.sum(per_sample * w) / 4)


def test_get_and_config():
    for name, cls in [("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError),
                      ("mae", losses.MeanAbsoluteError), ("huber", losses.Huber),
                      ("binary_crossentropy", losses.BinaryCrossentropy),
                      ("categorical_crossentropy", losses.CategoricalCrossentropy),
                      ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
                      ("Huber", losses.Huber)]:
        assert type(losses.get(name)) is cls
    assert losses.get("mse").kind == "mse" and losses.get("huber").name == "huber_loss"
    loss = losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1)
    assert losses.get(loss) is loss
    restored = losses.get(json.loads(json.dumps(losses.serialize(loss))))
    assert restored.get_config() == loss.get_config()
    assert losses.get(ops.mean_squared_error) is ops.mean_squared_error
    assert losses.mean_squared_error is ops.mean_squared_error
    with pytest.raises(ValueError, match=r"Unknown loss: 'msee'.*'binary_crossentropy'"):
        losses.get("msee")
    with pytest.raises(ValueError, match="reduction"):
        losses.MeanSquaredError(reduction="sum")
    with pytest.raises(ValueError, match="delta"):
        losses.Huber(delta=0)
