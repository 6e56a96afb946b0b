"""fit / evaluate / predict on generators, iterators, PyDatasets and pandas data."""

from __future__ import annotations

import math
import threading
import warnings

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.models import plan as _plan


def _model(seed=1, out=3):
    pydl.utils.set_random_seed(seed)
    model = pydl.Sequential([pydl.Input((5,)), layers.Dense(8, activation="relu"),
                             layers.Dense(out, activation="softmax")])
    model.compile(optimizer=pydl.optimizers.SGD(0.1, momentum=0.5),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 5)).astype(np.float32), rng.integers(0, 3, n)


def _batches(x, y, size=8, sample_weight=None):
    for start in range(0, len(x), size):
        rows = slice(start, start + size)
        if sample_weight is None:
            yield x[rows], y[rows]
        else:
            yield x[rows], y[rows], sample_weight[rows]


class Batches(pydl.utils.PyDataset):
    def __init__(self, x, y, size=8, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.size = x, y, size
        self.epochs_ended = 0
        self.threads = set()

    def __len__(self):
        return math.ceil(len(self.x) / self.size)

    def __getitem__(self, index):
        self.threads.add(threading.get_ident())
        rows = slice(index * self.size, (index + 1) * self.size)
        return self.x[rows], self.y[rows]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_a_generator_trains_as_the_same_unshuffled_arrays_on_the_plan():
    x, y = _data()
    arrays = _model()
    h_arrays = arrays.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    streamed = _model()
    h_stream = streamed.fit(_batches(x, y), epochs=1, verbose=0)
    assert streamed._trained_on == "plan", _plan.plan_reason(streamed)
    assert h_arrays.history == h_stream.history
    for a, b in zip(arrays.get_weights(), streamed.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_generator_batches_of_changing_sizes_and_sample_weights():
    x, y = _data(50)
    sw = np.linspace(0.1, 2.0, 50).astype(np.float32)

    def varying():
        for start, stop in ((0, 3), (3, 20), (20, 21), (21, 50)):
            yield x[start:stop], y[start:stop], sw[start:stop]

    plan_model, tape_model = _model(), _model()
    h1 = plan_model.fit(varying(), epochs=1, verbose=0)
    with _plan.disabled():
        h2 = tape_model.fit(varying(), epochs=1, verbose=0)
    assert h1.history == h2.history
    for a, b in zip(plan_model.get_weights(), tape_model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_an_infinite_generator_with_steps_per_epoch():
    x, y = _data()

    def forever():
        while True:
            yield from _batches(x, y)

    model = _model()
    history = model.fit(forever(), steps_per_epoch=7, epochs=3, verbose=0)
    assert len(history.history["loss"]) == 3


def test_a_generator_that_ends_early_names_the_batch():
    x, y = _data()
    model = _model()
    with pytest.raises(ValueError, match="ran out at batch 5 of epoch 1; expected 7 batches"):
        model.fit(_batches(x, y), steps_per_epoch=7, epochs=1, verbose=0)


def test_a_finite_generator_stops_training_after_it_ends_as_keras():
    x, y = _data()
    model = _model()
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(_batches(x, y), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 2  # the second epoch found no batch


def test_a_bad_batch_mid_epoch_names_the_batch():
    x, y = _data()

    def broken():
        yield x[:8], y[:8]
        yield x[8:16, :4], y[8:16]

    model = _model()
    with pytest.raises(ValueError, match=r"batch 1 of epoch 1: x: the model .* expects inputs"):
        model.fit(broken(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`y` and `sample_weight` are not supported"):
        model.fit(_batches(x, y), y, verbose=0)


def test_pydataset_with_thread_workers_and_epoch_end():
    x, y = _data(64)
    dataset = Batches(x, y, workers=3, max_queue_size=4)
    model = _model()
    history = model.fit(dataset, epochs=3, verbose=0)
    assert dataset.epochs_ended == 3
    assert len(history.history["loss"]) == 3
    assert len(dataset.threads) >= 1 and threading.get_ident() not in dataset.threads


def test_pydataset_shuffled_order_is_reproducible():
    x, y = _data(64)
    runs = []
    for _ in range(2):
        model = _model()
        pydl.utils.set_random_seed(5)
        model.fit(Batches(x, y), epochs=2, verbose=0, shuffle=True)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    unshuffled = _model()
    unshuffled.fit(Batches(x, y), epochs=2, verbose=0, shuffle=False)
    assert any(not np.array_equal(a, b) for a, b in zip(runs[0], unshuffled.get_weights()))


def test_validation_evaluate_and_predict_from_generators():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0,
                        validation_data=Batches(x, y, size=16), validation_steps=2)
    assert "val_loss" in history.history
    by_arrays = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    by_stream = model.evaluate(_batches(x, y), verbose=0, return_dict=True)
    assert by_arrays == pytest.approx(by_stream)
    predicted = model.predict(_batches(x, y), verbose=0)
    np.testing.assert_array_equal(predicted, model.predict(x, batch_size=8, verbose=0))
    np.testing.assert_array_equal(model.predict((b for b, _ in _batches(x, y)), verbose=0),
                                  predicted)
    assert model.predict(Batches(x, y), steps=2, verbose=0).shape == (16, 3)


def test_pandas_dataframes_and_series():
    pd = pytest.importorskip("pandas")
    x, y = _data()
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(5)])
    labels = pd.Series(y)
    from_pandas, from_numpy = _model(), _model()
    h1 = from_pandas.fit(frame, labels, batch_size=8, epochs=1, verbose=0, shuffle=False)
    h2 = from_numpy.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    assert h1.history == h2.history
    np.testing.assert_array_equal(from_pandas.predict(frame, verbose=0),
                                  from_numpy.predict(x, verbose=0))


def test_pydataset_arguments():
    with pytest.raises(ValueError, match="workers"):
        Batches(*_data(), workers=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(UserWarning, match="threads"):
            Batches(*_data(), use_multiprocessing=True)
