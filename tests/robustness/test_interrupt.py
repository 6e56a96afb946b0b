"""Ctrl-C (KeyboardInterrupt) during fit leaves a consistent, savable model."""

from __future__ import annotations

import numpy as np
import pytest

import pydl

from helpers import small_data, small_model


class InterruptAfter(pydl.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.batches:
            raise KeyboardInterrupt


def test_keyboard_interrupt_leaves_model_consistent(tmp_path):
    x, y = small_data(256)
    model = small_model()
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=[InterruptAfter(5)])
    weights = model.get_weights()
    assert all(np.isfinite(w).all() for w in weights)
    # The optimizer counted exactly the completed steps.
    assert int(model.optimizer.iterations) == 5
    path = tmp_path / "interrupted.pydl"
    model.save(path)
    restored = pydl.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    # Training can go on after the interrupt.
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
