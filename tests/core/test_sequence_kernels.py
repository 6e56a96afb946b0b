"""_core.embedding_* and _core.global_*_pool_*: against float64 NumPy, 1 vs 2 threads, bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import num_threads
from pydl import _core


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("index_shape", [(1,), (7,), (3, 5), (2, 3, 4)])
def test_embedding_forward_and_scatter_add_backward(rng, dtype, index_shape):
    table = rng.normal(size=(11, 6)).astype(dtype)
    idx = rng.integers(0, 11, size=index_shape).astype(np.int64)
    idx.flat[0] = idx.flat[-1]  # a repeated index
    out = np.empty(index_shape + (6,), dtype)
    _core.embedding_forward(table, idx, out)
    np.testing.assert_array_equal(out, table[idx])
    dy = rng.normal(size=out.shape).astype(dtype)
    dtable = np.full_like(table, np.nan)  # overwritten, not accumulated
    _core.embedding_backward(dy, idx, dtable)
    want = np.zeros(table.shape)
    np.add.at(want, idx.reshape(-1), dy.reshape(-1, 6).astype(np.float64))
    np.testing.assert_allclose(dtable, want, rtol=1e-6 if dtype == np.float32 else 1e-13,
                               atol=1e-6 if dtype == np.float32 else 1e-13)


def test_embedding_backward_sums_repeats_in_index_order(rng):
    # Each table row adds its dy rows in increasing position, as a serial loop would.
    idx = np.array([3, 3, 3, 0, 3], np.int64)
    dy = np.array([[1e8], [1.0], [-1e8], [2.0], [1.0]], np.float32)
    dtable = np.empty((4, 1), np.float32)
    _core.embedding_backward(dy, idx, dtable)
    want = np.float32(0)
    for v in (1e8, 1.0, -1e8, 1.0):
        want = np.float32(want + np.float32(v))
    assert dtable[3, 0] == want and dtable[0, 0] == 2.0 and dtable[1, 0] == 0.0


def test_embedding_bitwise_at_1_and_2_threads(rng):
    table = rng.normal(size=(3000, 64)).astype(np.float32)
    idx = rng.integers(0, 300, size=(64, 50)).astype(np.int64)  # many repeats
    dy = rng.normal(size=(64, 50, 64)).astype(np.float32)
    results = []
    for n in (1, 2):
        with num_threads(n):
            out = np.empty((64, 50, 64), np.float32)
            _core.embedding_forward(table, idx, out)
            dtable = np.empty_like(table)
            _core.embedding_backward(dy, idx, dtable)
            results.append((out, dtable))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_embedding_index_errors_name_the_first_offender_and_its_position():
    table = np.zeros((5, 2), np.float32)
    idx = np.array([[0, 1, 2], [4, 5, -1]], np.int64)
    with pytest.raises(ValueError, match=r"indices: expected values in \[0, 5\) \(input_dim\), "
                                         r"received 5 at position \(1, 1\)"):
        _core.embedding_forward(table, idx, np.empty((2, 3, 2), np.float32))
    with pytest.raises(ValueError, match=r"received -1 at position \(0,\)"):
        _core.embedding_backward(np.zeros((1, 2), np.float32), np.array([-1], np.int64),
                                 np.empty_like(table))
    with pytest.raises(TypeError, match="indices: expected dtype int64"):
        _core.embedding_forward(table, idx.astype(np.int32), np.empty((2, 3, 2), np.float32))
    with pytest.raises(ValueError, match=r"out: expected shape \(2, 3, 2\)"):
        _core.embedding_forward(table, np.zeros((2, 3), np.int64), np.empty((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"dy: expected shape \(2, 3, 2\)"):
        _core.embedding_backward(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.int64),
                                 np.empty_like(table))


def _pool_view(x, data_format):
    """(batch, steps, features) view of the pooling input."""
    return x if data_format == "channels_last" else np.swapaxes(x, 1, 2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 7, 3), (5, 17, 70)])
def test_global_average_pool_with_and_without_mask(rng, dtype, data_format, shape):
    b, s, f = shape
    x = rng.normal(size=shape if data_format == "channels_last" else (b, f, s)).astype(dtype)
    mask = rng.uniform(size=(b, s)) < 0.6
    mask[:, 0] = True  # at least one kept step per sample
    for m in (None, mask):
        y = np.empty((b, f), dtype)
        _core.global_average_pool_forward(x, y, mask=m, data_format=data_format)
        v = _pool_view(x, data_format).astype(np.float64)
        w = np.ones((b, s)) if m is None else m.astype(np.float64)
        want = (v * w[..., None]).sum(1) / w.sum(1, keepdims=True)
        np.testing.assert_allclose(y, want, rtol=1e-6 if dtype == np.float32 else 1e-13)
        dy = rng.normal(size=(b, f)).astype(dtype)
        dx = np.empty_like(x)
        _core.global_average_pool_backward(dy, dx, mask=m, data_format=data_format)
        want_dx = w[..., None] * (dy.astype(np.float64) / w.sum(1, keepdims=True))[:, None, :]
        np.testing.assert_allclose(_pool_view(dx, data_format), want_dx,
                                   rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_global_average_pool_all_masked_is_nan_as_keras():
    y = np.empty((1, 2), np.float32)
    _core.global_average_pool_forward(np.ones((1, 3, 2), np.float32), y,
                                      mask=np.zeros((1, 3), bool))
    assert np.isnan(y).all()


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_max_pool_first_maximum_takes_the_gradient(rng, data_format):
    x = rng.integers(0, 3, size=(4, 6, 5)).astype(np.float64)  # many ties
    if data_format == "channels_first":
        x = np.ascontiguousarray(np.swapaxes(x, 1, 2))
    y, at = np.empty((4, 5)), np.empty((4, 5), np.int64)
    _core.global_max_pool_forward(x, y, at, data_format=data_format)
    v = _pool_view(x, data_format)
    np.testing.assert_array_equal(y, v.max(1))
    np.testing.assert_array_equal(at, v.argmax(1))  # NumPy's argmax: the first maximum
    dy = rng.normal(size=(4, 5))
    dx = np.empty_like(x)
    _core.global_max_pool_backward(dy, at, dx, data_format=data_format)
    want = np.zeros(v.shape)
    b, f = np.meshgrid(np.arange(4), np.arange(5), indexing="ij")
    want[b, v.argmax(1), f] = dy
    np.testing.assert_array_equal(_pool_view(dx, data_format), want)


def test_global_max_pool_propagates_nan():
    x = np.array([[[1.0], [np.nan], [3.0]]], np.float32)
    y, at = np.empty((1, 1), np.float32), np.empty((1, 1), np.int64)
    _core.global_max_pool_forward(x, y, at)
    assert np.isnan(y[0, 0]) and at[0, 0] == 1


def test_pooling_bitwise_at_1_and_2_threads(rng):
    x = rng.normal(size=(64, 200, 128)).astype(np.float32)
    mask = rng.uniform(size=(64, 200)) < 0.7
    dy = rng.normal(size=(64, 128)).astype(np.float32)
    results = []
    for n in (1, 2):
        with num_threads(n):
            y, ym, at = np.empty_like(dy), np.empty_like(dy), np.empty(dy.shape, np.int64)
            _core.global_average_pool_forward(x, y, mask=mask)
            _core.global_max_pool_forward(x, ym, at)
            dx, dxm = np.empty_like(x), np.empty_like(x)
            _core.global_average_pool_backward(dy, dx, mask=mask)
            _core.global_max_pool_backward(dy, at, dxm)
            results.append((y, ym, at, dx, dxm))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_pooling_bad_arguments_name_the_argument():
    x = np.zeros((2, 3, 4), np.float32)
    with pytest.raises(ValueError, match="data_format: expected 'channels_last'"):
        _core.global_average_pool_forward(x, np.empty((2, 4), np.float32), data_format="nhwc")
    with pytest.raises(ValueError, match="x: expected a 3-D array"):
        _core.global_average_pool_forward(x[0], np.empty((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"mask: expected shape \(2, 3\)"):
        _core.global_average_pool_forward(x, np.empty((2, 4), np.float32),
                                          mask=np.ones((2, 4), bool))
    with pytest.raises(TypeError, match="mask: expected dtype bool or uint8"):
        _core.global_average_pool_forward(x, np.empty((2, 4), np.float32),
                                          mask=np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"argmax: expected steps in \[0, 3\), received 3 at "
                                         r"position \(1, 2\)"):
        at = np.zeros((2, 4), np.int64)
        at[1, 2] = 3
        _core.global_max_pool_backward(np.zeros((2, 4), np.float32), at, np.empty_like(x))
    with pytest.raises(ValueError, match="x: expected at least one step"):
        _core.global_max_pool_forward(np.zeros((2, 0, 4), np.float32),
                                      np.empty((2, 4), np.float32), np.empty((2, 4), np.int64))
