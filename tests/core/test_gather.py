"""_core.gather_rows against NumPy fancy indexing."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import num_threads
from pydl import _core


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_])
@pytest.mark.parametrize("row_shape", [(), (3,), (4, 5)])
def test_matches_fancy_indexing(rng, dtype, row_shape):
    src = (rng.normal(size=(50, *row_shape)) * 100).astype(dtype)
    for count in (0, 1, 17, 200):  # with repeats
        indices = rng.integers(0, 50, size=count).astype(np.int64)
        out = np.empty((count, *row_shape), dtype)
        _core.gather_rows(src, indices, out)
        np.testing.assert_array_equal(out, src[indices])


def test_large_gather_same_at_one_and_two_threads(rng):
    src = rng.normal(size=(5000, 300)).astype(np.float32)
    indices = rng.permutation(5000).astype(np.int64)
    outs = []
    for n in (1, 2):
        out = np.empty_like(src)
        with num_threads(n):
            _core.gather_rows(src, indices, out)
        outs.append(out)
    np.testing.assert_array_equal(outs[0], src[indices])
    np.testing.assert_array_equal(outs[1], src[indices])


@pytest.mark.parametrize("bad", [10, -1, 2**40])
def test_out_of_range_index_raises_before_any_copy(bad):
    src = np.arange(20.0).reshape(10, 2)
    out = np.full((3, 2), -7.0)
    with pytest.raises(ValueError, match=rf"indices: expected values in \[0, 10\).*received {bad} at position 2"):
        _core.gather_rows(src, np.array([0, 1, bad], np.int64), out)
    assert np.all(out == -7.0)


def test_gather_from_empty_source():
    _core.gather_rows(np.zeros((0, 3)), np.zeros(0, np.int64), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="indices"):
        _core.gather_rows(np.zeros((0, 3)), np.zeros(1, np.int64), np.zeros((1, 3)))


def _readonly(a):
    a.flags.writeable = False
    return a


@pytest.mark.parametrize("src,indices,out,error,pattern", [
    (np.zeros((4, 2)), np.zeros(2, np.int32), np.zeros((2, 2)), TypeError, "indices: expected dtype int64"),
    (np.zeros((4, 2)), np.zeros((2, 1), np.int64), np.zeros((2, 2)), ValueError, "indices: expected a 1-D"),
    (np.zeros((4, 2)), np.zeros(2, np.int64), np.zeros((2, 2), np.float32), TypeError, "out: expected dtype float64"),
    (np.zeros((4, 2)), np.zeros(2, np.int64), np.zeros((3, 2)), ValueError, r"out: expected shape \(2, 2\)"),
    (np.zeros((4, 2)), np.zeros(2, np.int64), np.zeros((2, 3)), ValueError, r"out: expected shape \(2, 2\)"),
    (np.zeros((2, 4)).T, np.zeros(2, np.int64), np.zeros((2, 2)), ValueError, "src: expected a C-contiguous"),
    (np.zeros((4, 2)), np.zeros(2, np.int64), _readonly(np.zeros((2, 2))), ValueError, "out: expected a writeable"),
    (np.zeros(4, object), np.zeros(2, np.int64), np.zeros(2, object), TypeError, "src: expected a numeric dtype"),
    (np.float64(1.0), np.zeros(2, np.int64), np.zeros(2), TypeError, "src: expected a numpy.ndarray"),
    (np.zeros(()), np.zeros(2, np.int64), np.zeros(2), ValueError, r"src: expected an array of shape \(N, ...\)"),
])
def test_bad_inputs(src, indices, out, error, pattern):
    with pytest.raises(error, match=pattern):
        _core.gather_rows(src, indices, out)


def test_out_must_not_overlap_src():
    src = np.zeros((4, 2))
    with pytest.raises(ValueError, match="out and src"):
        _core.gather_rows(src, np.array([0, 1], np.int64), src[:2])
