"""Small models and data shared by the robustness tests."""

from __future__ import annotations

import numpy as np

import pydl


def small_model(seed: int = 0, units: int = 16, inputs: int = 8, classes: int = 3):
    pydl.utils.set_random_seed(seed)
    model = pydl.Sequential([
        pydl.Input(shape=(inputs,)),
        pydl.layers.Dense(units, activation="relu"),
        pydl.layers.Dense(classes, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def small_data(n: int = 256, inputs: int = 8, classes: int = 3, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, inputs)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1).astype(np.int64)
    return x, y % classes
