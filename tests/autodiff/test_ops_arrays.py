"""The ops of "Data in" besides tensordot: creation, indices, comparisons, one_hot, where,
broadcast_to and log_softmax -- against NumPy, gradients against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops
from pydl.testing import gradcheck

R = np.random.default_rng(5)


# -- convert_to_tensor / array / zeros / ones / shape ----------------------------------
@pytest.mark.parametrize("value,dtype", [
    ([1, 2], np.int32), ([1, 2.5], np.float32), (3, np.int32), (2.0, np.float32),
    (True, np.bool_), ([[True], [False]], np.bool_), (np.arange(3), np.int64),
    (np.zeros(2, np.float64), np.float64), (np.float64(1.5), np.float64), ([2**40], np.int64),
])
def test_convert_to_tensor_infers_dtypes_as_keras(value, dtype):
    t = ops.convert_to_tensor(value)
    assert isinstance(t, ops.Tensor) and t.dtype == dtype
    np.testing.assert_array_equal(np.asarray(t), np.asarray(value))
    assert ops.array(value).dtype == dtype


def test_convert_to_tensor_dtype_copy_and_identity():
    source = np.arange(4)
    t = ops.convert_to_tensor(source, dtype="float64")
    assert t.dtype == np.float64
    kept = ops.array(source)
    source[1] = 9
    assert np.asarray(kept)[1] == 1  # converted data does not alias the input
    tensor = ops.add(np.ones(2), 1.0)
    assert ops.convert_to_tensor(tensor) is tensor
    assert ops.convert_to_tensor(tensor, dtype="int32").dtype == np.int32


def test_convert_to_tensor_of_a_variable_keeps_the_gradient():
    w = pydl.Variable(np.array([1.0, 2.0], np.float32))
    with pydl.GradientTape(persistent=True) as tape:
        y = ops.sum(ops.square(ops.convert_to_tensor(w)))
        z = ops.sum(ops.convert_to_tensor(w, dtype="float64") * 3.0)
    np.testing.assert_allclose(tape.gradient(y, w), [2.0, 4.0])
    grad_z = tape.gradient(z, w)
    assert grad_z.dtype == np.float32
    np.testing.assert_allclose(grad_z, [3.0, 3.0])


def test_convert_to_tensor_rejects_what_is_not_numbers():
    with pytest.raises(ValueError, match="sparse"):
        ops.convert_to_tensor([1.0], sparse=True)
    with pytest.raises(TypeError, match="received None"):
        ops.convert_to_tensor(None)
    with pytest.raises(TypeError, match="dtype <U"):
        ops.convert_to_tensor(np.array(["a"]))
    with pytest.raises(TypeError, match="cannot convert a str"):
        ops.convert_to_tensor("text")
    with pytest.raises(TypeError, match="dtype must be a NumPy dtype"):
        ops.convert_to_tensor([1], dtype="no-such-type")


def test_zeros_ones_and_shape():
    z = ops.zeros((2, 3))
    assert z.dtype == np.float32 and z.shape == (2, 3) and not np.asarray(z).any()
    o = ops.ones(4, dtype="int32")
    np.testing.assert_array_equal(np.asarray(o), np.ones(4, np.int32))
    assert o.dtype == np.int32
    assert ops.shape(z) == (2, 3) and isinstance(ops.shape(z), tuple)
    assert ops.shape(pydl.Variable(np.zeros((4, 1)))) == (4, 1)
    assert ops.shape([[1, 2, 3]]) == (1, 3) and ops.shape(2.0) == ()
    with pytest.raises(ValueError, match=r"zeros: shape must hold ints >= 0, received "
                                         r"shape=\(2, -1\)"):
        ops.zeros((2, -1))
    with pytest.raises(TypeError, match="ones: shape must be an int or a tuple"):
        ops.ones(None)
    with pytest.raises(TypeError, match="shape: expected an array"):
        ops.shape(None)


# -- argmax / argmin / equal ---------------------------------------------------------
@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True), (-1, False),
                                           (None, True)])
def test_argmax_argmin_match_numpy_as_int32(axis, keepdims):
    x = R.normal(size=(4, 5, 3))
    for op, ref in ((ops.argmax, np.argmax), (ops.argmin, np.argmin)):
        got = op(x, axis=axis, keepdims=keepdims)
        assert got.dtype == np.int32
        np.testing.assert_array_equal(np.asarray(got), ref(x, axis=axis, keepdims=keepdims))


def test_argmax_ties_negative_zero_and_errors():
    np.testing.assert_array_equal(np.asarray(ops.argmax([[1, 3, 3], [2, 2, 0]], axis=1)), [1, 0])
    assert int(ops.argmax(np.array([-0.0, 0.0]))) == 1  # +0.0 above -0.0, as Keras 3
    assert int(ops.argmin(np.array([0.0, -0.0]))) == 1
    with pytest.raises(ValueError, match="argmax: axis 2 is out of range for an input of rank 2"):
        ops.argmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="argmin: axis must be an int or None"):
        ops.argmin(np.zeros((2, 3)), axis=(0, 1))
    with pytest.raises(ValueError, match="argmax: x is empty"):
        ops.argmax(np.zeros((0, 3)), axis=0)


def test_equal_broadcasts_and_names_bad_shapes():
    got = ops.equal(np.array([[1, 2], [3, 4]]), [1, 4])
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(np.asarray(got), [[True, False], [False, True]])
    accuracy = ops.mean(ops.cast(ops.equal(ops.argmax([[0.1, 0.9], [0.8, 0.2]], axis=1),
                                           [1, 1]), "float32"))
    assert float(accuracy) == 0.5
    with pytest.raises(ValueError, match=r"equal: shapes \(2,\) and \(3,\)"):
        ops.equal(np.zeros(2), np.zeros(3))


# -- one_hot --------------------------------------------------------------------------
def test_one_hot_matches_to_categorical_and_keras_layout():
    y = np.array([[1, 0], [3, 2]])
    got = ops.one_hot(y, 4)
    assert got.dtype == np.float32 and got.shape == (2, 2, 4)
    np.testing.assert_array_equal(np.asarray(got), pydl.utils.to_categorical(y, 4))
    first = ops.one_hot(y, 4, axis=0)
    np.testing.assert_array_equal(np.asarray(first), np.moveaxis(np.asarray(got), -1, 0))
    middle = ops.one_hot(y, 4, axis=1, dtype="int32")
    assert middle.shape == (2, 4, 2) and middle.dtype == np.int32
    # Outside [0, num_classes): a row of zeros (Keras 3 on TensorFlow and JAX).
    np.testing.assert_array_equal(np.asarray(ops.one_hot([-1, 2, 5], 3)),
                                  [[0, 0, 0], [0, 0, 1], [0, 0, 0]])
    np.testing.assert_array_equal(np.asarray(ops.one_hot(np.array([1.0]), 2)), [[0, 1]])


def test_one_hot_errors_name_the_argument():
    with pytest.raises(ValueError, match="num_classes must be an int >= 1, received num_classes=0"):
        ops.one_hot([1], 0)
    with pytest.raises(ValueError, match=r"axis must be an int in \[-2, 1\]"):
        ops.one_hot([1], 3, axis=2)
    with pytest.raises(TypeError, match="integer class indices"):
        ops.one_hot([0.5], 3)
    with pytest.raises(ValueError, match="sparse"):
        ops.one_hot([1], 3, sparse=True)


# -- where / broadcast_to / log_softmax -----------------------------------------------
def test_where_with_only_a_condition_gives_int32_indices():
    x = np.array([[0.5, -1.0, 2.0], [-3.0, 4.0, 0.0]])
    rows, cols = ops.where(x > 0)
    assert rows.dtype == np.int32 and cols.dtype == np.int32
    np.testing.assert_array_equal(np.asarray(rows), np.nonzero(x > 0)[0])
    np.testing.assert_array_equal(x[ops.where(x > 0)], x[x > 0])
    with pytest.raises(ValueError, match="x1 and x2 must both be given"):
        ops.where(x > 0, x)


def test_where_gradients_flow_to_x1_and_x2_only():
    cond = R.normal(size=(3, 4)) > 0
    weights = R.normal(size=(3, 4))
    assert gradcheck(lambda a, b: ops.where(cond, a, b) * weights,
                     [R.normal(size=(3, 4)), R.normal(size=(1, 4))])
    assert gradcheck(lambda a: ops.where(cond, a, 0.0) * weights, [R.normal(size=(3, 4))])
    np.testing.assert_array_equal(np.asarray(ops.where([True, False], 1.0, [5.0, 6.0])), [1, 6])


def test_broadcast_to_matches_numpy_and_sums_its_gradient():
    x = R.normal(size=(3, 1))
    got = ops.broadcast_to(x, (2, 3, 4))
    np.testing.assert_array_equal(np.asarray(got), np.broadcast_to(x, (2, 3, 4)))
    got_array = np.asarray(got)
    got_array[0, 0, 0] = 99.0  # a result of its own, not a read-only view of x
    assert x[0, 0] != 99.0
    weights = R.normal(size=(2, 3, 4))
    assert gradcheck(lambda v: ops.broadcast_to(v, (2, 3, 4)) * weights, [x])
    assert gradcheck(lambda v: ops.broadcast_to(v, 5) * np.arange(5.0), [np.array(2.0)])
    with pytest.raises(ValueError, match=r"broadcast_to: an input of shape \(3, 1\) cannot be "
                                         r"broadcast to shape=\(2, 4\)"):
        ops.broadcast_to(x, (2, 4))
    with pytest.raises(TypeError, match="shape must be a tuple of ints"):
        ops.broadcast_to(x, None)


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_log_softmax_matches_a_float64_reference_and_finite_differences(axis):
    x = R.normal(size=(3, 5, 2)) * 3
    reference = x - np.log(np.sum(np.exp(x), axis=axis, keepdims=True))
    np.testing.assert_allclose(np.asarray(ops.log_softmax(x, axis=axis)), reference, rtol=1e-12,
                               atol=1e-12)
    weights = R.normal(size=x.shape)
    assert gradcheck(lambda v: ops.log_softmax(v, axis=axis) * weights, [x])


def test_log_softmax_stays_finite_where_softmax_underflows():
    x = np.array([[0.0, -200.0, 1000.0]], np.float32)
    got = np.asarray(ops.log_softmax(x))
    assert got.dtype == np.float32 and np.all(np.isfinite(got))
    np.testing.assert_allclose(got, [[-1000.0, -1200.0, 0.0]], rtol=1e-6)
    with pytest.raises(ValueError, match="log_softmax: axis 2 is out of range"):
        ops.log_softmax(np.zeros((2, 2)), axis=2)
    with pytest.raises(ValueError, match="log_softmax: expected an input with at least 1"):
        ops.log_softmax(1.0)
