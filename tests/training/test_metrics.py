"""Metrics against hand-computed values and direct NumPy computations (and scikit-learn if present)."""

import numpy as np
import pytest

from pydl import metrics


def test_mean_weighted_accumulation_across_batches():
    m = metrics.Mean()
    assert m.result() == 0.0
    m.update_state([1.0, 2.0, 3.0], sample_weight=[1.0, 0.0, 2.0])
    assert m.result() == pytest.approx(7 / 3)
    m.update_state([5.0], sample_weight=[1.0])
    assert m.result() == pytest.approx(3.0)
    m.update_state([[1.0, 3.0]])  # a (1, 2) batch: one sample whose value is the mean, 2
    assert m.result() == pytest.approx(14 / 5)
    m.reset_state()
    assert m.result() == 0.0 and m.name == "mean"


def test_mean_of_elementwise_values_with_per_sample_weights():
    m = metrics.Mean()
    m.update_state([[1.0, 3.0], [10.0, 20.0]], sample_weight=[3.0, 1.0])
    assert m.result() == pytest.approx((3 * 2 + 1 * 15) / 4)
    m.reset_state()
    m.update_state([[1.0, 3.0], [10.0, 20.0]], sample_weight=[[1.0, 0.0], [1.0, 1.0]])
    assert m.result() == pytest.approx((0.5 + 15) / (0.5 + 1))


def test_binary_accuracy_hand_computed():
    m = metrics.BinaryAccuracy()
    y_true = np.array([[1], [0], [1], [0]], np.float32)
    y_pred = np.array([[0.6], [0.4], [0.3], [0.5]], np.float32)  # 0.5 is not > 0.5: predicted 0
    assert m(y_true, y_pred) == pytest.approx(0.75)
    m.reset_state()
    m.update_state(y_true, y_pred, sample_weight=[1, 2, 3, 4])
    assert m.result() == pytest.approx((1 + 2 + 4) / 10)
    m.update_state(np.array([1.0, 1.0]), np.array([0.9, 0.1]), sample_weight=[5, 5])  # (B,) shapes
    assert m.result() == pytest.approx((7 + 5) / 20)
    assert metrics.BinaryAccuracy(threshold=0.2)([[1], [0]], [[0.3], [0.1]]) == 1.0


def test_categorical_and_sparse_accuracy():
    y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.4, 0.5, 0.1]])
    labels = np.array([1, 0, 0, 0])
    onehot = np.eye(3)[labels]
    cat = metrics.CategoricalAccuracy()
    cat.update_state(onehot[:2], y_pred[:2])
    cat.update_state(onehot[2:], y_pred[2:], sample_weight=[1.0, 2.0])
    assert cat.result() == pytest.approx(2 / 5)
    for y_true in (labels, labels[:, None], labels.astype(np.float32)):
        sparse = metrics.SparseCategoricalAccuracy()
        assert sparse(y_true, y_pred) == pytest.approx(0.5)
    sparse = metrics.SparseCategoricalAccuracy()
    sparse.update_state(labels, y_pred, sample_weight=[0.0, 1.0, 1.0, 0.0])
    assert sparse.result() == pytest.approx(0.5)


def test_mse_and_mae_are_means_per_sample_then_weighted():
    y_true = np.array([[0.0, 1.0], [2.0, 2.0]])
    y_pred = np.array([[1.0, 1.0], [0.0, 4.0]])
    mse, mae = metrics.MeanSquaredError(), metrics.MeanAbsoluteError()
    mse.update_state(y_true, y_pred, sample_weight=[1.0, 3.0])
    mae.update_state(y_true, y_pred, sample_weight=[1.0, 3.0])
    assert mse.result() == pytest.approx((0.5 + 3 * 4.0) / 4)
    assert mae.result() == pytest.approx((0.5 + 3 * 2.0) / 4)
    mse.update_state([[1.0]], [[3.0]])
    assert mse.result() == pytest.approx((0.5 + 12 + 4) / 5)


def confusion_reference(y_true, y_pred, weight, thresholds):
    pos = y_true != 0
    out = {k: [] for k in ("tp", "fp", "tn", "fn")}
    for t in thresholds:
        pred = y_pred > t
        out["tp"].append(np.sum(weight * (pos & pred)))
        out["fp"].append(np.sum(weight * (~pos & pred)))
        out["tn"].append(np.sum(weight * (~pos & ~pred)))
        out["fn"].append(np.sum(weight * (pos & ~pred)))
    return {k: np.array(v) for k, v in out.items()}


def random_binary_batches(rng, n_batches=3, batch=40, classes=1):
    for _ in range(n_batches):
        y_true = (rng.random((batch, classes)) < 0.4).astype(np.float32)
        y_pred = np.clip(0.6 * y_true + 0.6 * rng.random((batch, classes)) - 0.1, 0, 1).astype(np.float32)
        weight = rng.random(batch)
        yield y_true, y_pred, weight


@pytest.mark.parametrize("classes", [1, 3])
def test_precision_recall_against_direct_computation(rng, classes):
    thresholds = [0.7, 0.2, 0.5, 0.0, 1.0]
    precision = metrics.Precision(thresholds=thresholds)
    recall = metrics.Recall(thresholds=thresholds)
    default_p, default_r = metrics.Precision(), metrics.Recall()
    all_true, all_pred, all_weight = [], [], []
    for y_true, y_pred, weight in random_binary_batches(rng, classes=classes):
        for m in (precision, recall, default_p, default_r):
            m.update_state(y_true, y_pred, sample_weight=weight)
        all_true.append(y_true)
        all_pred.append(y_pred)
        all_weight.append(np.broadcast_to(weight[:, None], y_true.shape))
    y_true, y_pred, weight = (np.concatenate(a).ravel() for a in (all_true, all_pred, all_weight))
    ref = confusion_reference(y_true, y_pred, weight, thresholds)
    expected_p = np.where(ref["tp"] + ref["fp"] > 0, ref["tp"] / np.maximum(ref["tp"] + ref["fp"], 1e-300), 0.0)
    np.testing.assert_allclose(precision.result(), expected_p, rtol=1e-12)
    np.testing.assert_allclose(recall.result(), ref["tp"] / (ref["tp"] + ref["fn"]), rtol=1e-12)
    assert precision.result()[4] == 0.0  # nothing is > 1.0
    assert default_p.result() == pytest.approx(expected_p[2], rel=1e-12)
    assert default_r.result() == pytest.approx(ref["tp"][2] / (ref["tp"][2] + ref["fn"][2]), rel=1e-12)


def test_precision_recall_against_sklearn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    y_true, y_pred, weight = next(random_binary_batches(rng, batch=300))
    hard = (y_pred[:, 0] > 0.5).astype(int)
    p = metrics.Precision()(y_true, y_pred, sample_weight=weight)
    r = metrics.Recall()(y_true, y_pred, sample_weight=weight)
    assert p == pytest.approx(sk.precision_score(y_true[:, 0], hard, sample_weight=weight), rel=1e-9)
    assert r == pytest.approx(sk.recall_score(y_true[:, 0], hard, sample_weight=weight), rel=1e-9)


def test_precision_class_id_and_hand_values():
    y_true = np.array([[1, 0], [0, 1], [1, 1]])
    y_pred = np.array([[0.9, 0.9], [0.8, 0.2], [0.1, 0.7]])
    # class 0: predictions > .5 at rows 0, 1; positives at rows 0, 2 -> precision 1/2, recall 1/2
    assert metrics.Precision(class_id=0)(y_true, y_pred) == pytest.approx(0.5)
    # class 1: predicted rows 0, 2; positives rows 1, 2 -> precision 1/2, recall 1/2
    assert metrics.Recall(class_id=1)(y_true, y_pred) == pytest.approx(0.5)
    # all elements: predicted 4, of which true 2 -> precision 2/4; positives 4 -> recall 2/4
    assert metrics.Precision()(y_true, y_pred) == pytest.approx(0.5)
    assert metrics.Precision()([[0]], [[0.2]]) == 0.0  # nothing predicted positive: 0, not NaN


def auc_reference(y_true, y_pred, weight, num_thresholds, curve):
    """Keras 3's AUC written as a loop (interpolation summation)."""
    eps = 1e-7
    thresholds = [-eps] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1 + eps]
    c = confusion_reference(y_true, y_pred, weight, thresholds)
    tp, fp, tn, fn = c["tp"], c["fp"], c["tn"], c["fn"]

    def div(a, b):
        return a / b if b != 0 else 0.0

    total = 0.0
    for i in range(num_thresholds - 1):
        if curve == "ROC":
            x0, x1 = div(fp[i], fp[i] + tn[i]), div(fp[i + 1], fp[i + 1] + tn[i + 1])
            y0, y1 = div(tp[i], tp[i] + fn[i]), div(tp[i + 1], tp[i + 1] + fn[i + 1])
            total += (x0 - x1) * (y0 + y1) / 2
        else:  # Davis & Goadrich interpolation, as Keras' interpolate_pr_auc
            dtp = tp[i] - tp[i + 1]
            p0, p1 = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
            slope = div(dtp, max(p0 - p1, 0))
            intercept = tp[i + 1] - slope * p1
            ratio = div(p0, max(p1, 0)) if p0 > 0 and p1 > 0 else 1.0
            total += div(slope * (dtp + intercept * np.log(ratio)), max(tp[i + 1] + fn[i + 1], 0))
    return total


@pytest.mark.parametrize("curve", ["ROC", "PR"])
def test_auc_against_keras_formula_over_batches(rng, curve):
    auc = metrics.AUC(num_thresholds=50, curve=curve)
    batches = list(random_binary_batches(rng))
    for y_true, y_pred, weight in batches:
        auc.update_state(y_true, y_pred, sample_weight=weight)
    y_true, y_pred, weight = (np.concatenate([b[k].ravel() for b in batches]) for k in range(3))
    assert auc.result() == pytest.approx(auc_reference(y_true, y_pred, weight, 50, curve), rel=1e-10)


def test_auc_close_to_sklearn(rng):
    sk = pytest.importorskip("sklearn.metrics")
    y_true = (rng.random(2000) < 0.3).astype(np.float64)
    y_pred = 1 / (1 + np.exp(-(2 * y_true - 1 + rng.standard_normal(2000))))
    roc = metrics.AUC(num_thresholds=1000)(y_true, y_pred)
    assert roc == pytest.approx(sk.roc_auc_score(y_true, y_pred), abs=2e-3)
    pr = metrics.AUC(num_thresholds=1000, curve="PR")(y_true, y_pred)
    assert pr == pytest.approx(sk.average_precision_score(y_true, y_pred), abs=2e-2)
    logits = np.log(y_pred / (1 - y_pred))
    assert metrics.AUC(num_thresholds=1000, from_logits=True)(y_true, logits) == pytest.approx(roc, abs=1e-9)


def test_auc_perfect_and_inverted():
    y_true = np.array([0, 0, 1, 1])
    assert metrics.AUC()(y_true, np.array([0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert metrics.AUC()(y_true, np.array([0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)


@pytest.mark.parametrize(
    "loss, output_shape, target_shape, expected",
    [
        ("binary_crossentropy", (None, 4), (None, 4), metrics.BinaryAccuracy),
        ("sparse_categorical_crossentropy", (None, 10), None, metrics.SparseCategoricalAccuracy),
        ("categorical_crossentropy", (None, 10), (None, 10), metrics.CategoricalAccuracy),
        ("mse", (None, 1), None, metrics.BinaryAccuracy),
        (None, (None, 10), (None,), metrics.SparseCategoricalAccuracy),
        (None, (None, 10), (None, 1), metrics.SparseCategoricalAccuracy),
        (None, (None, 10), (None, 10), metrics.CategoricalAccuracy),
    ],
)
def test_accuracy_resolution(loss, output_shape, target_shape, expected):
    for name in ("accuracy", "acc"):
        m = metrics.get(name, loss=loss, output_shape=output_shape, target_shape=target_shape)
        assert type(m) is expected and m.name == name


def test_accuracy_resolution_from_loss_objects_and_functions():
    class SparseCategoricalCrossentropy:  # stands in for pydl.losses.SparseCategoricalCrossentropy
        def __call__(self, y_true, y_pred):
            return 0.0

    def binary_crossentropy(y_true, y_pred):
        return 0.0

    assert type(metrics.get("accuracy", loss=SparseCategoricalCrossentropy())) is metrics.SparseCategoricalAccuracy
    assert type(metrics.get("accuracy", loss=binary_crossentropy)) is metrics.BinaryAccuracy


def test_get_names_classes_functions_and_errors():
    assert metrics.get("mse").name == "mse" and type(metrics.get("mse")) is metrics.MeanSquaredError
    assert metrics.get("mean_absolute_error").name == "mean_absolute_error"
    assert type(metrics.get("AUC")) is metrics.AUC and metrics.get("AUC").name == "auc"
    assert type(metrics.get(metrics.Precision)) is metrics.Precision
    m = metrics.Recall()
    assert metrics.get(m) is m
    restored = metrics.get(metrics.serialize(metrics.AUC(num_thresholds=7, curve="PR")))
    assert (restored.num_thresholds, restored.curve) == (7, "PR")

    def my_metric(y_true, y_pred):
        return np.abs(y_true - y_pred)

    wrapped = metrics.get(my_metric)
    assert wrapped.name == "my_metric" and wrapped([1.0, 2.0], [1.0, 4.0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="Unknown metric: 'accuracyy'"):
        metrics.get("accuracyy")
    with pytest.raises(ValueError, match="thresholds"):
        metrics.Precision(thresholds=1.5)
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XYZ")
    with pytest.raises(ValueError, match="sample_weight"):
        metrics.Mean().update_state([1.0, 2.0], sample_weight=[1.0, 2.0, 3.0])


def test_directions_for_callbacks():
    assert metrics.MeanSquaredError()._direction == "down"
    assert metrics.AUC()._direction == "up" and metrics.BinaryAccuracy()._direction == "up"
    assert metrics.Precision()._direction == "up" and metrics.SparseCategoricalAccuracy()._direction == "up"
    assert metrics.get(lambda y_true, y_pred: y_pred)._direction is None  # unknown: callbacks must be told
