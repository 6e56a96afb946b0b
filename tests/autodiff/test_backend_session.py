"""`pydl.backend`: backend(), floatx/set_floatx, epsilon, image_data_format, clear_session."""

from __future__ import annotations

import numpy as np
import pytest

import pydl


@pytest.fixture
def float64_default():
    pydl.backend.set_floatx("float64")
    try:
        yield
    finally:
        pydl.backend.set_floatx("float32")


def test_backend_constants():
    assert pydl.backend.backend() == "pydl"
    assert pydl.backend.floatx() == "float32"
    assert pydl.backend.epsilon() == 1e-7
    assert pydl.backend.image_data_format() == "channels_last"


def test_set_floatx_changes_the_defaults_of_layers_variables_and_arrays(float64_default):
    assert pydl.backend.floatx() == "float64"
    layer = pydl.layers.Dense(3)
    layer.build((None, 2))
    assert layer.dtype == "float64" and layer.kernel.dtype == np.float64
    assert pydl.Variable([1.0, 2.0]).dtype == np.float64
    assert pydl.Variable("ones", shape=(2,)).dtype == np.float64
    assert pydl.initializers.GlorotUniform()((2, 2)).dtype == np.float64
    assert pydl.ops.zeros(2).dtype == np.float64
    assert pydl.ops.convert_to_tensor([1.5]).dtype == np.float64
    assert pydl.ops.one_hot([0], 2).dtype == np.float64
    model = pydl.Sequential([pydl.Input(shape=(2,)), pydl.layers.Dense(1)])
    assert model.predict(np.ones((4, 2), np.float32), verbose=0).dtype == np.float64


def test_set_floatx_rejects_what_pydl_cannot_compute_in():
    for value in ("float16", "bfloat16", "int32", None, "nonsense"):
        with pytest.raises(ValueError, match="set_floatx: value must be one of float32, float64"):
            pydl.backend.set_floatx(value)
    assert pydl.backend.floatx() == "float32"
    pydl.backend.set_floatx(np.float32)
    assert pydl.backend.floatx() == "float32"


def test_clear_session_restarts_auto_naming():
    pydl.backend.clear_session()
    first = [pydl.layers.Dense(2).name for _ in range(3)]
    assert first == ["dense", "dense_1", "dense_2"]
    assert pydl.Variable(1.0).name == "variable" and pydl.Variable(1.0).name == "variable_1"
    assert pydl.random.SeedGenerator(1).name == "seed_generator"
    pydl.utils.clear_session(free_memory=False)  # the alias
    assert pydl.layers.Dense(2).name == "dense"
    assert pydl.Variable(1.0).name == "variable"
    assert pydl.Sequential().name == "sequential"


def test_clear_session_reseeds_the_global_generator_from_python_random():
    # As Keras 3: after set_random_seed, clear_session keeps later draws reproducible.
    runs = []
    for _ in range(2):
        pydl.utils.set_random_seed(11)
        before = np.asarray(pydl.random.normal((3,)))
        pydl.backend.clear_session(free_memory=False)
        after = np.asarray(pydl.random.normal((3,)))
        runs.append((before, after))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    pydl.utils.set_random_seed(11)
    assert not np.array_equal(np.asarray(pydl.random.normal((3,))), runs[0][1])
