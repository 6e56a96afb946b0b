"""Initializers: Keras 3 fan computations, statistics, seeding, get/config."""

from __future__ import annotations

import math

import numpy as np
import pytest

import pydl
from pydl import initializers


@pytest.mark.parametrize("shape,fans", [((), (1, 1)), ((7,), (7, 7)), ((3, 5), (3, 5)),
                                        ((2, 3, 4, 5), (24, 30))])
def test_compute_fans_as_keras(shape, fans):
    assert initializers.compute_fans(shape) == fans


SHAPE = (400, 300)
FAN_IN, FAN_OUT = SHAPE
# (initializer, expected mean, expected std, bound or None)
STATS = [
    (initializers.GlorotUniform(), 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)),
     math.sqrt(6 / (FAN_IN + FAN_OUT))),
    (initializers.GlorotNormal(), 0.0, math.sqrt(2 / (FAN_IN + FAN_OUT)), None),
    (initializers.HeUniform(), 0.0, math.sqrt(2 / FAN_IN), math.sqrt(6 / FAN_IN)),
    (initializers.HeNormal(), 0.0, math.sqrt(2 / FAN_IN), None),
    (initializers.LecunUniform(), 0.0, math.sqrt(1 / FAN_IN), math.sqrt(3 / FAN_IN)),
    (initializers.LecunNormal(), 0.0, math.sqrt(1 / FAN_IN), None),
    (initializers.RandomNormal(mean=1.0, stddev=0.5), 1.0, 0.5, None),
    (initializers.RandomUniform(minval=-0.2, maxval=0.4), 0.1, 0.6 / math.sqrt(12), None),
    (initializers.Zeros(), 0.0, 0.0, 0.0),
    (initializers.Ones(), 1.0, 0.0, None),
    (initializers.Constant(2.5), 2.5, 0.0, None),
]


@pytest.mark.parametrize("init,mean,std,bound", STATS, ids=[type(s[0]).__name__ for s in STATS])
def test_statistics(init, mean, std, bound):
    pydl.utils.set_random_seed(0)
    w = init(SHAPE, dtype="float32")
    assert w.shape == SHAPE and w.dtype == np.float32
    assert abs(w.mean() - mean) < 0.02 * max(std, 1e-3) * 10
    assert abs(w.std() - std) <= 0.02 * std + 1e-12
    if bound is not None:
        assert np.abs(w).max() <= bound + 1e-7


def test_truncated_normals_stay_within_two_stddev():
    w = initializers.HeNormal(seed=1)((500, 200))
    stddev = math.sqrt(2 / 500) / 0.87962566103423978
    assert np.abs(w).max() <= 2 * stddev + 1e-7


def test_reproducible_under_set_random_seed():
    pydl.utils.set_random_seed(42)
    a = initializers.get("glorot_uniform")((5, 4))
    pydl.utils.set_random_seed(42)
    b = initializers.get("glorot_uniform")((5, 4))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, initializers.get("glorot_uniform")((5, 4)))


def test_int_seed_gives_the_same_values_each_call():
    init = initializers.RandomNormal(seed=3)
    np.testing.assert_array_equal(init((3, 3)), init((3, 3)))
    assert init((2,), dtype="float64").dtype == np.float64


def test_get_accepts_names_classes_dicts_and_callables():
    assert isinstance(initializers.get("he_normal"), initializers.HeNormal)
    assert isinstance(initializers.get("HeNormal"), initializers.HeNormal)
    init = initializers.get({"class_name": "RandomUniform",
                             "config": {"minval": 0.0, "maxval": 1.0, "seed": 2}})
    assert init.get_config() == {"minval": 0.0, "maxval": 1.0, "seed": 2}
    again = initializers.get(initializers.serialize(init))
    np.testing.assert_array_equal(init((4,)), again((4,)))
    fn = lambda shape, dtype=None: np.zeros(shape, dtype)  # noqa: E731
    assert initializers.get(fn) is fn
    assert initializers.get(None) is None
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot")
