"""Every op's gradient against central finite differences in float64 (pydl.testing.gradcheck)."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops
from pydl.tape import record, recording
from pydl.tensor import Tensor
from pydl.testing import gradcheck


R = np.random.default_rng(7)


def normal(*shape):
    return R.normal(size=shape)


def positive(*shape):
    return R.uniform(0.5, 2.0, size=shape)


# (name, function, inputs): broadcast shapes included.
ELEMENTWISE = [
    ("add", ops.add, [normal(3, 4), normal(4)]),
    ("add_scalar_bcast", ops.add, [normal(3, 1), normal(1, 5)]),
    ("subtract", ops.subtract, [normal(2, 1, 3), normal(4, 3)]),
    ("multiply", ops.multiply, [normal(3, 4), normal(3, 1)]),
    ("divide", ops.divide, [normal(3, 4), positive(4)]),
    ("pow", ops.pow, [positive(3, 4), normal(4)]),
    ("pow_int_exponent", lambda a: ops.pow(a, 3), [normal(2, 3)]),
    ("maximum", ops.maximum, [normal(3, 4), normal(4)]),
    ("minimum", ops.minimum, [normal(3, 4), normal(3, 1)]),
    ("negative", ops.negative, [normal(3, 4)]),
    ("sqrt", ops.sqrt, [positive(3, 4)]),
    ("square", ops.square, [normal(3, 4)]),
    ("abs", ops.abs, [normal(3, 4)]),
    ("clip", lambda x: ops.clip(x, -0.5, 0.7), [normal(4, 5)]),
    ("where", lambda a, b: ops.where(a > 0, a, b), [normal(3, 4), normal(4)]),
    ("cast", lambda a: ops.cast(ops.square(a), "float64"), [normal(3)]),
]

REDUCTIONS = [
    ("sum_all", lambda x: ops.sum(x), [normal(3, 4)]),
    ("sum_axis", lambda x: ops.sum(x, axis=1), [normal(3, 4, 2)]),
    ("sum_axes_keepdims", lambda x: ops.sum(x, axis=(0, 2), keepdims=True), [normal(3, 4, 2)]),
    ("mean_axis", lambda x: ops.mean(x, axis=-1), [normal(3, 4)]),
    ("mean_all", lambda x: ops.mean(x), [normal(3, 4)]),
    ("max_axis", lambda x: ops.max(x, axis=0), [normal(3, 4)]),
    ("max_keepdims", lambda x: ops.max(x, axis=1, keepdims=True), [normal(3, 4)]),
    ("min_all", lambda x: ops.min(x), [normal(3, 4)]),
]

SHAPES = [
    ("reshape", lambda x: ops.reshape(x, (4, -1)), [normal(2, 6)]),
    ("transpose", lambda x: ops.transpose(x, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3),
     [normal(2, 3, 4)]),
    ("transpose_T", lambda x: (x * 1.0).T * np.arange(6.0).reshape(3, 2), [normal(2, 3)]),
    ("concatenate", lambda a, b: ops.concatenate([a, b], axis=1) * np.arange(10.0),
     [normal(2, 3), normal(2, 7)]),
    ("stack", lambda a, b: ops.stack([a, b], axis=1) * np.arange(6.0).reshape(1, 2, 3),
     [normal(4, 3), normal(4, 3)]),
    ("slice", lambda x: ops.square(ops.getitem(x, (slice(1, None), slice(None, None, 2)))),
     [normal(3, 5)]),
    ("fancy_index_repeats", lambda x: ops.square((x * 1.0)[[0, 2, 0]]), [normal(3, 2)]),
    ("expand_squeeze", lambda x: ops.squeeze(ops.expand_dims(x, 1) * 2.0, 1), [normal(3, 2)]),
]

ACTIVATIONS = [
    ("relu", ops.relu), ("sigmoid", ops.sigmoid), ("tanh", ops.tanh), ("softmax", ops.softmax),
    ("softmax_axis0", lambda x: ops.softmax(x, axis=0)), ("leaky_relu", ops.leaky_relu),
    ("elu", ops.elu), ("selu", ops.selu), ("gelu", ops.gelu),
    ("gelu_tanh", lambda x: ops.gelu(x, approximate=True)), ("softplus", ops.softplus),
    ("silu", ops.silu), ("exp", ops.exp), ("log", lambda x: ops.log(ops.abs(x) + 0.5)),
]


def _weighted(fn):
    # A fixed random weighting, so that the summed target does not hide errors
    # that cancel (e.g. softmax rows always sum to 1).
    def weighted(*args):
        out = fn(*args)
        weights = np.random.default_rng(3).normal(size=np.shape(np.asarray(out)))
        return ops.multiply(out, weights)
    return weighted


@pytest.mark.parametrize("name,fn,inputs", ELEMENTWISE + REDUCTIONS + SHAPES,
                         ids=[c[0] for c in ELEMENTWISE + REDUCTIONS + SHAPES])
def test_numpy_op_gradients(name, fn, inputs):
    assert gradcheck(_weighted(fn), inputs)


@pytest.mark.parametrize("name,fn", ACTIVATIONS, ids=[c[0] for c in ACTIVATIONS])
def test_activation_gradients(name, fn):
    x = normal(3, 5)
    x[np.abs(x) < 1e-3] = 0.1  # keep away from the kinks of relu-like functions
    assert gradcheck(_weighted(fn), [x])


MATMULS = [((4, 3), (3, 5)), ((3,), (3, 2)), ((2, 3), (3,)), ((3,), (3,)), ((2, 4, 3), (3, 5)),
           ((2, 4, 3), (2, 3, 5)), ((2, 1, 4, 3), (3, 3, 2)), ((5, 3), (2, 3, 4))]


@pytest.mark.parametrize("sa,sb", MATMULS, ids=[f"{a}@{b}" for a, b in MATMULS])
def test_matmul_forward_and_gradients(sa, sb):
    a, b = normal(*sa), normal(*sb)
    np.testing.assert_allclose(np.asarray(ops.matmul(a, b)), np.matmul(a, b), rtol=1e-12,
                               atol=1e-12)
    assert gradcheck(_weighted(ops.matmul), [a, b])


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax", "gelu",
                                        "silu", "elu", "leaky_relu"])
def test_dense_gradients(activation):
    x, w, b = normal(4, 3), normal(3, 5), normal(5)
    assert gradcheck(_weighted(lambda x, w, b: ops.dense(x, w, b, activation)), [x, w, b])
    assert gradcheck(_weighted(lambda x, w: ops.dense(x, w, activation=activation)), [x, w])


def test_dense_matches_its_composition():
    x, w, b = normal(6, 4), normal(4, 3), normal(3)
    fused = ops.dense(x, w, b, "softmax")
    composed = ops.softmax(np.matmul(x, w) + b)
    np.testing.assert_allclose(np.asarray(fused), np.asarray(composed), rtol=1e-12)
    nd = ops.dense(normal(2, 6, 4), w, b)
    assert nd.shape == (2, 6, 3)


def test_dropout_scales_kept_units_and_backpropagates_the_mask():
    x = np.ones((200, 50))
    out = np.asarray(ops.dropout(x, 0.3, seed=5))
    kept = out != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    np.testing.assert_array_equal(out, np.asarray(ops.dropout(x, 0.3, seed=5)))
    assert ops.dropout(x, 0.3, training=False) is x
    with pytest.raises(ValueError, match="rate"):
        ops.dropout(x, 1.0)
    assert gradcheck(lambda x: ops.dropout(x, 0.5, seed=1) * np.arange(3.0), [normal(4, 3)])


def test_cast_to_float32_passes_the_gradient_back_in_float64():
    weights = np.arange(1.0, 4.0)
    x = np.array([0.5, -1.0, 2.0])
    assert gradcheck(lambda a: ops.cast(a, "float32") * weights, [x], eps=1e-2, atol=1e-3)
    assert ops.cast(x, "float32").dtype == np.float32


def test_gradcheck_reports_a_wrong_gradient():
    def bad_square(x):
        v = np.asarray(x)
        rec = recording((x,))
        out = np.square(v)
        if rec is None:
            return Tensor(out)
        return record(out, (x,), rec, lambda g: (g * 3 * v,))  # should be 2 * v

    with pytest.raises(AssertionError, match="input 0 at index"):
        gradcheck(bad_square, [normal(2, 2)])


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\)"):
        ops.add(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        ops.reshape(np.zeros((2, 3)), (4,))
    with pytest.raises(ValueError, match=r"concatenate.*\(2, 3\), \(3, 3\)"):
        ops.concatenate([np.zeros((2, 3)), np.zeros((3, 3))], axis=1)
    with pytest.raises(ValueError, match=r"axis 2 is out of range"):
        ops.sum(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match=r"matmul: inner dimensions differ.*\(2, 3\).*\(4, 5\)"):
        ops.matmul(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match=r"dense: x's last dimension.*\(2, 3\).*\(4, 5\)"):
        ops.dense(np.zeros((2, 3)), np.zeros((4, 5)))


@pytest.mark.parametrize("sa,sb", [((2, 0), (0, 4)), ((0, 3), (3, 2)), ((3, 0, 2), (2, 5))])
def test_matmul_and_dense_with_empty_dimensions(sa, sb):
    a, b = np.zeros(sa), np.ones(sb)
    with pydl.GradientTape() as tape:
        tape.watch([a, b])
        y = ops.sum(ops.matmul(a, b)) + ops.sum(ops.dense(a, b, activation="relu"))
    np.testing.assert_array_equal(np.asarray(ops.matmul(a, b)), np.matmul(a, b))
    da, db = tape.gradient(y, [a, b])
    assert da.shape == sa and db.shape == sb and not db.any()


def test_dense_accepts_non_contiguous_and_fortran_operands():
    x = np.arange(12.0).reshape(2, 6)[:, ::2]
    w = np.asfortranarray(np.arange(6.0).reshape(3, 2))
    np.testing.assert_allclose(np.asarray(ops.dense(x, w)), x @ w)
    assert gradcheck(lambda x, w: ops.dense(x, w, activation="tanh") * 0.1, [x * 0.1, w * 0.1])
