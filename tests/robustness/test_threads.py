"""Several Python threads using pydl at once give the results of sequential runs."""

from __future__ import annotations

import threading

import numpy as np

from helpers import small_data, small_model


def run_in_threads(fns):
    results = [None] * len(fns)
    errors = []

    def target(i, fn):
        try:
            results[i] = fn()
        except BaseException as e:  # report in the main thread
            errors.append(e)

    threads = [threading.Thread(target=target, args=(i, fn)) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert all(not t.is_alive() for t in threads), "a thread hung"
    return results


def test_concurrent_predict_on_one_model_matches_sequential():
    model = small_model()
    x, _ = small_data(512)
    chunks = [x[i::4] for i in range(4)]
    expected = [model.predict(c, verbose=0) for c in chunks]
    got = run_in_threads([lambda c=c: model.predict(c, verbose=0) for c in chunks] * 2)
    for i, out in enumerate(got):
        np.testing.assert_array_equal(out, expected[i % 4])


def test_concurrent_fit_on_different_models_matches_sequential():
    x, y = small_data(256)

    def train(seed):
        model = small_model(seed=seed)
        return model

    # Build models sequentially (seeding is global), then train them in parallel.
    sequential = []
    for seed in (3, 4, 5):
        m = train(seed)
        m.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
        sequential.append(m.get_weights())
    parallel_models = [train(seed) for seed in (3, 4, 5)]
    run_in_threads([lambda m=m: m.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
                    for m in parallel_models])
    for m, expected in zip(parallel_models, sequential):
        for a, b in zip(m.get_weights(), expected):
            np.testing.assert_array_equal(a, b)
