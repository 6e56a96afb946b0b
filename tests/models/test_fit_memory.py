"""fit allocates nothing the size of the data per call, and reuses its plan and buffers:
the memory contract is no growth from epoch to epoch, and a data-sized temporary freed
at every fit call is what made RSS grow from the first call to the next (glibc keeps
such a block resident once its mmap threshold has risen to that size).

tracemalloc sees NumPy's array allocations, so the checks are exact and deterministic."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.models import data


def _peak_allocated(fn) -> int:
    """Bytes allocated at the peak of fn(), over what was allocated when it started."""
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("shape", [(7,), (100, 40), (3, data._FINITE_CHUNK),
                                   (2 * data._FINITE_CHUNK + 5,)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_all_finite_finds_every_nan_and_inf(shape, dtype, rng):
    x = rng.standard_normal(shape).astype(dtype)
    assert data.all_finite(x)
    flat_size = x.size
    for bad in (np.nan, np.inf, -np.inf):
        for where in sorted({0, flat_size // 2, data._FINITE_CHUNK - 1, data._FINITE_CHUNK,
                             flat_size - 1} & set(range(flat_size))):
            y = x.copy()
            y.reshape(-1)[where] = bad
            assert not data.all_finite(y), (bad, where)
    # Finite values whose squares overflow: the exact pass must still say finite.
    assert data.all_finite(np.full(shape, np.finfo(dtype).max, dtype))
    huge = x.copy()
    huge.reshape(-1)[-1] = np.finfo(dtype).max
    assert data.all_finite(huge)
    huge.reshape(-1)[0] = np.nan
    assert not data.all_finite(huge)


def test_all_finite_of_a_strided_view(rng):
    x = rng.standard_normal((600, 80)).astype(np.float32)
    x[5, 1] = np.nan
    assert data.all_finite(x[:, ::2]) and not data.all_finite(x[:, 1::2])


def test_the_finiteness_check_allocates_no_data_sized_temporary(rng):
    x = rng.standard_normal((4096, 256)).astype(np.float32)  # 4 MiB
    data.require_finite("x", x)  # the first call may make its scratch
    assert _peak_allocated(lambda: data.require_finite("x", x)) < x.nbytes // 64
    x[-1, -1] = np.inf
    with pytest.raises(ValueError, match=r"x: expected finite values, received inf at "
                                         r"index \(4095, 255\)"):
        data.require_finite("x", x)


def _plan_model():
    pydl.utils.set_random_seed(1)
    model = pydl.Sequential([pydl.Input(shape=(256,)), layers.Dense(16, activation="relu"),
                             layers.Dense(10, activation="softmax")])
    model.compile(optimizer=pydl.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_calls_after_the_first_allocate_nothing_data_sized(rng):
    x = rng.standard_normal((2048, 256)).astype(np.float32)  # 2 MiB
    y = rng.integers(0, 10, 2048).astype(np.int32)
    model = _plan_model()
    model.fit(x, y, batch_size=128, verbose=0)
    peak = _peak_allocated(lambda: model.fit(x, y, batch_size=128, epochs=2, verbose=0))
    # Per call: a permutation and int64 labels (16 KiB each), metric temporaries; a
    # temporary the size of x (or of a bool per value of x: 512 KiB) would show.
    assert peak < x.nbytes // 16


def test_fit_reuses_its_plan_and_buffers_across_calls_and_epochs(rng):
    x = rng.standard_normal((1000, 256)).astype(np.float32)
    y = rng.integers(0, 10, 1000)
    model = _plan_model()
    seen = []

    class Buffers(pydl.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            plan = self.model._plan_cache.fused
            seen.append((plan, plan._lr, plan._losses, *plan._predictions))

    for _ in range(3):
        model.fit(x, y, batch_size=100, epochs=2, verbose=0, callbacks=[Buffers()])
    assert len(seen) == 6
    assert all(all(a is b for a, b in zip(s, seen[0])) for s in seen)
