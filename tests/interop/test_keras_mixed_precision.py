"""mixed_bfloat16 in the Keras 3 format both ways: a model Keras built and saved under
the global mixed_bfloat16 policy loads in pydl with every layer's policy (and its float32
weights, optimizer state included), and pydl's files load in Keras with them (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers

from .keras_side import KERAS_NUMPY2_WARNING, keras, value, weights

pytest.importorskip("h5py")
pytestmark = KERAS_NUMPY2_WARNING


def test_keras_mixed_bfloat16_file_loads_with_its_policies(mixed_precision, tmp_path):
    k = keras()
    k.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        model = k.Sequential([k.Input(shape=(6,)), k.layers.Dense(8, activation="relu"),
                              k.layers.Dense(3, activation="softmax", dtype="float32")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.optimizer.build(model.trainable_variables)  # Keras' numpy backend has no fit
        rng = np.random.default_rng(0)
        for v in model.optimizer.variables:
            if v.path.split("/")[-1] not in ("iteration", "learning_rate"):
                v.assign(rng.random(v.shape).astype(np.float32))
        model.save(tmp_path / "keras_mixed.keras")
    finally:
        k.mixed_precision.set_global_policy("float32")
    loaded = pydl.models.load_model(tmp_path / "keras_mixed.keras")
    assert [layer.dtype_policy.name for layer in loaded.layers] == ["mixed_bfloat16", "float32"]
    assert [layer.compute_dtype for layer in loaded.layers] == ["bfloat16", "float32"]
    for mine, theirs in zip(loaded.get_weights(), weights(model)):
        assert mine.dtype == np.float32
        np.testing.assert_array_equal(mine, theirs)
    keras_slots = {v.path.split("/")[-1]: value(v) for v in model.optimizer.variables}
    compared = 0
    for layer, keras_layer in zip(loaded.layers, model.layers):
        for weight, keras_weight in zip(layer.weights, keras_layer.weights):
            for name, slot in loaded.optimizer.slots(weight).items():
                assert slot.dtype == np.float32  # float32 master slots
                np.testing.assert_array_equal(
                    slot, keras_slots[f"{keras_weight.path.replace('/', '_')}_{name}"])
                compared += 1
    assert compared == 8  # m and v of four weights


def test_pydl_mixed_file_loads_in_keras_with_its_policies(mixed_precision, tmp_path):
    k = keras()
    model = pydl.Sequential([pydl.Input(shape=(5,)),
                             layers.Dense(7, activation="tanh", dtype="mixed_bfloat16"),
                             layers.Dense(2, dtype="float32")])
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "pydl_mixed.keras")
    theirs = k.models.load_model(tmp_path / "pydl_mixed.keras")
    assert [layer.dtype_policy.name for layer in theirs.layers] == ["mixed_bfloat16", "float32"]
    for mine, other in zip(model.get_weights(), weights(theirs)):
        np.testing.assert_array_equal(mine, other)
