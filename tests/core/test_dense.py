"""Dense kernels of the core (`_core.dense_forward`, `_core.dense_backward`): forward
against float64 NumPy, backward against central finite differences in float64 for every
activation, thread-count determinism and argument checks (issue 3)."""

from __future__ import annotations

import numpy as np
import pytest

from pydl import _core

from conftest import num_threads

ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu", "selu",
               "gelu", "softplus", "silu")
ALPHA = {"leaky_relu": 0.2, "elu": 1.0}


def activate64(name, z):
    y = np.empty_like(z)
    _core.activation_forward(name, z, y, ALPHA.get(name, 0.0))
    return y


def layer(rng, batch, n_in, n_out, dtype):
    x = rng.standard_normal((batch, n_in)).astype(dtype)
    w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    return x, w, b


def forward(x, w, b, activation, keep_z):
    y = np.empty((x.shape[0], w.shape[1]), x.dtype)
    keep_z = keep_z or _core.activation_needs_preactivation(activation)  # z required then
    z = np.empty_like(y) if keep_z else None
    _core.dense_forward(x, w, b, activation, y, z, ALPHA.get(activation, 0.0))
    return y, z


def backward(x, w, z, y, dy, activation, want_dx=True, want_db=True):
    dz = np.empty_like(dy)
    dx = np.empty_like(x) if want_dx else None
    dw = np.empty_like(w)
    db = np.empty(w.shape[1], x.dtype) if want_db else None
    _core.dense_backward(x, w, z, y, dy, activation, dz, dx, dw, db, ALPHA.get(activation, 0.0))
    return dx, dw, db


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_forward_matches_numpy(isa, dtype, activation, rng):
    x, w, b = layer(rng, 19, 70, 37, dtype)
    z64 = x.astype(np.float64) @ w.astype(np.float64) + b
    expected = activate64(activation, z64)
    tol = 1e-4 if dtype == np.float32 else 1e-12
    for keep_z in (False, True):
        y, z = forward(x, w, b, activation, keep_z)
        np.testing.assert_allclose(y, expected, rtol=tol, atol=tol)
        if keep_z:
            np.testing.assert_allclose(z, z64, rtol=tol, atol=tol)
    y, _ = forward(x, w, None, activation, False)  # no bias
    np.testing.assert_allclose(y, activate64(activation, z64 - b), rtol=tol, atol=tol)


def _loss(x, w, b, activation, r):
    """Scalar loss sum(y * r) in float64, through the core's own forward."""
    y, _ = forward(x, w, b, activation, False)
    return float(np.sum(y * r))


def _numeric_grad(f, v, h=1e-6):
    g = np.empty_like(v)
    flat, gflat = v.reshape(-1), g.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        up = f()
        flat[i] = saved - h
        down = f()
        flat[i] = saved
        gflat[i] = (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_backward_matches_finite_differences(isa, activation, rng):
    x, w, b = layer(rng, 3, 4, 5, np.float64)
    r = rng.standard_normal((3, 5))
    y, z = forward(x, w, b, activation, True)
    dx, dw, db = backward(x, w, z, y, r.copy(), activation)
    loss = lambda: _loss(x, w, b, activation, r)  # noqa: E731
    np.testing.assert_allclose(dw, _numeric_grad(loss, w), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(db, _numeric_grad(loss, b), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dx, _numeric_grad(loss, x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("activation", ("linear", "relu", "gelu", "softmax"))
def test_backward_options(activation, rng):
    """dz may be dy itself; dx and db may be skipped; z/y None when not needed."""
    x, w, b = layer(rng, 33, 20, 17, np.float64)
    y, z = forward(x, w, b, activation, True)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = backward(x, w, z, y, dy.copy(), activation)
    needs_z = _core.activation_needs_preactivation(activation)
    z_arg = z if needs_z else None
    y_arg = None if needs_z or activation == "linear" else y
    dy_inplace = dy.copy()
    dw2 = np.empty_like(w)
    _core.dense_backward(x, w, z_arg, y_arg, dy_inplace, activation, dy_inplace, None, dw2, None,
                         ALPHA.get(activation, 0.0))
    np.testing.assert_array_equal(dw2, dw)
    if activation == "linear":  # dz = dy
        np.testing.assert_allclose(db, dy.sum(0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(dx, dy @ w.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", (np.float32, np.float64))
def test_threads_bitwise_equal(dtype, rng):
    x, w, b = layer(rng, 300, 200, 150, dtype)
    dy = rng.standard_normal((300, 150)).astype(dtype)
    results = []
    for threads in (1, 2):
        with num_threads(threads):
            y, z = forward(x, w, b, "silu", True)
            grads = backward(x, w, z, y, dy, "silu")
        results.append((y, z) + grads)
    for one, two in zip(*results):
        np.testing.assert_array_equal(one, two)


# ---- argument checks ----------------------------------------------------------------

def _fwd_args(**over):
    f = np.float32
    args = dict(x=np.ones((4, 3), f), w=np.ones((3, 5), f), b=np.ones(5, f), activation="relu",
                y=np.empty((4, 5), f), z=None)
    args.update(over)
    return args


@pytest.mark.parametrize("over,error,words", [
    (dict(x=np.ones((4, 3), np.int64)), TypeError, ["x", "int64"]),
    (dict(w=np.ones((3, 5))), TypeError, ["w", "float64"]),
    (dict(w=np.ones((4, 5), np.float32)), ValueError, ["w", "(3, *)", "(4, 5)"]),
    (dict(b=np.ones(4, np.float32)), ValueError, ["b", "(5,)", "(4,)"]),
    (dict(y=np.empty((4, 4), np.float32)), ValueError, ["y", "(4, 5)"]),
    (dict(y=np.empty((5, 4), np.float32).T), ValueError, ["y", "C-contiguous"]),
    (dict(activation="gelu"), ValueError, ["z", "gelu"]),
    (dict(activation="nope"), ValueError, ["activation", "nope"]),
])
def test_forward_bad_arguments(over, error, words):
    with pytest.raises(error) as info:
        _core.dense_forward(**_fwd_args(**over))
    for word in words:
        assert word in str(info.value)


def test_forward_overlap_and_read_only():
    args = _fwd_args()
    with pytest.raises(ValueError, match="z and y"):
        _core.dense_forward(**dict(args, z=args["y"]))
    y = np.empty((4, 5), np.float32)
    y.flags.writeable = False
    with pytest.raises(ValueError, match="y.*read-only"):
        _core.dense_forward(**dict(args, y=y))


def test_backward_bad_arguments():
    f = np.float32
    x, w, y, dy = np.ones((4, 3), f), np.ones((3, 5), f), np.ones((4, 5), f), np.ones((4, 5), f)
    dz, dx, dw, db = np.empty((4, 5), f), np.empty((4, 3), f), np.empty((3, 5), f), np.empty(5, f)
    call = _core.dense_backward
    with pytest.raises(ValueError, match="z.*gelu"):
        call(x, w, None, y, dy, "gelu", dz, dx, dw, db)
    with pytest.raises(ValueError, match="y.*relu"):
        call(x, w, None, None, dy, "relu", dz, dx, dw, db)
    with pytest.raises(ValueError, match="dw.*(3, 5)"):
        call(x, w, None, y, dy, "relu", dz, dx, np.empty((5, 3), f), db)
    with pytest.raises(TypeError, match="db.*float64"):
        call(x, w, None, y, dy, "relu", dz, dx, dw, np.empty(5))
    with pytest.raises(ValueError, match="dx and dz"):
        call(x, w, None, y, dy, "relu", dz, dz.reshape(-1)[:12].reshape(4, 3), dw, db)
    buf = np.ones(20, f)  # x and dw sharing memory
    with pytest.raises(ValueError, match="dw and x"):
        call(buf[:12].reshape(4, 3), w, None, y, dy, "relu", dz, dx, buf[5:].reshape(3, 5), db)
