"""Training while other processes take the cores (issue 17): a short fit next to
competing busy processes completes and gives the bits of a quiet run, at the
thread count the machine has and at more threads than cores. Speed is measured by
`python -m benchmarks --only contention`, never here."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import pydl

from conftest import num_threads


def train(threads: int):
    """A fit whose products are large enough to be split among threads (the plan path)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((768, 48)).astype(np.float32)
    y = rng.integers(0, 5, 768).astype(np.int64)
    pydl.utils.set_random_seed(11)
    model = pydl.Sequential([pydl.Input(shape=(48,)),
                             pydl.layers.Dense(256, activation="relu"),
                             pydl.layers.Dense(5, activation="softmax")])
    model.compile(optimizer=pydl.optimizers.SGD(learning_rate=0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    with num_threads(threads):
        history = model.fit(x, y, batch_size=96, epochs=2, verbose=0)
    return model.get_weights(), history.history["loss"]


def test_fit_next_to_busy_processes_gives_the_quiet_bits():
    quiet_weights, quiet_loss = train(2)
    busy = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        for threads in (2, 5):
            weights, loss = train(threads)
            assert loss == quiet_loss
            for got, want in zip(weights, quiet_weights):
                np.testing.assert_array_equal(got, want)
    finally:
        for proc in busy:
            proc.kill()
        for proc in busy:
            proc.wait()
