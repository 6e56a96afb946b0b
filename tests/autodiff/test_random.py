"""`pydl.random`: keras.random's seeding rules, reproducibility under set_random_seed,
distributions, dtypes, and errors that name the argument."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import random as prandom
from pydl.testing import gradcheck

DRAWS = {
    "normal": lambda seed: prandom.normal((3, 4), seed=seed),
    "uniform": lambda seed: prandom.uniform((3, 4), seed=seed),
    "truncated_normal": lambda seed: prandom.truncated_normal((3, 4), seed=seed),
    "randint": lambda seed: prandom.randint((3, 4), 0, 100, seed=seed),
    "categorical": lambda seed: prandom.categorical(np.zeros((3, 50)), 4, seed=seed),
    "dropout": lambda seed: prandom.dropout(np.ones((3, 40)), 0.5, seed=seed),
    "shuffle": lambda seed: prandom.shuffle(np.arange(40), seed=seed),
}


def values(tensor) -> np.ndarray:
    return np.asarray(tensor)


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_an_int_seed_gives_the_same_draw_at_every_call(name):
    draw = DRAWS[name]
    np.testing.assert_array_equal(values(draw(42)), values(draw(42)))
    assert not np.array_equal(values(draw(42)), values(draw(43)))


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_a_seed_generator_advances_and_replays_from_its_seed(name):
    draw = DRAWS[name]
    gen = prandom.SeedGenerator(7)
    first, second = values(draw(gen)), values(draw(gen))
    assert not np.array_equal(first, second)
    again = prandom.SeedGenerator(7)
    np.testing.assert_array_equal(values(draw(again)), first)
    np.testing.assert_array_equal(values(draw(again)), second)
    # The first state of SeedGenerator(s) is the state of the int seed s, as in Keras.
    np.testing.assert_array_equal(values(draw(7)), first)


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_unseeded_draws_follow_set_random_seed(name):
    draw = DRAWS[name]
    pydl.utils.set_random_seed(123)
    first = [values(draw(None)), values(draw(None))]
    pydl.utils.set_random_seed(123)
    second = [values(draw(None)), values(draw(None))]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_seed_generator_state_config_and_default_seed():
    gen = prandom.SeedGenerator(5, name="noise")
    assert gen.name == "noise" and gen.state.shape == (2,) and not gen.state.trainable
    state = gen.next()
    np.testing.assert_array_equal(state, [5, 0])
    np.testing.assert_array_equal(gen.state.numpy(), [5, 1])
    state[0] = 99  # a copy: the generator is not changed through it
    np.testing.assert_array_equal(gen.next(), [5, 1])
    clone = prandom.SeedGenerator.from_config(gen.get_config())
    assert clone.name == "noise" and clone.state.numpy().tolist() == [5, 0]
    pydl.utils.set_random_seed(3)
    a = prandom.SeedGenerator()
    pydl.utils.set_random_seed(3)
    b = prandom.SeedGenerator()
    np.testing.assert_array_equal(a.state.numpy(), b.state.numpy())
    assert prandom.SeedGenerator(-1).state.numpy()[0] == -1  # any int works
    with pytest.raises(ValueError, match="seed must be an int or None, received seed='x'"):
        prandom.SeedGenerator("x")


def test_normal_uniform_truncated_normal_distributions_and_dtypes():
    n = prandom.normal((200, 100), mean=2.0, stddev=3.0, seed=1)
    assert n.dtype == np.float32 and n.shape == (200, 100)
    assert abs(values(n).mean() - 2.0) < 0.1 and abs(values(n).std() - 3.0) < 0.1
    u = values(prandom.uniform((20000,), minval=-1.0, maxval=3.0, dtype="float64", seed=1))
    assert u.dtype == np.float64 and u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.05
    t = values(prandom.truncated_normal((20000,), mean=1.0, stddev=0.5, seed=1))
    assert t.min() >= 0.0 and t.max() <= 2.0 and abs(t.mean() - 1.0) < 0.02
    # The truncated normal's standard deviation is 0.8796 sigma.
    assert abs(t.std() - 0.8796 * 0.5) < 0.01


def test_randint_range_and_dtype():
    r = values(prandom.randint((5000,), -3, 4, seed=2))
    assert r.dtype == np.int32 and set(np.unique(r)) == set(range(-3, 4))
    assert prandom.randint(3, 0, 2, dtype="int64", seed=0).dtype == np.int64


def test_categorical_matches_the_softmax_probabilities():
    logits = np.log(np.array([[0.2, 0.5, 0.3], [0.0, 1.0, 0.0]]) + 1e-300)
    logits[1, [0, 2]] = -np.inf  # probability 0
    samples = values(prandom.categorical(logits, 20000, seed=4))
    assert samples.shape == (2, 20000) and samples.dtype == np.int32
    frequencies = np.bincount(samples[0], minlength=3) / 20000
    np.testing.assert_allclose(frequencies, [0.2, 0.5, 0.3], atol=0.015)
    assert np.all(samples[1] == 1)
    assert prandom.categorical(np.zeros((2, 3)), 5, dtype="int64", seed=0).dtype == np.int64


def test_dropout_masks_scales_and_backpropagates():
    out = values(prandom.dropout(np.ones((100, 100), np.float32), 0.25, seed=9))
    kept = out != 0
    assert out.dtype == np.float32 and 0.72 < kept.mean() < 0.78
    np.testing.assert_allclose(out[kept], 1 / 0.75)
    rows = values(prandom.dropout(np.ones((50, 8)), 0.5, noise_shape=(None, 1), seed=1))
    assert np.all((rows == 0).all(axis=1) | (rows == 2).all(axis=1))  # one draw per row
    np.testing.assert_array_equal(values(prandom.dropout(np.ones(3), 1.0)), np.zeros(3))
    x = np.random.default_rng(0).normal(size=(4, 5))
    weights = np.arange(20.0).reshape(4, 5)
    assert gradcheck(lambda v: prandom.dropout(v, 0.5, seed=3) * weights, [x])


def test_shuffle_permutes_whole_slices_and_keeps_the_dtype():
    x = np.arange(12).reshape(3, 4)
    by_rows = values(prandom.shuffle(x, seed=0))
    assert by_rows.dtype == x.dtype
    assert sorted(map(tuple, by_rows)) == sorted(map(tuple, x))
    by_columns = values(prandom.shuffle(x, axis=1, seed=0))
    assert sorted(map(tuple, by_columns.T)) == sorted(map(tuple, x.T))
    order = by_columns[0]
    np.testing.assert_array_equal(by_columns, x[:, order])  # one permutation for every row


@pytest.mark.parametrize("call,error,message", [
    (lambda: prandom.uniform((2,), dtype="int32"), ValueError,
     "uniform: requires a floating point dtype, received dtype='int32'"),
    (lambda: prandom.normal((2,), dtype="bogus"), ValueError, "normal: requires a floating"),
    (lambda: prandom.randint((2,), 0, 3, dtype="float32"), ValueError,
     "randint: requires an integer dtype"),
    (lambda: prandom.randint((2,), 3, 3), ValueError, "expected minval < maxval"),
    (lambda: prandom.normal((2, -1)), ValueError, r"normal: shape must be a tuple of ints >= 0"),
    (lambda: prandom.normal((2,), seed="a"), ValueError,
     "normal: seed must be None, an int or a pydl.random.SeedGenerator, received seed='a'"),
    (lambda: prandom.normal((2,), seed=1.5), ValueError, "seed=1.5"),
    (lambda: prandom.categorical(np.zeros(3), 2), ValueError, "logits must be 2-D"),
    (lambda: prandom.categorical(np.zeros((2, 3)), -1), ValueError,
     "num_samples must be an int >= 0"),
    (lambda: prandom.categorical(np.full((1, 2), -np.inf), 1), ValueError, "not all -inf"),
    (lambda: prandom.shuffle(np.zeros(3), axis=1), ValueError, r"axis must be an int in \[-1, 0\]"),
    (lambda: prandom.dropout(np.zeros(3), 1.5), ValueError, "rate"),
])
def test_bad_arguments_raise_errors_naming_them(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_floatx_is_the_default_float_dtype():
    pydl.backend.set_floatx("float64")
    try:
        assert prandom.normal((2,), seed=0).dtype == np.float64
        assert prandom.uniform((2,), seed=0).dtype == np.float64
    finally:
        pydl.backend.set_floatx("float32")
    assert prandom.normal((2,), seed=0).dtype == np.float32
