"""`ops.tensordot`: NumPy's results for any axes and ranks, finite-difference gradients,
every SIMD path, the same bits at 1 and 2 threads, and errors naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops
from pydl.testing import gradcheck

from conftest import num_threads

R = np.random.default_rng(11)

# (shape of x1, shape of x2, axes): int axes, pairs, negative and permuted axes,
# rank 3 and 4 (as the book's chapter 2 teaches), scalars, outer products.
CASES = [
    ((2, 3, 4), (4, 5), 1),
    ((2, 3, 4), (3, 4, 5), 2),
    ((3, 4, 5), (5, 4, 2), ([1, 2], [1, 0])),
    ((4, 3, 2), (4, 6), ([0], [0])),
    ((4, 3, 2), (6, 4), (0, 1)),
    ((3, 4), (5, 3), ([-2], [-1])),
    ((2, 3, 4, 5), (5, 4, 3, 2), ([1, 2, 3], [2, 1, 0])),
    ((2, 3, 4, 5), (4, 5, 6), 2),
    ((2, 3), (4, 5), 0),
    ((4, 3), (3, 4), ([0, 1], [1, 0])),
    ((3,), (3,), 1),
    ((), (), 0),
    ((2, 3, 4), (2, 3), [[0, 1], [0, 1]]),
]


def _ids(cases):
    return [f"{a}.{b}@{ax}" for a, b, ax in cases]


@pytest.mark.parametrize("sa,sb,axes", CASES, ids=_ids(CASES))
def test_tensordot_matches_numpy_in_float64(sa, sb, axes):
    a, b = R.normal(size=sa), R.normal(size=sb)
    got = ops.tensordot(a, b, axes=axes)
    want = np.tensordot(a, b, axes=axes)
    assert got.shape == want.shape and got.dtype == np.float64
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("sa,sb,axes", CASES, ids=_ids(CASES))
def test_tensordot_gradients_by_finite_differences(sa, sb, axes):
    a, b = R.normal(size=sa), R.normal(size=sb)
    weights = R.normal(size=np.tensordot(a, b, axes=axes).shape)
    assert gradcheck(lambda x, y: ops.tensordot(x, y, axes=axes) * weights, [a, b])


def test_tensordot_gradients_match_the_closed_form():
    # out = sum_k x[i, k, j] y[k, l]  =>  dx = g @ y^T placed back, dy = x^T g.
    x, y = R.normal(size=(3, 4, 2)), R.normal(size=(4, 5))
    g = R.normal(size=(3, 2, 5))
    with pydl.GradientTape() as tape:
        tape.watch([x, y])
        out = ops.tensordot(x, y, axes=([1], [0]))
    dx, dy = tape.gradient(out, [x, y], output_gradients=g)
    np.testing.assert_allclose(dx, np.einsum("ijl,kl->ikj", g, y), rtol=1e-12)
    np.testing.assert_allclose(dy, np.einsum("ikj,ijl->kl", x, g), rtol=1e-12)


def test_tensordot_float32_on_every_simd_path(isa):
    a = R.normal(size=(6, 17, 5)).astype(np.float32)
    b = R.normal(size=(5, 17, 33)).astype(np.float32)
    got = ops.tensordot(a, b, axes=([1, 2], [1, 0]))
    assert got.dtype == np.float32
    want = np.tensordot(a.astype(np.float64), b.astype(np.float64), axes=([1, 2], [1, 0]))
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-4)


def test_tensordot_is_bitwise_identical_at_1_and_2_threads():
    a = R.normal(size=(40, 30, 20)).astype(np.float32)
    b = R.normal(size=(20, 30, 50)).astype(np.float32)
    g = R.normal(size=(40, 50)).astype(np.float32)
    results = []
    for n in (1, 2):
        with num_threads(n):
            with pydl.GradientTape() as tape:
                tape.watch([a, b])
                out = ops.tensordot(a, b, axes=([1, 2], [1, 0]))
            results.append([np.asarray(out), *tape.gradient(out, [a, b], output_gradients=g)])
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


def test_tensordot_takes_non_contiguous_inputs_variables_and_mixed_dtypes():
    a = np.arange(24.0).reshape(4, 6)[:, ::2]          # strided
    b = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.testing.assert_allclose(np.asarray(ops.tensordot(a, b, axes=([0], [1]))),
                               np.tensordot(a, b, axes=([0], [1])))
    w = pydl.Variable(np.ones((3, 2), np.float32))
    with pydl.GradientTape() as tape:
        out = ops.sum(ops.tensordot(np.ones((5, 3), np.float32), w, axes=1))
    np.testing.assert_array_equal(tape.gradient(out, w), np.full((3, 2), 5.0, np.float32))
    assert ops.tensordot([[1, 2]], [[3], [4]], axes=1).dtype == np.float32


def test_tensordot_with_an_empty_sum_is_zero():
    a, b = np.ones((2, 0)), np.ones((0, 3))
    np.testing.assert_array_equal(np.asarray(ops.tensordot(a, b, axes=1)), np.zeros((2, 3)))


@pytest.mark.parametrize("axes,error,message", [
    (3, ValueError, r"axes=3 must be in \[0, 2\]"),
    (-1, ValueError, r"axes=-1"),
    (([0], [0, 1]), ValueError, "1 axes of x1 and 2 of x2"),
    (([2], [0]), ValueError, "axis 2 is out of range for x1 of rank 2"),
    (([0], [0]), ValueError, r"axis 0 of x1 \(size 2\) and axis 0 of x2 \(size 3\) differ"),
    (([0, 0], [0, 1]), ValueError, "repeat an axis"),
    ("ab", TypeError, "axes must be an int or a pair"),
    (([0.5], [0]), TypeError, "axes for x1 must be ints"),
])
def test_tensordot_errors_name_the_argument(axes, error, message):
    with pytest.raises(error, match=message):
        ops.tensordot(np.zeros((2, 3)), np.zeros((3, 3)), axes=axes)
