"""_core.batchnorm_* / layernorm_*: against float64 NumPy, on every SIMD path, 1 vs 2 threads."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import num_threads
from pydl import _core

EPS = 1e-3
TOL = {np.float32: dict(rtol=2e-5, atol=2e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}
# (shape, axis): channels-last (inner == 1) and channels-inside (inner > 1) layouts, edge sizes.
BN_CASES = [((1, 1), -1), ((2, 7), -1), ((17, 33), -1), ((65, 130), 1), ((3, 5, 17), -1),
            ((4, 7, 2, 3), 1), ((9, 2), 0), ((2, 33, 5), 1)]


def _moments(x, axis):
    ax = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    xd = x.astype(np.float64)
    return xd.mean(ax), xd.var(ax), ax


def _bshape(x, axis):
    shape = [1] * x.ndim
    shape[axis] = -1
    return shape


def bn_reference(x, gamma, beta, axis, mean=None, var=None):
    m, v, ax = _moments(x, axis)
    if mean is not None:
        m, v = mean.astype(np.float64), var.astype(np.float64)
    s = _bshape(x, axis)
    xhat = (x - m.reshape(s)) / np.sqrt(v.reshape(s) + EPS)
    return xhat * gamma.astype(np.float64).reshape(s) + beta.reshape(s), m, v


def bn_grad_reference(x, gamma, dy, axis, training, mean=None, var=None):
    m, v, ax = _moments(x, axis)
    if not training:
        m, v = mean.astype(np.float64), var.astype(np.float64)
    s = _bshape(x, axis)
    inv = 1 / np.sqrt(v.reshape(s) + EPS)
    xhat = (x - m.reshape(s)) * inv
    dy = dy.astype(np.float64)
    dbeta, dgamma = dy.sum(ax), (dy * xhat).sum(ax)
    g = gamma.astype(np.float64).reshape(s)
    if not training:
        return dy * g * inv, dgamma, dbeta
    n = x.size / x.shape[axis]
    dx = g * inv / n * (n * dy - dbeta.reshape(s) - xhat * dgamma.reshape(s))
    return dx, dgamma, dbeta


def run_bn(x, gamma, beta, axis, training=True, mean=None, var=None):
    c = x.shape[axis]
    y = np.empty_like(x)
    mean = np.empty(c, x.dtype) if training else mean
    var = np.empty(c, x.dtype) if training else var
    inv = np.empty(c, x.dtype)
    _core.batchnorm_forward(x, gamma, beta, mean, var, inv, y, axis=axis, epsilon=EPS,
                            training=training)
    return y, mean, var, inv


def bn_data(rng, shape, axis, dtype):
    x = (rng.normal(size=shape) * 3 + 1.5).astype(dtype)
    c = shape[axis]
    return x, rng.normal(size=c).astype(dtype), rng.normal(size=c).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", BN_CASES)
def test_batchnorm_training_forward_and_backward(isa, rng, dtype, shape, axis):
    x, gamma, beta = bn_data(rng, shape, axis, dtype)
    y, mean, var, inv = run_bn(x, gamma, beta, axis)
    y_ref, m_ref, v_ref = bn_reference(x, gamma, beta, axis)
    np.testing.assert_allclose(y, y_ref, **TOL[dtype])
    np.testing.assert_allclose(mean, m_ref, **TOL[dtype])
    np.testing.assert_allclose(var, v_ref, **TOL[dtype])
    np.testing.assert_allclose(inv, 1 / np.sqrt(v_ref + EPS), **TOL[dtype])
    dy = rng.normal(size=shape).astype(dtype)
    dx, dgamma, dbeta = np.empty_like(x), np.empty_like(gamma), np.empty_like(gamma)
    _core.batchnorm_backward(x, gamma, mean, inv, dy, dx, dgamma, dbeta, axis=axis)
    for got, want in zip((dx, dgamma, dbeta), bn_grad_reference(x, gamma, dy, axis, True)):
        np.testing.assert_allclose(got, want, rtol=TOL[dtype]["rtol"] * 10,
                                   atol=TOL[dtype]["atol"] * 10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", BN_CASES[1:6])
def test_batchnorm_inference_forward_and_backward(isa, rng, dtype, shape, axis):
    x, gamma, beta = bn_data(rng, shape, axis, dtype)
    c = shape[axis]
    mean = rng.normal(size=c).astype(dtype)
    var = rng.uniform(0.5, 2, size=c).astype(dtype)
    y, _, _, inv = run_bn(x, gamma, beta, axis, training=False, mean=mean, var=var)
    np.testing.assert_allclose(y, bn_reference(x, gamma, beta, axis, mean, var)[0], **TOL[dtype])
    dy = rng.normal(size=shape).astype(dtype)
    dx, dgamma, dbeta = np.empty_like(x), np.empty_like(gamma), np.empty_like(gamma)
    _core.batchnorm_backward(x, gamma, mean, inv, dy, dx, dgamma, dbeta, axis=axis,
                             training=False)
    want = bn_grad_reference(x, gamma, dy, axis, False, mean, var)
    for got, ref in zip((dx, dgamma, dbeta), want):
        np.testing.assert_allclose(got, ref, rtol=TOL[dtype]["rtol"] * 10,
                                   atol=TOL[dtype]["atol"] * 10)


def test_batchnorm_without_gamma_beta_and_partial_gradients(rng):
    x, _, _ = bn_data(rng, (20, 6), -1, np.float64)
    y, mean, var, inv = run_bn(x, None, None, -1)
    np.testing.assert_allclose(y, bn_reference(x, np.ones(6), np.zeros(6), -1)[0], atol=1e-12)
    dy = rng.normal(size=x.shape)
    dx = np.empty_like(x)
    _core.batchnorm_backward(x, None, mean, inv, dy, dx, None, None)
    np.testing.assert_allclose(dx, bn_grad_reference(x, np.ones(6), dy, -1, True)[0], atol=1e-12)


def test_batchnorm_large_mean_keeps_precision(rng):
    # (x - mean) * scale, not x * scale - mean * scale: no cancellation of a large offset.
    x = (rng.normal(size=(256, 8)) + 1000.0).astype(np.float32)
    y, _, _, _ = run_bn(x, np.ones(8, np.float32), np.zeros(8, np.float32), -1)
    ref = bn_reference(x, np.ones(8), np.zeros(8), -1)[0]
    np.testing.assert_allclose(y, ref, atol=5e-5)


@pytest.mark.parametrize("shape,axis", [((300, 1024), -1), ((64, 96, 40), 1)])
def test_batchnorm_bitwise_at_1_and_2_threads(rng, shape, axis):
    x, gamma, beta = bn_data(rng, shape, axis, np.float32)
    dy = rng.normal(size=shape).astype(np.float32)
    results = []
    for n in (1, 2):
        with num_threads(n):
            y, mean, var, inv = run_bn(x, gamma, beta, axis)
            dx, dgamma, dbeta = np.empty_like(x), np.empty_like(gamma), np.empty_like(gamma)
            _core.batchnorm_backward(x, gamma, mean, inv, dy, dx, dgamma, dbeta, axis=axis)
            results.append((y, mean, var, dx, dgamma, dbeta))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_batchnorm_update_moving_is_keras_rule_in_float32(rng):
    moving = rng.normal(size=9).astype(np.float32)
    batch = rng.normal(size=9).astype(np.float32)
    want = moving * np.float32(0.99) + batch * np.float32(1.0 - 0.99)  # NumPy float32, as Keras
    _core.batchnorm_update_moving(moving, batch, 0.99)
    np.testing.assert_array_equal(moving, want)


def test_batchnorm_bad_arguments_name_the_argument():
    x = np.zeros((4, 3), np.float32)
    c3 = np.zeros(3, np.float32)
    with pytest.raises(ValueError, match="axis: expected a value in"):
        _core.batchnorm_forward(x, c3, c3, c3.copy(), c3.copy(), c3.copy(), np.empty_like(x),
                                axis=2)
    with pytest.raises(ValueError, match=r"gamma: expected shape \(3,\)"):
        run_bn(x, np.zeros(4, np.float32), c3, -1)
    with pytest.raises(TypeError, match="beta: expected dtype float32"):
        run_bn(x, c3, np.zeros(3), -1)
    with pytest.raises(ValueError, match="epsilon: expected a positive number"):
        _core.batchnorm_forward(x, c3, c3, c3.copy(), c3.copy(), c3.copy(), np.empty_like(x),
                                epsilon=0.0)
    with pytest.raises(ValueError, match="y and x: expected arrays that do not share memory"):
        _core.batchnorm_forward(x, c3, c3, c3.copy(), c3.copy(), c3.copy(), x)
    with pytest.raises(ValueError, match="momentum: expected a number in"):
        _core.batchnorm_update_moving(c3.copy(), c3, 1.5)
    with pytest.raises(ValueError, match="dx: expected shape"):
        _core.batchnorm_backward(x, c3, c3, c3, x, np.empty((3, 4), np.float32), None, None)


# ---------------------------------------------------------------- layer normalization
def ln_reference(x, gamma, beta, rms):
    xd = x.astype(np.float64)
    m = xd.mean(-1, keepdims=True)
    v = xd.var(-1, keepdims=True)
    g = np.ones(x.shape[-1]) if gamma is None else gamma.astype(np.float64)
    if rms:
        return xd / np.sqrt(v + EPS) * g
    return (xd - m) / np.sqrt(v + EPS) * g + (0 if beta is None else beta)


def ln_grad_reference(x, gamma, dy, rms):
    """By float64 finite-difference-free algebra: the vector-Jacobian products, row by row."""
    xd, dy = x.astype(np.float64), dy.astype(np.float64)
    g = np.ones(x.shape[-1]) if gamma is None else gamma.astype(np.float64)
    n = x.shape[-1]
    m = xd.mean(-1, keepdims=True)
    r = 1 / np.sqrt(xd.var(-1, keepdims=True) + EPS)
    gd = dy * g
    if rms:
        dx = r * gd - r ** 3 * (xd - m) * (gd * xd).sum(-1, keepdims=True) / n
        xhat = xd * r
    else:
        xhat = (xd - m) * r
        dx = r * (gd - gd.mean(-1, keepdims=True) - xhat * (gd * xhat).mean(-1, keepdims=True))
    return dx, (dy * xhat).sum(0), dy.sum(0)


def run_ln(x, gamma, beta, rms=False):
    y = np.empty_like(x)
    mean, rstd = np.empty(x.shape[0], x.dtype), np.empty(x.shape[0], x.dtype)
    _core.layernorm_forward(x, gamma, beta, y, mean, rstd, epsilon=EPS, rms_scaling=rms)
    return y, mean, rstd


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
# Rows past 32 chunks of 16 (600, 1000) put several chunks in one row block of the fused
# backward (dx with dgamma / dbeta summed in the same pass).
@pytest.mark.parametrize("rows,cols", [(1, 1), (2, 7), (17, 33), (5, 65), (3, 1000), (600, 40),
                                       (1000, 3)])
@pytest.mark.parametrize("rms", [False, True])
def test_layernorm_forward_and_backward(isa, rng, dtype, rows, cols, rms):
    x = (rng.normal(size=(rows, cols)) * 2 + 0.5).astype(dtype)
    gamma, beta = rng.normal(size=cols).astype(dtype), rng.normal(size=cols).astype(dtype)
    beta = None if rms else beta
    y, mean, rstd = run_ln(x, gamma, beta, rms)
    np.testing.assert_allclose(y, ln_reference(x, gamma, beta, rms), **TOL[dtype])
    dy = rng.normal(size=x.shape).astype(dtype)
    dx, dgamma = np.empty_like(x), np.empty_like(gamma)
    dbeta = None if rms else np.empty_like(gamma)
    _core.layernorm_backward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rms_scaling=rms)
    want = ln_grad_reference(x, gamma, dy, rms)
    tol = dict(rtol=TOL[dtype]["rtol"] * 20, atol=TOL[dtype]["atol"] * 20)
    np.testing.assert_allclose(dx, want[0], **tol)
    np.testing.assert_allclose(dgamma, want[1], **tol)
    if dbeta is not None:
        np.testing.assert_allclose(dbeta, want[2], **tol)


@pytest.mark.parametrize("shape,rms", [((256, 1024), False), ((1500, 96), False),
                                       ((1500, 96), True)])
def test_layernorm_bitwise_at_1_and_2_threads(rng, shape, rms):
    x = rng.normal(size=shape).astype(np.float32)
    cols = shape[1]
    gamma, beta = rng.normal(size=cols).astype(np.float32), rng.normal(size=cols).astype(np.float32)
    dy = rng.normal(size=x.shape).astype(np.float32)
    results = []
    for n in (1, 2):
        with num_threads(n):
            y, mean, rstd = run_ln(x, gamma, beta, rms)
            dx, dgamma, dbeta = np.empty_like(x), np.empty_like(gamma), np.empty_like(gamma)
            _core.layernorm_backward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta,
                                     rms_scaling=rms)
            results.append((y, mean, rstd, dx, dgamma, dbeta))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("wanted", ["dx", "dgamma", "dbeta", "dx dbeta", "dgamma dbeta",
                                    "dx dgamma dbeta"])
@pytest.mark.parametrize("with_gamma", [True, False])
def test_layernorm_backward_any_subset_of_gradients(rng, wanted, with_gamma):
    # dx with parameter gradients takes the fused pass, without them the row pass, and
    # parameter gradients alone the column pass: each must match the float64 algebra.
    x = (rng.normal(size=(700, 48)) * 3 - 1).astype(np.float32)
    gamma = rng.normal(size=48).astype(np.float32) if with_gamma else None
    _, mean, rstd = run_ln(x, gamma, None)
    dy = rng.normal(size=x.shape).astype(np.float32)
    out = {name: (np.empty_like(x) if name == "dx" else np.empty(48, np.float32))
           for name in wanted.split()}
    _core.layernorm_backward(x, gamma, mean, rstd, dy, out.get("dx"), out.get("dgamma"),
                             out.get("dbeta"))
    want = dict(zip(("dx", "dgamma", "dbeta"), ln_grad_reference(x, gamma, dy, False)))
    for name, got in out.items():
        np.testing.assert_allclose(got, want[name], rtol=2e-4, atol=2e-4, err_msg=name)


def test_layernorm_bad_arguments_name_the_argument():
    x = np.zeros((4, 3), np.float32)
    with pytest.raises(ValueError, match="x: expected a 2-D array"):
        run_ln(np.zeros(3, np.float32), None, None)
    with pytest.raises(ValueError, match=r"gamma: expected shape \(3,\)"):
        run_ln(x, np.zeros(4, np.float32), None)
    with pytest.raises(ValueError, match=r"mean: expected shape \(4,\)"):
        _core.layernorm_forward(x, None, None, np.empty_like(x), np.empty(3, np.float32),
                                np.empty(4, np.float32))
    with pytest.raises(TypeError, match="x: expected dtype float32 or float64"):
        run_ln(x.astype(np.int32), None, None)
