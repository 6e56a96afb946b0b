"""_core.loss: values and gradients against a float64 NumPy mirror of Keras 3."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import num_threads
from pydl import _core

EPS = 1e-7
DENSE_KINDS = ("mse", "mae", "huber", "binary_crossentropy", "categorical_crossentropy")
CROSSENTROPY = ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy")
ALL_KINDS = DENSE_KINDS + ("sparse_categorical_crossentropy",)


# ---------------------------------------------------------------------------
# The reference: Keras 3's formulas, in float64.


def _log_softmax(x):
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def per_sample_reference(kind, y_true, y_pred, from_logits=False, delta=1.0):
    # The clip bounds are rounded to the predictions' dtype, as Keras rounds them.
    lo, hi = (float(np.asarray(b, y_pred.dtype)) for b in (EPS, 1 - EPS))
    x = np.asarray(y_pred, np.float64)
    if kind == "sparse_categorical_crossentropy":
        labels = np.asarray(y_true).reshape(x.shape[:-1])
        t = np.eye(x.shape[-1])[labels]
        kind = "categorical_crossentropy"
    else:
        t = np.asarray(y_true, np.float64)
    if x.ndim == 1:
        x, t = x[:, None], t[:, None]
    if kind == "mse":
        return np.mean((t - x) ** 2, axis=-1)
    if kind == "mae":
        return np.mean(np.abs(t - x), axis=-1)
    if kind == "huber":
        e = x - t
        a = np.abs(e)
        return np.mean(np.where(a <= delta, 0.5 * e * e, delta * a - 0.5 * delta * delta), axis=-1)
    if kind == "binary_crossentropy":
        if from_logits:
            return np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))), axis=-1)
        p = np.clip(x, lo, hi)
        return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)), axis=-1)
    if kind == "categorical_crossentropy":
        if from_logits:
            return -np.sum(t * _log_softmax(x), axis=-1)
        q = np.clip(x / x.sum(-1, keepdims=True), lo, hi)
        return -np.sum(t * np.log(q), axis=-1)
    raise AssertionError(kind)


def reference(kind, y_true, y_pred, sample_weight=None, from_logits=False, delta=1.0):
    """sum_over_batch_size: sum(w * l) / number of per-sample values."""
    per = per_sample_reference(kind, y_true, y_pred, from_logits, delta)
    if sample_weight is not None:
        w = np.asarray(sample_weight, np.float64).reshape((-1,) + (1,) * (per.ndim - 1))
        per = per * w
    return per.sum() / per.size


def finite_difference_grad(kind, y_true, y_pred, sample_weight, from_logits, delta=1.0, h=1e-6):
    x = np.array(y_pred, np.float64)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = reference(kind, y_true, x, sample_weight, from_logits, delta)
        x[i] = old - h
        down = reference(kind, y_true, x, sample_weight, from_logits, delta)
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def make_problem(rng, kind, shape, dtype, from_logits):
    """Targets and predictions away from kinks and clip bounds (so FD is exact)."""
    classes = shape[-1]
    if kind == "sparse_categorical_crossentropy":
        y_true = rng.integers(0, classes, size=shape[:-1]).astype(np.int64)
    elif kind in ("binary_crossentropy", "categorical_crossentropy"):
        y_true = rng.uniform(0, 1, size=shape)
        if kind == "categorical_crossentropy":
            y_true /= y_true.sum(-1, keepdims=True)
        y_true = y_true.astype(dtype)
    else:
        y_true = rng.normal(size=shape).astype(dtype)
    if from_logits:
        y_pred = rng.normal(scale=2.0, size=shape)
    elif kind in CROSSENTROPY:
        y_pred = rng.uniform(0.05, 0.95, size=shape)
    else:  # regression: keep |y_pred - y_true| away from 0 and from huber's delta
        gap = rng.uniform(0.2, 0.8, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        gap += np.where(rng.uniform(size=shape) < 0.5, 1.0 * np.sign(gap), 0.0)
        y_pred = np.asarray(y_true, np.float64) + gap
    return y_true, y_pred.astype(dtype)


def call_loss(kind, y_true, y_pred, sample_weight=None, from_logits=False, delta=1.0):
    grad = np.full_like(y_pred, np.nan)
    value = _core.loss(kind, y_true, y_pred, grad=grad, sample_weight=sample_weight,
                       from_logits=from_logits, delta=delta)
    return value, grad


CASES = [(k, False) for k in ALL_KINDS] + [(k, True) for k in CROSSENTROPY]


# ---------------------------------------------------------------------------
# Values and gradients.


@pytest.mark.parametrize("kind,from_logits", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("shape", [(5, 4), (3, 2, 4), (1, 1)])
def test_value_and_gradient_match_reference(rng, kind, from_logits, dtype, weighted, shape):
    if kind in ("categorical_crossentropy", "sparse_categorical_crossentropy") and shape[-1] == 1:
        shape = (1, 3)
    y_true, y_pred = make_problem(rng, kind, shape, dtype, from_logits)
    w = rng.uniform(0.1, 2.0, size=shape[0]).astype(dtype) if weighted else None
    value, grad = call_loss(kind, y_true, y_pred, w, from_logits, delta=1.0)
    expected = reference(kind, y_true, y_pred, w, from_logits)
    fd = finite_difference_grad(kind, y_true, y_pred, w, from_logits)
    rtol = 1e-12 if dtype == np.float64 else 2e-6
    assert value == pytest.approx(expected, rel=rtol, abs=1e-15)
    assert grad.dtype == dtype
    gtol = 1e-7 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(grad, fd, rtol=gtol, atol=gtol * np.abs(fd).max())


@pytest.mark.parametrize("kind,from_logits", CASES)
def test_float32_on_every_simd_path(isa, rng, kind, from_logits):
    # exp and log come from nn/vmath (one implementation per SIMD path); rows
    # longer than one 256-value chunk exercise the chunking.
    for shape in [(3, 2, 5), (4, 300)]:
        y_true, y_pred = make_problem(rng, kind, shape, np.float32, from_logits)
        w = rng.uniform(0.1, 2.0, size=shape[0]).astype(np.float32)
        value, grad = call_loss(kind, y_true, y_pred, w, from_logits)
        assert value == pytest.approx(reference(kind, y_true, y_pred, w, from_logits), rel=2e-6)
        y64 = y_true if kind.startswith("sparse") else y_true.astype(np.float64)
        _, grad64 = call_loss(kind, y64, y_pred.astype(np.float64), w.astype(np.float64), from_logits)
        np.testing.assert_allclose(grad, grad64, rtol=2e-5, atol=2e-5 * np.abs(grad64).max())


@pytest.mark.parametrize("kind,from_logits", CASES)
@pytest.mark.parametrize("shape", [(300, 50), (2, 5000)])
def test_many_blocks_and_long_rows_match_row_by_row(rng, kind, from_logits, shape):
    # (300, 50) spans several blocks of rows; rows of 5000 values exceed one
    # stack block. Each sample alone (weight w_i, batch of 1) gives w_i * l_i.
    y_true, y_pred = make_problem(rng, kind, shape, np.float64, from_logits)
    w = rng.uniform(0.1, 2.0, size=shape[0])
    value, grad = call_loss(kind, y_true, y_pred, w, from_logits)
    assert value == pytest.approx(reference(kind, y_true, y_pred, w, from_logits), rel=1e-12)
    for i in (0, shape[0] // 2, shape[0] - 1):
        one, g_one = call_loss(kind, y_true[i:i + 1], y_pred[i:i + 1], w[i:i + 1], from_logits)
        np.testing.assert_allclose(grad[i], g_one[0] / shape[0], rtol=1e-12, atol=1e-300)


def test_binary_crossentropy_logits_keeps_tiny_losses_accurate():
    # t = 1, x large: the loss is log1p(exp(-x)) ~ exp(-x), far below float32's
    # epsilon relative to 1; log(1 + e) alone would lose it.
    x = np.array([[8.0, 12.0, 16.0, 30.0]], np.float32)
    value = _core.loss("binary_crossentropy", np.ones_like(x), x, from_logits=True)
    expected = np.mean(np.log1p(np.exp(-x.astype(np.float64))))
    assert value == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("delta", [0.5, 2.0])
def test_huber_delta(rng, delta):
    y_true = rng.normal(size=(6, 5))
    y_pred = y_true + rng.uniform(-4, 4, size=(6, 5))
    value, grad = call_loss("huber", y_true, y_pred, delta=delta)
    assert value == pytest.approx(reference("huber", y_true, y_pred, delta=delta), rel=1e-12)
    fd = finite_difference_grad("huber", y_true, y_pred, None, False, delta=delta)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("kind", ["binary_crossentropy", "categorical_crossentropy"])
def test_fused_logits_gradient_is_p_minus_y(rng, kind):
    x = rng.normal(size=(8, 6))
    y = np.eye(6)[rng.integers(0, 6, size=8)]
    w = rng.uniform(0.5, 1.5, size=8)
    _, grad = call_loss(kind, y, x, w, from_logits=True)
    if kind == "categorical_crossentropy":
        p = np.exp(_log_softmax(x))
        expected = (p - y) * w[:, None] / 8
    else:
        p = 1 / (1 + np.exp(-x))
        expected = (p - y) * w[:, None] / (8 * 6)
    np.testing.assert_allclose(grad, expected, rtol=1e-12, atol=1e-17)


def test_1d_predictions_are_rows_of_one(rng):
    y_true = rng.normal(size=7)
    y_pred = rng.normal(size=7)
    w = rng.uniform(size=7)
    value, grad = call_loss("mse", y_true, y_pred, w)
    assert value == pytest.approx(np.sum(w * (y_pred - y_true) ** 2) / 7, rel=1e-12)
    np.testing.assert_allclose(grad, 2 * w * (y_pred - y_true) / 7, rtol=1e-12)


@pytest.mark.parametrize("label_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_matches_categorical_on_one_hot(rng, label_dtype, from_logits):
    labels = rng.integers(0, 5, size=9).astype(label_dtype)
    y_pred = rng.uniform(0.1, 1.0, size=(9, 5))
    w = rng.uniform(size=9)
    sparse = call_loss("sparse_categorical_crossentropy", labels, y_pred, w, from_logits)
    dense = call_loss("categorical_crossentropy", np.eye(5)[labels], y_pred, w, from_logits)
    assert sparse[0] == pytest.approx(dense[0], rel=1e-12)
    np.testing.assert_allclose(sparse[1], dense[1], rtol=1e-12, atol=1e-17)
    # (B, 1) labels are accepted as Keras squeezes them.
    column = call_loss("sparse_categorical_crossentropy", labels[:, None], y_pred, w, from_logits)
    assert column[0] == sparse[0]


def test_categorical_probabilities_are_normalized_per_row(rng):
    y_true = np.eye(4)[[0, 3, 2]]
    p = rng.uniform(0.1, 1.0, size=(3, 4))
    scaled = p * np.array([[2.0], [0.5], [7.0]])
    a, ga = call_loss("categorical_crossentropy", y_true, p)
    b, _ = call_loss("categorical_crossentropy", y_true, scaled)
    assert a == pytest.approx(b, rel=1e-12)
    # The gradient is orthogonal to the row (scaling a row does not change the loss).
    np.testing.assert_allclose((ga * p).sum(-1), 0.0, atol=1e-12)


def test_gradient_may_overwrite_predictions(rng):
    for kind, from_logits in CASES:
        y_true, y_pred = make_problem(rng, kind, (4, 3), np.float64, from_logits)
        value, grad = call_loss(kind, y_true, y_pred, None, from_logits)
        inplace = y_pred.copy()
        value2 = _core.loss(kind, y_true, inplace, grad=inplace, from_logits=from_logits)
        assert value2 == value
        np.testing.assert_array_equal(inplace, grad)


# ---------------------------------------------------------------------------
# Edges: extreme logits, exact 0/1 probabilities, NaN, empty batch.


@pytest.mark.parametrize("kind", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_extreme_and_equal_logits_are_finite(kind, dtype):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 3.0], [5.0, 5.0, 5.0], [1e4, 1e4, 1e4]], dtype)
    labels = np.array([0, 0, 1, 2])
    if kind == "sparse_categorical_crossentropy":
        y_true = labels
    else:
        y_true = np.eye(3, dtype=dtype)[labels]
    value, grad = call_loss(kind, y_true, x, from_logits=True)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(reference(kind, y_true, x, from_logits=True), rel=1e-6)
    if kind != "binary_crossentropy":
        np.testing.assert_allclose(grad.sum(-1), 0.0, atol=1e-6)  # softmax - one_hot sums to 0


@pytest.mark.parametrize("kind", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_exactly_zero_and_one_are_clipped(kind, dtype):
    p = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype)
    labels = np.array([0, 2, 2])
    y_true = labels if kind.startswith("sparse") else np.eye(3, dtype=dtype)[labels]
    value, grad = call_loss(kind, y_true, p)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert value == pytest.approx(reference(kind, y_true, p), rel=1e-6)
    if kind != "binary_crossentropy":  # row 1 gives its class probability 0: -log(1e-7)
        assert value == pytest.approx(-np.log(EPS) / 3, rel=1e-6)


@pytest.mark.parametrize("kind,from_logits", CASES)
def test_nan_propagates(kind, from_logits):
    y_true, y_pred = make_problem(np.random.default_rng(0), kind, (3, 4), np.float64, from_logits)
    y_pred[1, 2] = np.nan
    value, grad = call_loss(kind, y_true, y_pred, None, from_logits)
    assert np.isnan(value)
    assert np.isnan(grad[1]).any()
    assert np.all(np.isfinite(grad[[0, 2]]))


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_empty_batch_is_zero(kind):
    y_pred = np.zeros((0, 3))
    y_true = np.zeros((0,), np.int64) if kind.startswith("sparse") else np.zeros((0, 3))
    assert _core.loss(kind, y_true, y_pred, grad=np.zeros((0, 3))) == 0.0


def test_same_bits_at_one_and_two_threads(rng):
    for kind, from_logits in CASES:
        y_true, y_pred = make_problem(rng, kind, (3000, 40), np.float32, from_logits)
        w = rng.uniform(size=3000).astype(np.float32)
        results = []
        for n in (1, 2):
            with num_threads(n):
                results.append(call_loss(kind, y_true, y_pred, w, from_logits))
        assert results[0][0] == results[1][0], kind
        np.testing.assert_array_equal(results[0][1], results[1][1])


# ---------------------------------------------------------------------------
# Bad inputs name the argument.


def test_unknown_kind_lists_the_valid_ones():
    with pytest.raises(ValueError, match="kind.*mse, mae, huber.*received 'msq'"):
        _core.loss("msq", np.zeros((2, 2)), np.zeros((2, 2)))


def test_sparse_label_out_of_range():
    y_pred = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match=r"y_true.*\[0, 4\).*received 4"):
        _core.loss("sparse_categorical_crossentropy", np.array([0, 4, 1]), y_pred)
    with pytest.raises(ValueError, match=r"y_true.*received -1"):
        _core.loss("sparse_categorical_crossentropy", np.array([0, 1, -1], np.int32), y_pred)


@pytest.mark.parametrize("call,error,pattern", [
    (lambda: _core.loss("mse", np.zeros((2, 3)), np.zeros((2, 3), np.float32)), TypeError, "y_true.*float32"),
    (lambda: _core.loss("mse", np.zeros((2, 3), np.int64), np.zeros((2, 3), np.int64)), TypeError, "y_pred"),
    (lambda: _core.loss("mse", np.zeros((2, 3)), np.zeros((2, 4))), ValueError, r"y_true.*\(2, 4\)"),
    (lambda: _core.loss("mse", np.zeros((3, 2)), np.zeros((2, 3)).T), ValueError, "y_pred.*contiguous"),
    (lambda: _core.loss("mse", [[0.0]], np.zeros((1, 1))), TypeError, "y_true.*ndarray"),
    (lambda: _core.loss("mse", np.zeros((2, 3)), np.zeros((2, 3)), grad=np.zeros((2, 3), np.float32)),
     TypeError, "grad"),
    (lambda: _core.loss("mse", np.zeros((2, 3)), np.zeros((2, 3)), grad=np.zeros((3, 2))), ValueError, "grad"),
    (lambda: _core.loss("mse", np.zeros((2, 3)), np.zeros((2, 3)),
                        grad=np.broadcast_to(np.zeros(3), (2, 3))), ValueError, "grad"),
    (lambda: _core.loss("mse", np.zeros((2, 3)), np.zeros((2, 3)), sample_weight=np.ones(3)),
     ValueError, r"sample_weight.*\(2,\)"),
    (lambda: _core.loss("mse", np.zeros((2, 3)), np.zeros((2, 3)), sample_weight=np.ones(2, np.float32)),
     TypeError, "sample_weight"),
    (lambda: _core.loss("sparse_categorical_crossentropy", np.zeros(2), np.zeros((2, 3))), TypeError,
     "y_true.*int32 or int64"),
    (lambda: _core.loss("sparse_categorical_crossentropy", np.zeros(3, np.int64), np.zeros((2, 3))),
     ValueError, "y_true.*shape"),
    (lambda: _core.loss("sparse_categorical_crossentropy", np.zeros(3, np.int64), np.zeros(3)),
     ValueError, "y_pred"),
    (lambda: _core.loss("mse", np.zeros((2, 0)), np.zeros((2, 0))), ValueError, "y_pred"),
    (lambda: _core.loss("huber", np.zeros((2, 3)), np.zeros((2, 3)), delta=0.0), ValueError, "delta"),
])
def test_bad_inputs(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_grad_must_be_writeable_and_separate():
    y = np.zeros((2, 3))
    g = np.zeros((2, 3))
    g.flags.writeable = False
    with pytest.raises(ValueError, match="grad.*writeable"):
        _core.loss("mse", y, np.zeros((2, 3)), grad=g)
    with pytest.raises(ValueError, match="grad and y_true"):
        _core.loss("mse", y, np.zeros((2, 3)), grad=y)
