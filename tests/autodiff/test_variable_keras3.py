"""`pydl.Variable` with Keras 3's signature, and Tensors / Variables used as numbers
(formatting, float, int, round) as the book's hand-written training loop does."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops


def test_variable_from_an_initializer_name_object_or_callable():
    pydl.utils.set_random_seed(0)
    w = pydl.Variable("glorot_uniform", shape=(3, 2), name="w")
    assert w.shape == (3, 2) and w.dtype == np.float32 and w.name == "w"
    limit = np.sqrt(6 / (3 + 2))
    assert np.all(np.abs(w.numpy()) <= limit) and w.numpy().std() > 0
    z = pydl.Variable(initializer="zeros", shape=(4,), dtype="float64", trainable=False)
    assert z.dtype == np.float64 and not z.trainable and not z.numpy().any()
    c = pydl.Variable(pydl.initializers.Constant(2.5), (2, 2))  # Keras 3 order: shape second
    np.testing.assert_array_equal(c.numpy(), np.full((2, 2), 2.5, np.float32))
    f = pydl.Variable(lambda shape, dtype: np.arange(np.prod(shape)).reshape(shape), shape=(2, 3))
    assert f.dtype == np.float32
    np.testing.assert_array_equal(f.numpy(), np.arange(6.0).reshape(2, 3))
    d = pydl.Variable({"class_name": "Ones", "config": {}}, shape=(1,))
    np.testing.assert_array_equal(d.numpy(), [1.0])


def test_variable_from_an_array_keeps_working():
    a = pydl.Variable(np.zeros((2, 2), np.float64), name="a")
    assert a.dtype == np.float64 and a.name == "a" and a.trainable
    b = pydl.Variable(initial_value=[1, 2], trainable=False)  # the older keyword
    assert b.dtype == np.float32 and not b.trainable
    np.testing.assert_array_equal(pydl.Variable([[1.0, 2.0]], shape=(1, 2)).numpy(), [[1, 2]])
    s = pydl.Variable(np.array([3, 4]), dtype="int64")
    assert s.dtype == np.int64


def test_variable_errors_name_the_argument():
    with pytest.raises(ValueError, match="`shape` is required when the initializer is a name"):
        pydl.Variable("zeros")
    with pytest.raises(ValueError, match="unknown name 'zeroes'"):
        pydl.Variable("zeroes", shape=(2,))
    with pytest.raises(ValueError, match=r"has shape \(2,\), expected shape=\(3,\)"):
        pydl.Variable([1.0, 2.0], shape=(3,))
    with pytest.raises(TypeError, match=r"shape must be a tuple of ints >= 0, received shape=False "
                                        r"\(the arguments are, in Keras 3's order"):
        pydl.Variable([1.0], False)
    with pytest.raises(TypeError, match="dtype must be a NumPy dtype name"):
        pydl.Variable([1.0], dtype="floaty")
    with pytest.raises(TypeError, match="received None"):
        pydl.Variable()
    with pytest.raises(TypeError, match="either `initializer` or `initial_value`"):
        pydl.Variable("zeros", shape=(1,), initial_value=[1.0])


def test_a_scalar_loss_formats_like_a_numpy_scalar():
    x = np.array([[0.5, -1.0], [2.0, 1.5]], np.float32)
    w = pydl.Variable(np.ones((2, 1), np.float32))
    with pydl.GradientTape() as tape:
        loss = ops.mean(ops.square(ops.matmul(x, w) - 1.0))
    expected = np.float32(np.mean(np.square(x @ np.ones((2, 1), np.float32) - 1.0)))
    assert f"{loss:.2f}" == f"{expected:.2f}"
    assert format(loss, "e") == format(expected, "e")
    assert f"loss at step 3: {loss:.4f}" == f"loss at step 3: {expected:.4f}"
    assert float(loss) == float(expected) and int(loss) == int(expected)
    assert round(loss, 2) == round(expected, 2) and round(loss) == round(expected)
    assert f"{loss}" == str(loss) and "Tensor(" in f"{loss}"
    assert tape.gradient(loss, w).shape == (2, 1)  # formatting did not disturb the tape
    v = pydl.Variable(np.float64(2.345))
    assert f"{v:.1f}" == "2.3" and round(v, 1) == 2.3
    assert list(range(ops.argmax([1, 5, 2]))) == [0]  # 0-d int Tensors index like NumPy's


def test_only_scalars_format_as_numbers():
    t = ops.add(np.ones(2), 0.0)
    with pytest.raises(TypeError, match=r"format: only a scalar \(0-d\).*shape \(2,\)"):
        f"{t:.2f}"
    with pytest.raises(TypeError, match=r"round: only a scalar"):
        round(t, 1)
    with pytest.raises(TypeError):
        range(ops.add(np.float32(1.0), 0.0))  # a float is no index, as in NumPy
