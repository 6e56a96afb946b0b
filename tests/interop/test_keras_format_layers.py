"""The normalization, embedding, pooling, preprocessing and noise layers in the Keras 3
format, both ways (inference outputs within 1e-6)."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers as L

from .keras_side import KERAS_NUMPY2_WARNING, keras, weights

pytest.importorskip("h5py")
# Keras deprecates rms_scaling (it scales by the variance); pydl matches what it computes.
pytestmark = [KERAS_NUMPY2_WARNING,
              pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")]
TOLERANCE = 1e-6


def keras_cases(k):
    """(name, model factory, input shape, "float" or "ids")."""
    return [
        ("batch_norm", lambda: k.Sequential([
            k.Input((5,)), k.layers.BatchNormalization(),
            k.layers.BatchNormalization(center=False, epsilon=0.01), k.layers.Dense(3)]),
         (5,), "float"),
        ("batch_norm_axis1", lambda: k.Sequential([
            k.Input((4, 5)), k.layers.BatchNormalization(axis=1, scale=False)]), (4, 5), "float"),
        ("layer_norm", lambda: k.Sequential([
            k.Input((4, 5)), k.layers.LayerNormalization(),
            k.layers.LayerNormalization(rms_scaling=True), k.layers.LayerNormalization(center=False)]),
         (4, 5), "float"),
        ("unit_norm", lambda: k.Sequential([k.Input((5,)), k.layers.UnitNormalization()]), (5,),
         "float"),
        ("embedding_avg", lambda: k.Sequential([
            k.Input((6,), dtype="int32"), k.layers.Embedding(20, 4),
            k.layers.GlobalAveragePooling1D(), k.layers.Dense(2)]), (6,), "ids"),
        ("embedding_mask_max", lambda: k.Sequential([
            k.Input((6,), dtype="int32"), k.layers.Embedding(20, 4, mask_zero=True),
            k.layers.GlobalAveragePooling1D()]), (6,), "ids"),
        ("embedding_max", lambda: k.Sequential([
            k.Input((6,), dtype="int32"), k.layers.Embedding(20, 4),
            k.layers.GlobalMaxPooling1D()]), (6,), "ids"),
        ("normalization", lambda: k.Sequential([
            k.Input((5,)), k.layers.Normalization(mean=[1.0, 2, 3, 4, 5], variance=[1.0, 2, 3, 4, 5]),
            k.layers.Normalization(mean=0.5, variance=4.0, invert=True)]), (5,), "float"),
        ("rescaling", lambda: k.Sequential([k.Input((5,)), k.layers.Rescaling(0.5, offset=1.0)]),
         (5,), "float"),
        ("category_multi_hot", lambda: k.Sequential([
            k.Input((4,), dtype="int32"), k.layers.CategoryEncoding(8, output_mode="multi_hot")]),
         (4,), "ids"),
        ("category_count", lambda: k.Sequential([
            k.Input((4,), dtype="int32"), k.layers.CategoryEncoding(8, output_mode="count")]),
         (4,), "ids"),
        ("category_one_hot", lambda: k.Sequential([
            k.Input((1,), dtype="int32"), k.layers.CategoryEncoding(8, output_mode="one_hot")]),
         (1,), "ids"),
        ("noise_and_identity", lambda: k.Sequential([
            k.Input((5,)), k.layers.GaussianNoise(0.1), k.layers.GaussianDropout(0.2),
            k.layers.AlphaDropout(0.1), k.layers.ActivityRegularization(0.1, 0.1),
            k.layers.Identity(), k.layers.Dense(2)]), (5,), "float"),
    ]


def randomize(model, rng):
    """Weights away from their initial values (BatchNormalization statistics included)."""
    for v in model.weights:
        shape = tuple(v.shape)
        if "variance" in v.path:
            v.assign(rng.uniform(0.5, 2.0, shape).astype(np.float32))
        elif str(v.dtype).startswith("float"):
            v.assign((rng.standard_normal(shape) * 0.5 + (1.0 if "gamma" in v.path else 0.0))
                     .astype(np.float32))


def data(shape, kind, rng, rows=11):
    if kind == "ids":
        return rng.integers(0, 8, (rows, *shape)).astype(np.int32)
    return rng.standard_normal((rows, *shape)).astype(np.float32)


def test_each_layer_both_ways(tmp_path):
    k = keras()
    rng = np.random.default_rng(0)
    for name, make, shape, kind in keras_cases(k):
        model = make()
        randomize(model, rng)
        x = data(shape, kind, rng)
        expected = np.asarray(model.predict(x, verbose=0))
        model.save(tmp_path / f"{name}.keras")
        mine = pydl.models.load_model(tmp_path / f"{name}.keras")
        assert [type(layer).__name__ for layer in mine.layers] == \
            [type(layer).__name__ for layer in model.layers], name
        np.testing.assert_allclose(mine.predict(x, verbose=0), expected, atol=TOLERANCE, rtol=0,
                                   err_msg=f"Keras -> pydl: {name}")
        mine.save(tmp_path / f"{name}_back.keras")
        back = k.models.load_model(tmp_path / f"{name}_back.keras")
        np.testing.assert_allclose(np.asarray(back.predict(x, verbose=0)), expected,
                                   atol=TOLERANCE, rtol=0, err_msg=f"pydl -> Keras: {name}")
        for a, b in zip(weights(back), weights(model)):
            np.testing.assert_array_equal(a, b)


def test_adapted_normalization_and_trained_batch_norm_from_pydl(tmp_path):
    k = keras()
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((64, 5)) * 3 + 1).astype(np.float32)
    pydl.utils.set_random_seed(1)
    norm = L.Normalization()
    norm.adapt(x)
    model = pydl.Sequential([pydl.Input(shape=(5,)), norm, L.Dense(8, activation="relu"),
                             L.BatchNormalization(), L.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, x[:, :1], epochs=3, batch_size=16, verbose=0)
    model.save(tmp_path / "trained.keras")
    loaded = k.models.load_model(tmp_path / "trained.keras")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)), model.predict(x, verbose=0),
                               atol=TOLERANCE, rtol=0)
    bn = model.layers[2]
    np.testing.assert_array_equal(np.asarray(loaded.layers[2].moving_mean.value),
                                  bn.moving_mean.value)


def test_embedding_model_from_pydl_takes_integer_ids_in_keras(tmp_path):
    k = keras()
    pydl.utils.set_random_seed(2)
    model = pydl.Sequential([pydl.Input(shape=(6,)), L.Embedding(30, 4, mask_zero=True),
                             L.GlobalAveragePooling1D(), L.Dense(2, activation="softmax")])
    model.save(tmp_path / "tokens.keras")
    loaded = k.models.load_model(tmp_path / "tokens.keras")
    assert loaded.inputs[0].dtype == "int32"
    ids = np.random.default_rng(3).integers(0, 30, (9, 6))
    ids[:, -2:] = 0  # padding, masked
    np.testing.assert_allclose(np.asarray(loaded.predict(ids.astype(np.int32), verbose=0)),
                               model.predict(ids.astype(np.float32), verbose=0), atol=TOLERANCE,
                               rtol=0)
