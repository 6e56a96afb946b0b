"""The second-milestone metrics against scikit-learn over several batches with sample weights,
and Keras 3's custom-metric API (DLwP ch. 7's RootMeanSquaredError in a compiled fit)."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import metrics, ops

skm = pytest.importorskip("sklearn.metrics")


def batches(rng, n=4, size=25, classes=4, kind="onehot"):
    """[(y_true, y_pred, sample_weight)] of `n` batches."""
    out = []
    for _ in range(n):
        y_pred = rng.uniform(size=(size, classes))
        if kind == "onehot":
            y_true = np.eye(classes)[rng.integers(0, classes, size=size)]
        elif kind == "multilabel":
            y_true = (rng.uniform(size=(size, classes)) < 0.4).astype(np.float64)
        elif kind == "sparse":
            y_true = rng.integers(0, classes, size=size)
        else:
            y_true = rng.normal(2, 1, size=(size, classes))
            y_pred = y_true + rng.normal(0, 0.5, size=(size, classes))
        out.append((y_true, y_pred, rng.uniform(0.1, 2, size=size)))
    return out


def feed(metric, data):
    for y_true, y_pred, w in data:
        metric.update_state(y_true, y_pred, sample_weight=w)
    return metric.result()


def stacked(data):
    return [np.concatenate(parts) for parts in zip(*data)]


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("threshold", [None, 0.5])
@pytest.mark.parametrize("beta", [1.0, 0.5, 2.0])
def test_fbeta_score_against_sklearn(rng, average, threshold, beta):
    data = batches(rng, kind="onehot" if threshold is None else "multilabel")
    y_true, y_pred, w = stacked(data)
    metric = metrics.FBetaScore(average=average, beta=beta, threshold=threshold)
    got = feed(metric, data)
    if threshold is None:  # the row's top class
        predicted = (y_pred == y_pred.max(-1, keepdims=True)).astype(int)
    else:
        predicted = (y_pred > threshold).astype(int)
    want = skm.fbeta_score(y_true.astype(int), predicted, beta=beta, average=average,
                           sample_weight=w, zero_division=0)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_f1_score_is_fbeta_one_and_resets(rng):
    data = batches(rng, kind="multilabel")
    f1, fb = metrics.F1Score(average="macro", threshold=0.5), metrics.FBetaScore(
        average="macro", beta=1.0, threshold=0.5)
    assert feed(f1, data) == feed(fb, data)
    assert f1.name == "f1_score" and "beta" not in f1.get_config()
    f1.reset_state()
    assert all(not v.numpy().any() for v in f1.variables)


@pytest.mark.parametrize("aggregation,multioutput", [
    ("uniform_average", "uniform_average"), ("variance_weighted_average", "variance_weighted"),
    (None, "raw_values")])
def test_r2_score_against_sklearn(rng, aggregation, multioutput):
    data = batches(rng, kind="regression")
    y_true, y_pred, w = stacked(data)
    got = feed(metrics.R2Score(class_aggregation=aggregation), data)
    want = skm.r2_score(y_true, y_pred, sample_weight=w, multioutput=multioutput)
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_adjusted_r2_score(rng):
    data = batches(rng, kind="regression", classes=1)
    y_true, y_pred, w = stacked(data)
    r2 = skm.r2_score(y_true, y_pred, sample_weight=w)
    n, p = y_true.size, 3
    got = feed(metrics.R2Score(num_regressors=p), data)
    assert got == pytest.approx(1 - (1 - r2) * (n - 1) / (n - p - 1), rel=1e-10)
    with pytest.warns(UserWarning, match="More independent predictors"):
        feed(metrics.R2Score(num_regressors=500), data)


def test_root_mean_squared_error_against_sklearn(rng):
    data = batches(rng, kind="regression")
    y_true, y_pred, w = stacked(data)
    got = feed(metrics.RootMeanSquaredError(), data)
    assert got == pytest.approx(np.sqrt(skm.mean_squared_error(y_true, y_pred, sample_weight=w)),
                                rel=1e-12)


def test_mean_absolute_percentage_error_against_sklearn(rng):
    data = batches(rng, kind="regression")
    y_true, y_pred, w = stacked(data)
    got = feed(metrics.MeanAbsolutePercentageError(), data)
    want = 100 * skm.mean_absolute_percentage_error(y_true, y_pred, sample_weight=w)
    assert got == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_top_k_accuracies_against_sklearn(rng, k):
    sparse = batches(rng, kind="sparse", classes=6)
    y_true, y_pred, w = stacked(sparse)
    want = skm.top_k_accuracy_score(y_true, y_pred, k=k, sample_weight=w, labels=range(6))
    assert feed(metrics.SparseTopKCategoricalAccuracy(k=k), sparse) == pytest.approx(want)
    onehot = [(np.eye(6)[t], p, sw) for t, p, sw in sparse]
    assert feed(metrics.TopKCategoricalAccuracy(k=k), onehot) == pytest.approx(want)


def test_top_k_ties_count_as_in_and_sorted_ids():
    # Two classes tie for second place: both count for k=2, as Keras' in_top_k.
    y_pred = np.array([[0.5, 0.2, 0.2, 0.1]])
    assert metrics.sparse_top_k_categorical_accuracy(np.array([2]), y_pred, k=2)[0] == 1.0
    assert metrics.sparse_top_k_categorical_accuracy(np.array([3]), y_pred, k=2)[0] == 0.0
    ids = np.array([[2, 0, 1], [1, 2, 0]])
    got = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    got.update_state(np.array([0, 0]), ids)
    assert got.result() == 0.5


def test_metric_strings_and_errors():
    for string, cls in [("f1_score", metrics.F1Score), ("r2_score", metrics.R2Score),
                        ("root_mean_squared_error", metrics.RootMeanSquaredError),
                        ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
                        ("sparse_top_k_categorical_accuracy",
                         metrics.SparseTopKCategoricalAccuracy),
                        ("mape", metrics.MeanAbsolutePercentageError),
                        ("mean_absolute_percentage_error", metrics.MeanAbsolutePercentageError)]:
        assert isinstance(metrics.get(string), cls)
    with pytest.raises(ValueError, match="average='mean'"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="threshold=1.5"):
        metrics.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match="beta=0"):
        metrics.FBetaScore(beta=0)
    with pytest.raises(ValueError, match="class_aggregation='sum'"):
        metrics.R2Score(class_aggregation="sum")
    with pytest.raises(ValueError, match="num_regressors=-1"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="k=0"):
        metrics.TopKCategoricalAccuracy(k=0)
    with pytest.raises(ValueError, match="expected 2D inputs"):
        metrics.F1Score().update_state(np.zeros(3), np.zeros(3))


# ---------------------------------------------------------------- the custom-metric API
def test_add_variable_assign_and_reset_state():
    class Counter(metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.total = self.add_variable((2,), "ones", name="total")
            self.seen = self.add_weight(name="seen", initializer="zeros", dtype="int64")
            self.inner = metrics.Mean()

        def update_state(self, values):
            self.total.assign_add(values)
            self.seen.assign_add(1)
            self.inner.update_state(values)

        def result(self):
            return self.total.numpy().sum() / self.seen.numpy()

    m = Counter(name="counter")
    m.update_state(np.array([1.0, 2.0]))
    m.update_state(np.array([3.0, 4.0]))
    assert m.result() == pytest.approx(12 / 2)
    assert m.total.dtype == np.float32 and m.seen.dtype == np.int64
    assert [v.name for v in m.variables] == ["total", "seen", "total", "count"]
    assert not any(v.trainable for v in m.variables)
    m.total.assign([5.0, 5.0])
    m.total.assign_sub([1.0, 2.0])
    np.testing.assert_array_equal(m.total.numpy(), [4.0, 3.0])
    m.reset_state()
    assert all(not v.numpy().any() for v in m.variables)
    assert m.inner.result() == 0.0


def test_builtin_metric_state_lives_in_variables(rng):
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0, 6.0])
    assert [v.name for v in mean.variables] == ["total", "count"]
    assert mean.total.numpy() == 9.0 and mean.count.numpy() == 3.0
    auc = metrics.AUC(num_thresholds=5)
    auc.update_state([0, 1, 1], [0.2, 0.7, 0.4])
    assert len(auc.variables) == 4
    auc.reset_state()
    assert auc.result() == 0.0


BOOK_METRIC = '''
class RootMeanSquaredError(keras.metrics.Metric):
    def __init__(self, name="rmse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.mse_sum = self.add_weight(name="mse_sum", initializer="zeros")
        self.total_samples = self.add_weight(
            name="total_samples", initializer="zeros"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.one_hot(y_true, num_classes=ops.shape(y_pred)[1])
        mse = ops.sum(ops.square(y_true - y_pred))
        self.mse_sum.assign_add(mse)
        num_samples = ops.shape(y_pred)[0]
        self.total_samples.assign_add(num_samples)

    def result(self):
        return ops.sqrt(self.mse_sum / self.total_samples)

    def reset_state(self):
        self.mse_sum.assign(0.)
        self.total_samples.assign(0.)
'''


def _has_op(name: str) -> bool:
    # (pydl.ops.shape is also the name of a submodule, which is not the op.)
    return callable(getattr(ops, name, None))


class _OpsWithShapeAndOneHot:
    """pydl.ops plus `shape` and `one_hot` where pydl.ops does not have them yet (they belong
    to another area's work; the book's metric needs nothing else from outside this area)."""

    def __getattr__(self, name):
        if _has_op(name):
            return getattr(ops, name)
        if name == "shape":
            return lambda x: tuple(np.shape(x))
        if name == "one_hot":
            return lambda x, num_classes: ops.convert_to_tensor(
                np.eye(num_classes, dtype=np.float32)[np.asarray(x, np.int64)])
        raise AttributeError(name)


def _book_metric_class(ops_module):
    namespace = {"keras": pydl, "ops": ops_module}
    exec(BOOK_METRIC, namespace)  # the book's code, unchanged
    return namespace["RootMeanSquaredError"]


def _fit_with(metric_class, rng):
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input((8,)), pydl.layers.Dense(16, activation="relu"),
                             pydl.layers.Dense(4, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", metric_class()])
    x, y = rng.normal(size=(96, 8)).astype(np.float32), rng.integers(0, 4, size=96)
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0,
                        validation_data=(x[:32], y[:32]))
    probabilities = model.predict(x[:32], verbose=0)
    want = np.sqrt(((np.eye(4)[y[:32]] - probabilities) ** 2).sum() / 32)
    return history, model, want


def test_dlwp_custom_rmse_metric_runs_in_fit(rng):
    metric_class = _book_metric_class(_OpsWithShapeAndOneHot())
    history, model, want = _fit_with(metric_class, rng)
    assert len(history.history["rmse"]) == 2 and len(history.history["val_rmse"]) == 2
    assert history.history["val_rmse"][-1] == pytest.approx(want, rel=1e-5)
    results = model.evaluate(np.zeros((1, 8), np.float32), np.zeros(1, np.int64),
                             return_dict=True, verbose=0)
    assert set(results) == {"loss", "accuracy", "rmse"}


@pytest.mark.skipif(not (_has_op("one_hot") and _has_op("shape")),
                    reason="pydl.ops.one_hot / ops.shape are added by the 'workflow' work")
def test_dlwp_custom_rmse_metric_with_pydl_ops_alone(rng):
    history, _, want = _fit_with(_book_metric_class(ops), rng)
    assert history.history["val_rmse"][-1] == pytest.approx(want, rel=1e-5)
