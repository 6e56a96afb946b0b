"""Variable and Tensor: values, dtypes, in-place updates, operators."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops
from pydl.tensor import Tensor


def test_variable_dtype_defaults_to_float32_and_keeps_float64_arrays():
    assert pydl.Variable([1.0, 2.0]).dtype == np.float32
    assert pydl.Variable(3).dtype == np.float32
    assert pydl.Variable(np.zeros(2, np.float64)).dtype == np.float64
    assert pydl.Variable([1, 2], dtype="float64").dtype == np.float64


def test_variable_assign_updates_in_place():
    v = pydl.Variable(np.zeros((2, 3)), name="w")
    buffer = v.value
    v.assign(np.ones((2, 3)))
    v.assign_add(np.full((2, 3), 2.0))
    v.assign_sub(1.0)
    assert v.value is buffer
    np.testing.assert_array_equal(v.numpy(), np.full((2, 3), 2.0))
    copy = v.numpy()
    copy[0, 0] = 99
    assert v.value[0, 0] == 2.0
    assert v.name == "w" and v.shape == (2, 3) and v.trainable


def test_variable_assign_rejects_wrong_shape_with_shapes_in_message():
    v = pydl.Variable(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        v.assign(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="assign_add"):
        v.assign_add(np.zeros(4))


def test_variable_from_initializer_needs_shape():
    v = pydl.Variable(pydl.initializers.Ones(), shape=(2, 2))
    np.testing.assert_array_equal(v.numpy(), np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        pydl.Variable(pydl.initializers.Ones())


def test_variables_hash_by_identity_and_work_as_arrays():
    a, b = pydl.Variable([1.0, 2.0]), pydl.Variable([1.0, 2.0])
    assert len({a, b}) == 2 and a in [b, a]
    np.testing.assert_array_equal(np.asarray(a), [1.0, 2.0])
    np.testing.assert_array_equal(np.asarray(a + b), [2.0, 4.0])


def test_tensor_reads_like_an_array():
    t = ops.add(np.arange(6.0).reshape(2, 3), 0.0)
    assert isinstance(t, Tensor)
    assert t.shape == (2, 3) and t.ndim == 2 and len(t) == 2 and t.dtype == np.float64
    np.testing.assert_array_equal(np.asarray(t), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(t.numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(np.asarray(t[1, 1:]), [4.0, 5.0])
    np.testing.assert_array_equal(np.asarray(t.T), np.arange(6.0).reshape(2, 3).T)
    assert float(t[0, 2]) == 2.0
    assert (t > 2).dtype == bool and (t == 1).sum() == 1


def test_tensor_operators_match_numpy():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = ops.add(a, 0.0)
    np.testing.assert_allclose(np.asarray(-t + 2 * t - t / 2 * 3 + t ** 2), -a + 2 * a - a / 2 * 3 + a ** 2)
    np.testing.assert_allclose(np.asarray(a - t), 0.0)  # ndarray on the left
    np.testing.assert_allclose(np.asarray(1.0 / t), 1.0 / a)
    np.testing.assert_allclose(np.asarray(2.0 ** t), 2.0 ** a)


def test_result_dtype_follows_float_inputs():
    f32 = np.ones(3, np.float32)
    f64 = np.ones(3, np.float64)
    ints = np.ones(3, np.int64)
    assert ops.add(f32, 1.5).dtype == np.float32
    assert ops.add(f32, np.float64(1.5)).dtype == np.float32  # NumPy scalars are weak
    assert ops.add(f32, f64).dtype == np.float64
    assert ops.add(ints, ints).dtype == np.float32
    assert ops.add(ints, f64).dtype == np.float64
    assert ops.multiply(2, 3).dtype == np.float32


def test_python_lists_convert_to_float32():
    assert ops.add([1.0, 2.0], [3.0, 4.0]).dtype == np.float32
    assert ops.add([1.0, 2.0], np.zeros(2)).dtype == np.float64
