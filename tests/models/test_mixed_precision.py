"""Dtype policies with Keras 3's names and semantics (pydl.mixed_precision, pydl.config,
pydl.dtype_policies, a layer's dtype=), what stays float32 under mixed_bfloat16, saving
and loading the policy, and the one-time warning where bfloat16 kernels do not run
(issue 16)."""

from __future__ import annotations

import json
import warnings
import zipfile

import numpy as np
import pytest

import pydl
from pydl import _core, dtype_policies, layers

from conftest import forced_isa


def small_model(policy=None, seed=3):
    pydl.utils.set_random_seed(seed)
    kwargs = {} if policy is None else {"dtype": policy}
    return pydl.Sequential([pydl.Input(shape=(6,)), layers.Dense(8, activation="relu", **kwargs),
                            layers.Dense(3, activation="softmax", **kwargs)])


def test_keras_names_exist():
    mp = pydl.mixed_precision
    assert mp.set_global_policy is mp.set_dtype_policy is pydl.config.set_dtype_policy
    assert mp.global_policy is mp.dtype_policy is pydl.config.dtype_policy
    assert mp.DTypePolicy is mp.Policy is pydl.DTypePolicy is pydl.dtype_policies.DTypePolicy
    assert pydl.dtype_policies.FloatDTypePolicy is pydl.DTypePolicy
    assert pydl.config.floatx() == pydl.backend.floatx()


@pytest.mark.parametrize("name,compute,variable", [
    ("float32", "float32", "float32"), ("float64", "float64", "float64"),
    ("mixed_bfloat16", "bfloat16", "float32")])
def test_policy_dtypes_config_and_equality(name, compute, variable):
    policy = pydl.DTypePolicy(name)
    assert (policy.name, policy.compute_dtype, policy.variable_dtype) == (name, compute, variable)
    assert policy.quantization_mode is None
    assert repr(policy) == f'<DTypePolicy "{name}">'
    assert policy.get_config() == {"name": name}
    assert pydl.DTypePolicy.from_config(policy.get_config()) == policy
    assert pydl.dtype_policies.get(name) == policy != pydl.DTypePolicy("float64" if name !=
                                                                       "float64" else "float32")
    serialized = pydl.dtype_policies.serialize(policy)
    assert serialized == {"module": "keras", "class_name": "DTypePolicy",
                          "config": {"name": name}, "registered_name": None}
    assert pydl.dtype_policies.deserialize(serialized) == policy
    assert pydl.dtype_policies.get(serialized) == policy


def test_policy_lookup_from_numpy_dtypes_and_none():
    assert pydl.dtype_policies.get(np.float64).name == "float64"
    assert pydl.dtype_policies.get(np.dtype("float32")).name == "float32"
    assert pydl.dtype_policies.get(None) == pydl.mixed_precision.global_policy()
    policy = pydl.DTypePolicy("mixed_bfloat16")
    assert pydl.dtype_policies.get(policy) is policy


def test_policies_pydl_lacks_are_refused_by_name():
    for name, what in (("mixed_float16", "float16 arithmetic"), ("bfloat16", "bfloat16 variables"),
                       ("int8", "mixed_bfloat16")):
        with pytest.raises(ValueError, match=what):
            pydl.DTypePolicy(name)
    with pytest.raises(TypeError, match="name"):
        pydl.DTypePolicy(32)
    with pytest.raises(ValueError, match="policy"):
        pydl.mixed_precision.set_global_policy(32)
    with pytest.raises(ValueError, match="DTypePolicy"):
        pydl.dtype_policies.deserialize({"class_name": "QuantizedDTypePolicy",
                                         "config": {"mode": "int8"}})
    with pytest.raises(ValueError, match="dtype"):
        layers.Dense(2, dtype="mixed_float16")
    with pytest.raises(ValueError, match="dtype"):
        layers.Dense(2, dtype=object())


def test_global_policy_follows_floatx_until_set(mixed_precision):
    assert pydl.mixed_precision.global_policy().name == "float32"
    pydl.backend.set_floatx("float64")
    try:
        assert pydl.mixed_precision.global_policy().name == "float64"
        assert layers.Dense(2).dtype == "float64"
    finally:
        pydl.backend.set_floatx("float32")
    pydl.mixed_precision.set_global_policy("mixed_bfloat16")
    assert pydl.config.dtype_policy() == pydl.DTypePolicy("mixed_bfloat16")
    assert layers.Dense(2).dtype_policy.name == "mixed_bfloat16"
    assert layers.Dense(2, dtype="float32").dtype_policy.name == "float32"  # explicit wins
    pydl.config.set_dtype_policy(pydl.DTypePolicy("float32"))
    assert layers.Dense(2).compute_dtype == "float32"
    pydl.mixed_precision.set_global_policy("mixed_bfloat16")
    pydl.backend.clear_session()  # Keras resets the global policy with its global state
    assert pydl.mixed_precision.global_policy().name == "float32"


def test_layer_dtypes_under_mixed_bfloat16(mixed_precision):
    layer = layers.Dense(4, dtype="mixed_bfloat16")
    assert layer.dtype_policy == pydl.DTypePolicy("mixed_bfloat16")
    assert (layer.compute_dtype, layer.variable_dtype, layer.dtype) == \
        ("bfloat16", "float32", "float32")
    assert layer.get_config()["dtype"] == "mixed_bfloat16"
    assert layers.Dense.from_config(layer.get_config()).dtype_policy == layer.dtype_policy
    layer.build((None, 3))
    assert layer.kernel.value.dtype == np.float32 and layer.bias.value.dtype == np.float32
    layer.dtype_policy = "float32"  # same variable dtype: allowed on a built layer
    assert layer.compute_dtype == "float32"
    with pytest.raises(ValueError, match="variable dtype"):
        layer.dtype_policy = "float64"
    policy_layer = layers.Dense(2, dtype=pydl.DTypePolicy("mixed_bfloat16"))
    assert policy_layer.compute_dtype == "bfloat16"


def test_what_users_receive_is_float32(mixed_precision, rng):
    """Weights, optimizer slots, predictions, call and tape values stay float32."""
    model = small_model("mixed_bfloat16")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.standard_normal((64, 6)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert all(np.isfinite(v) for v in history.history["loss"])
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert all(np.asarray(v).dtype.kind != "f" or np.asarray(v).dtype == np.float32
               for v in model.optimizer.variables)
    assert model.predict(x, verbose=0).dtype == np.float32
    assert np.asarray(model(x)).dtype == np.float32
    with pydl.GradientTape() as tape:
        out = model(x, training=True)
        loss = pydl.losses.SparseCategoricalCrossentropy()(y, out)
    grads = tape.gradient(loss, model.trainable_weights)
    assert np.asarray(out).dtype == np.float32 and np.asarray(loss).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)
    assert [t.dtype for t in model.outputs] == ["float32"]


def test_a_float64_tensor_takes_the_float64_product(mixed_precision, rng):
    """A float64 Tensor into a mixed layer runs the float64 product (bf16 needs float32)."""
    layer = layers.Dense(3, dtype="mixed_bfloat16")
    layer.build((None, 4))
    x = pydl.ops.convert_to_tensor(rng.standard_normal((5, 4)))
    out = np.asarray(pydl.ops.dense(x, layer.kernel, layer.bias, bf16=True))
    assert out.dtype == np.float64


@pytest.mark.parametrize("suffix", [".pydl", ".keras"])
def test_saving_and_loading_keep_each_layers_policy(mixed_precision, tmp_path, rng, suffix):
    if suffix == ".keras":
        pytest.importorskip("h5py")
    model = pydl.Sequential([pydl.Input(shape=(6,)),
                             layers.Dense(8, activation="relu", dtype="mixed_bfloat16"),
                             layers.Dense(3, activation="softmax", dtype="float32")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.standard_normal((32, 6)).astype(np.float32)
    model.fit(x, rng.integers(0, 3, 32), epochs=1, verbose=0)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = pydl.models.load_model(path)
    assert [layer.dtype_policy.name for layer in loaded.layers] == ["mixed_bfloat16", "float32"]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    if suffix == ".keras":
        config = json.loads(zipfile.ZipFile(path).read("config.json"))
        assert config["config"]["layers"][1]["config"]["dtype"] == {
            "module": "keras", "class_name": "DTypePolicy", "config": {"name": "mixed_bfloat16"},
            "registered_name": None}


def test_a_model_built_under_the_global_policy_writes_it(mixed_precision, tmp_path):
    pytest.importorskip("h5py")
    pydl.mixed_precision.set_global_policy("mixed_bfloat16")
    model = small_model()
    model.save(tmp_path / "g.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "g.keras").read("config.json"))["config"]
    assert config["dtype"]["config"]["name"] == "mixed_bfloat16"
    assert {layer["config"]["dtype"]["config"]["name"] for layer in config["layers"][1:]} == \
        {"mixed_bfloat16"}


def test_fallback_warns_once_and_runs_float32(rng):
    """Below avx512_bf16 (PYDL_ISA, or a CPU without AVX512_BF16): one warning, then the
    float32 kernels: the same bits as a float32 model."""
    x = rng.standard_normal((16, 6)).astype(np.float32)
    previous = dtype_policies._warned["fallback"]
    dtype_policies._warned["fallback"] = False
    try:
        with forced_isa("avx512" if "avx512" in _core.build_info()["simd_compiled"] else
                        "generic"):
            assert not pydl.show_config(print_it=False)["bf16"]
            with pytest.warns(RuntimeWarning, match="float32 kernels") as record:
                mixed = small_model("mixed_bfloat16")
                small_model("mixed_bfloat16")
                pydl.mixed_precision.set_global_policy("mixed_bfloat16")
            assert len(record) == 1
            assert "show_config()['bf16']" in str(record[0].message)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                np.testing.assert_array_equal(mixed.predict(x, verbose=0),
                                              small_model("float32").predict(x, verbose=0))
    finally:
        dtype_policies._warned["fallback"] = previous
        dtype_policies.reset_global_policy()
