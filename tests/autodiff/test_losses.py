"""Loss ops: values against float64 NumPy references, gradients, fusion with softmax/sigmoid."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops
from pydl.testing import gradcheck



EPS = 1e-7
R = np.random.default_rng(11)


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _reference(kind, t, p, w=None, from_logits=False, delta=1.0):
    """Keras 3 formulas in float64: per-sample losses, then sum(w * l) / B."""
    if kind == "mse":
        per = np.mean((t - p) ** 2, -1)
    elif kind == "mae":
        per = np.mean(np.abs(t - p), -1)
    elif kind == "huber":
        err = np.abs(p - t)
        quad = np.minimum(err, delta)
        per = np.mean(0.5 * quad ** 2 + delta * (err - quad), -1)
    elif kind == "binary_crossentropy":
        if from_logits:
            per = np.mean(np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p))), -1)
        else:
            q = np.clip(p, EPS, 1 - EPS)
            per = -np.mean(t * np.log(q) + (1 - t) * np.log(1 - q), -1)
    else:
        if kind == "sparse_categorical_crossentropy":
            t = np.eye(p.shape[-1])[t]
        if from_logits:
            z = p - p.max(-1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        else:
            logp = np.log(np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS))
        per = -np.sum(t * logp, -1)
    w = np.ones(per.shape[0]) if w is None else w
    return float(np.sum(w.reshape((-1,) + (1,) * (per.ndim - 1)) * per) / per.shape[0])


def _case(kind, from_logits):
    batch, classes = 6, 4
    if kind in ("mse", "mae", "huber"):
        return R.normal(size=(batch, classes)), R.normal(size=(batch, classes))
    if kind == "binary_crossentropy":
        t = (R.uniform(size=(batch, classes)) > 0.5).astype(np.float64)
        p = R.normal(size=(batch, classes))
        return t, p if from_logits else 1 / (1 + np.exp(-p))
    logits = R.normal(size=(batch, classes))
    p = logits if from_logits else _softmax(logits)
    labels = R.integers(0, classes, size=batch)
    if kind == "sparse_categorical_crossentropy":
        return labels, p
    return np.eye(classes)[labels], p


FUNCTIONS = {"mse": ops.mean_squared_error, "mae": ops.mean_absolute_error, "huber": ops.huber,
             "binary_crossentropy": ops.binary_crossentropy,
             "categorical_crossentropy": ops.categorical_crossentropy,
             "sparse_categorical_crossentropy": ops.sparse_categorical_crossentropy}
CASES = [(k, False) for k in FUNCTIONS] + [(k, True) for k in FUNCTIONS if "entropy" in k]


@pytest.mark.parametrize("kind,from_logits", CASES, ids=[f"{k}-{f}" for k, f in CASES])
@pytest.mark.parametrize("weighted", [False, True])
def test_values_and_gradients(kind, from_logits, weighted):
    t, p = _case(kind, from_logits)
    w = R.uniform(0.5, 2.0, size=p.shape[0]) if weighted else None
    kwargs = {"sample_weight": w}
    if from_logits:
        kwargs["from_logits"] = True
    value = FUNCTIONS[kind](t, p, **kwargs)
    assert value.shape == () and value.dtype == np.float64
    assert float(value) == pytest.approx(_reference(kind, t, p, w, from_logits), rel=1e-9)
    assert gradcheck(lambda p: FUNCTIONS[kind](t, p, **kwargs), [p], atol=1e-6)


def test_float32_and_label_shapes():
    labels = np.array([[0], [2], [1]])  # (B, 1) sparse labels are accepted
    p = _softmax(R.normal(size=(3, 3))).astype(np.float32)
    value = ops.sparse_categorical_crossentropy(labels, p)
    assert value.dtype == np.float32
    assert float(value) == pytest.approx(
        _reference("sparse_categorical_crossentropy", labels[:, 0], p.astype(np.float64)),
        rel=1e-5)
    # y_true (B,) against y_pred (B, 1) is expanded, as Keras does.
    assert float(ops.mean_squared_error(np.ones(4), np.zeros((4, 1)))) == pytest.approx(1.0)


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"y_true has shape \(3, 2\).*\(3, 4\)"):
        ops.mean_squared_error(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"sample_weight.*\(3,\).*\(2,\)"):
        ops.mean_squared_error(np.zeros((3, 2)), np.zeros((3, 2)), sample_weight=np.ones(2))
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy: y_true"):
        ops.sparse_categorical_crossentropy(np.zeros((3, 2)), np.zeros((3, 4)))


def test_softmax_then_crossentropy_uses_the_logits():
    logits = pydl.Variable(R.normal(size=(5, 4)) * 30, dtype="float64")  # saturated softmax
    labels = R.integers(0, 4, size=5)
    with pydl.GradientTape() as tape:
        loss = ops.sparse_categorical_crossentropy(labels, ops.softmax(logits))
    grad = tape.gradient(loss, logits)
    expected = (_softmax(logits.numpy()) - np.eye(4)[labels]) / 5
    np.testing.assert_allclose(grad, expected, atol=1e-12)
    # The value is the stable log-sum-exp one, not the clipped-probability one.
    assert float(loss) == pytest.approx(
        _reference("sparse_categorical_crossentropy", labels, logits.numpy(), from_logits=True),
        rel=1e-9)


def test_sigmoid_then_binary_crossentropy_uses_the_logits():
    z = pydl.Variable(R.normal(size=(4, 3)), dtype="float64")
    t = (R.uniform(size=(4, 3)) > 0.5).astype(np.float64)
    with pydl.GradientTape() as tape:
        loss = ops.binary_crossentropy(t, ops.sigmoid(z))
    expected = (1 / (1 + np.exp(-z.numpy())) - t) / t.size
    np.testing.assert_allclose(tape.gradient(loss, z), expected, atol=1e-12)


def test_dense_softmax_then_crossentropy_fuses_into_the_dense_op():
    x = R.normal(size=(8, 5))
    w = pydl.Variable(R.normal(size=(5, 3)), dtype="float64")
    b = pydl.Variable(R.normal(size=(3,)), dtype="float64")
    y = np.eye(3)[R.integers(0, 3, size=8)]
    with pydl.GradientTape() as tape:
        loss = ops.categorical_crossentropy(y, ops.dense(x, w, b, activation="softmax"))
    dw, db = tape.gradient(loss, [w, b])
    dz = (_softmax(x @ w.numpy() + b.numpy()) - y) / 8
    np.testing.assert_allclose(dw, x.T @ dz, atol=1e-12)
    np.testing.assert_allclose(db, dz.sum(0), atol=1e-12)
    assert gradcheck(lambda x, w, b: ops.categorical_crossentropy(
        y, ops.dense(x, w, b, activation="softmax")), [x, w, b])
