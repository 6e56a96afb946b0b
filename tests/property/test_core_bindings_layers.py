"""Property-based tests for the bindings of the layers beyond Dense: random shapes, dtypes,
layouts, values and indices. The outcome is a correct result or a documented exception
(TypeError/ValueError), never a crash or an out-of-bounds access."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pydl import _core
from test_core_bindings import arrays, call, is_clean

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def batchnorm_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 6), min_size=1, max_size=3)))
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    c = shape[axis] if -len(shape) <= axis < len(shape) else 3
    c += draw(st.sampled_from([0, 0, 0, 1]))  # sometimes a wrong vector length
    return (draw(arrays(shape=shape)), draw(st.one_of(st.none(), arrays(shape=(c,)))),
            draw(arrays(shape=(c,))), draw(arrays(shape=(c,))), draw(arrays(shape=(c,))),
            draw(arrays(shape=shape)), axis, draw(st.booleans()))


@given(batchnorm_case())
@SETTINGS
def test_batchnorm_bindings(case):
    x, gamma, mean, var, inv, y, axis, training = case
    ok = call(_core.batchnorm_forward, x, gamma, None, mean, var, inv, y, axis=axis,
              training=training)
    if ok and training and is_clean(x) and np.isfinite(x).all() and abs(x).max() < 1e10:
        ax = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
        np.testing.assert_allclose(mean, x.astype(np.float64).mean(ax), rtol=1e-4, atol=1e-4)
    if ok:
        call(_core.batchnorm_backward, x, gamma, mean, inv, y.copy(), np.empty_like(x),
             None, None, axis=axis, training=training)


@given(arrays(), st.one_of(st.none(), arrays()), arrays(), arrays(), st.booleans())
@SETTINGS
def test_layernorm_bindings(x, gamma, y, stats, rms):
    ok = call(_core.layernorm_forward, x, gamma, None, y, stats, stats.copy(), rms_scaling=rms)
    if ok:
        call(_core.layernorm_backward, x, gamma, stats, stats.copy(), y.copy(),
             np.empty_like(x), None, None, rms_scaling=rms)


@given(arrays(), st.lists(st.integers(-3, 12), max_size=12), st.integers(0, 3))
@SETTINGS
def test_embedding_bindings(table, indices, extra):
    idx = np.asarray(indices, np.int64)
    rows = table.shape[0] if table.ndim == 2 else 0
    out = np.empty(idx.shape + (table.shape[-1] if table.ndim else 1,), table.dtype)
    ok = call(_core.embedding_forward, table, idx, out)
    valid = table.ndim == 2 and ((idx >= 0) & (idx < rows)).all()
    if is_clean(table, out) and table.ndim == 2:
        assert ok == bool(valid)
        if ok:
            np.testing.assert_array_equal(out, table[idx])
    dtable = np.empty((max(rows, 1) + extra - 1,) + table.shape[1:], table.dtype)
    call(_core.embedding_backward, out, idx, dtable)


@given(arrays(), arrays(), st.one_of(st.none(), arrays(dtype=np.bool_)),
       st.sampled_from(["channels_last", "channels_first", "nhwc"]), st.lists(
           st.integers(-2, 9), max_size=12))
@SETTINGS
def test_pooling_bindings(x, y, mask, data_format, argmax_values):
    call(_core.global_average_pool_forward, x, y, mask=mask, data_format=data_format)
    call(_core.global_average_pool_backward, y, x.copy(), mask=mask, data_format=data_format)
    argmax = np.asarray(argmax_values, np.int64).reshape(-1)
    if y.ndim == 2 and argmax.size >= y.size:
        argmax = argmax[:y.size].reshape(y.shape)
    call(_core.global_max_pool_forward, x, y, argmax, data_format=data_format)
    call(_core.global_max_pool_backward, y, argmax, x.copy(), data_format=data_format)
