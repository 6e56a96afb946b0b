"""Merge layers: values against NumPy, shapes, errors, finite-difference gradients."""

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.testing import gradcheck

R = np.random.default_rng(21)

ELEMENTWISE = [
    (layers.Add, layers.add, lambda xs: sum(xs)),
    (layers.Multiply, layers.multiply, lambda xs: np.prod(np.stack(xs), axis=0)),
    (layers.Average, layers.average, lambda xs: sum(xs) / len(xs)),
    (layers.Maximum, layers.maximum, lambda xs: np.max(np.stack(xs), axis=0)),
    (layers.Minimum, layers.minimum, lambda xs: np.min(np.stack(xs), axis=0)),
]


@pytest.mark.parametrize("cls, fn, reference", ELEMENTWISE,
                         ids=lambda v: getattr(v, "__name__", ""))
def test_elementwise_values_and_function_form(cls, fn, reference):
    xs = [R.normal(size=(4, 3)).astype("f4") for _ in range(3)]
    np.testing.assert_allclose(np.asarray(cls()(xs)), reference(xs), rtol=1e-6)
    symbolic = fn([pydl.Input(shape=(3,)) for _ in range(3)])
    assert isinstance(symbolic._keras_history.layer, cls) and symbolic.shape == (None, 3)


def test_subtract_takes_exactly_two_inputs():
    a, b = R.normal(size=(2, 3)), R.normal(size=(2, 3))
    np.testing.assert_allclose(np.asarray(layers.Subtract()([a, b])), (a - b).astype("f4"))
    assert layers.subtract([pydl.Input(shape=(3,)), pydl.Input(shape=(3,))]).shape == (None, 3)
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.subtract([pydl.Input(shape=(3,))] * 3)


def test_elementwise_broadcasting_follows_keras():
    # (None, 5) with (None, 3, 5): the lower rank gains an axis after the batch axis.
    out = layers.add([pydl.Input(shape=(5,)), pydl.Input(shape=(3, 5))])
    assert out.shape == (None, 3, 5)
    assert layers.multiply([pydl.Input(shape=(1, 4)), pydl.Input(shape=(3, 1))]).shape == \
        (None, 3, 4)
    a, b = R.normal(size=(2, 5)), R.normal(size=(2, 3, 5))
    np.testing.assert_allclose(np.asarray(layers.Add(dtype="float64")([a, b])), a[:, None] + b)


def test_elementwise_shape_errors():
    with pytest.raises(ValueError, match=r"incompatible shapes.*\(3,\).*\(4,\)"):
        layers.add([pydl.Input(shape=(3,)), pydl.Input(shape=(4,))])
    with pytest.raises(ValueError, match="different batch sizes"):
        layers.add([pydl.Input(shape=(3,), batch_size=2), pydl.Input(shape=(3,), batch_size=4)])
    with pytest.raises(ValueError, match="list of at least 1 input"):
        layers.Add()(pydl.Input(shape=(3,)))


def test_concatenate_values_shapes_and_axis():
    a, b = R.normal(size=(2, 3, 4)).astype("f4"), R.normal(size=(2, 3, 1)).astype("f4")
    np.testing.assert_array_equal(np.asarray(layers.Concatenate()([a, b])),
                                  np.concatenate([a, b], axis=-1))
    np.testing.assert_array_equal(np.asarray(layers.Concatenate(axis=1)([a, a])),
                                  np.concatenate([a, a], axis=1))
    out = layers.concatenate([pydl.Input(shape=(3, 4)), pydl.Input(shape=(3, 1))])
    assert out.shape == (None, 3, 5)
    assert layers.concatenate([pydl.Input(shape=(None, 2)), pydl.Input(shape=(3, 2))],
                              axis=1).shape == (None, None, 2)
    assert layers.Concatenate(axis=1).get_config()["axis"] == 1


def test_concatenate_errors():
    with pytest.raises(ValueError, match=r"matching shapes except for the concatenation axis"):
        layers.concatenate([pydl.Input(shape=(3, 4)), pydl.Input(shape=(2, 4))])
    with pytest.raises(ValueError, match="matching shapes"):
        layers.concatenate([pydl.Input(shape=(3,)), pydl.Input(shape=(3, 1))])
    with pytest.raises(TypeError, match="axis"):
        layers.Concatenate(axis="last")


@pytest.mark.parametrize("axes, shape_a, shape_b, expected", [
    (1, (5,), (5,), (None, 1)),
    (-1, (3, 5), (4, 5), (None, 3, 4)),
    ((2, 1), (3, 5), (5, 2), (None, 3, 2)),
    ((1, 1), (3, 5), (3, 2), (None, 5, 2)),
])
def test_dot_shapes_and_values(axes, shape_a, shape_b, expected):
    out = layers.Dot(axes)([pydl.Input(shape=shape_a), pydl.Input(shape=shape_b)])
    assert out.shape == expected
    a, b = R.normal(size=(2,) + shape_a), R.normal(size=(2,) + shape_b)
    ax, bx = (axes, axes) if isinstance(axes, int) else axes
    ax, bx = ax % len(a.shape), bx % len(b.shape)
    ref = np.stack([np.tensordot(a[i], b[i], axes=(ax - 1, bx - 1)) for i in range(2)])
    ref = ref.reshape(2, 1) if ref.ndim == 1 else ref
    np.testing.assert_allclose(np.asarray(layers.Dot(axes, dtype="float64")([a, b])), ref,
                               rtol=1e-12)


def test_dot_normalize_is_the_cosine_similarity():
    a, b = R.normal(size=(4, 6)), R.normal(size=(4, 6))
    cos = np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    got = layers.dot([a, b], axes=1, normalize=True, dtype="float64")
    np.testing.assert_allclose(np.asarray(got), cos[:, None], rtol=1e-12)


def test_dot_errors():
    with pytest.raises(ValueError, match=r"axis values 5 \(at axis 1\) != 4 \(at axis 1\)"):
        layers.Dot(1)([pydl.Input(shape=(5,)), pydl.Input(shape=(4,))])
    with pytest.raises(ValueError, match="list of 2 inputs"):
        layers.Dot(1)([pydl.Input(shape=(5,))] * 3)
    with pytest.raises(ValueError, match="batch axis"):
        layers.Dot(0)([pydl.Input(shape=(5,))] * 2)
    with pytest.raises(TypeError, match="axes"):
        layers.Dot("last")
    with pytest.raises(TypeError, match="normalize"):
        layers.Dot(1, normalize="yes")


# -- gradients by central finite differences, in float64 -----------------------------------
WEIGHTS = R.normal(size=(3, 2, 4))


def weighted(out):
    """A target that weighs every output element differently (catches transposed gradients)."""
    w = WEIGHTS.reshape(-1)[: int(np.prod(out.shape))].reshape(out.shape)
    return pydl.ops.sum(pydl.ops.multiply(out, w))


GRADIENTS = [
    ("add", lambda a, b, c: layers.Add(dtype="float64")([a, b, c])),
    ("subtract", lambda a, b, c: layers.Subtract(dtype="float64")([a, b])),
    ("multiply", lambda a, b, c: layers.Multiply(dtype="float64")([a, b, c])),
    ("average", lambda a, b, c: layers.Average(dtype="float64")([a, b, c])),
    ("maximum", lambda a, b, c: layers.Maximum(dtype="float64")([a, b, c])),
    ("minimum", lambda a, b, c: layers.Minimum(dtype="float64")([a, b, c])),
    ("concatenate", lambda a, b, c: layers.Concatenate(dtype="float64")([a, b, c])),
    ("concatenate_axis1", lambda a, b, c: layers.Concatenate(axis=1, dtype="float64")([a, c])),
    ("dot", lambda a, b, c: layers.Dot(1, dtype="float64")([a, b])),
    ("dot_normalized", lambda a, b, c: layers.Dot(1, normalize=True, dtype="float64")([a, c])),
]


@pytest.mark.parametrize("name, fn", GRADIENTS, ids=[g[0] for g in GRADIENTS])
def test_merge_gradients_by_finite_differences(name, fn):
    a, b, c = (R.normal(size=(2, 4)) for _ in range(3))
    assert gradcheck(lambda a, b, c: weighted(fn(a, b, c)), [a, b, c])


def test_broadcast_merge_and_batched_dot_gradients():
    a, b = R.normal(size=(2, 4)), R.normal(size=(2, 3, 4))
    assert gradcheck(lambda a, b: weighted(layers.Multiply(dtype="float64")([a, b])), [a, b])
    x, y = R.normal(size=(2, 3, 4)), R.normal(size=(2, 4, 2))
    assert gradcheck(lambda x, y: weighted(layers.Dot((2, 1), dtype="float64")([x, y])), [x, y])


def test_ops_maximum_minimum_broadcast_and_gradients():
    a, b = R.normal(size=(3, 4)), R.normal(size=(4,))
    np.testing.assert_array_equal(np.asarray(pydl.ops.maximum(a, b)), np.maximum(a, b))
    np.testing.assert_array_equal(np.asarray(pydl.ops.minimum(a, b)), np.minimum(a, b))
    assert gradcheck(lambda a, b: weighted(pydl.ops.maximum(a, b)), [a, b])
    assert gradcheck(lambda a, b: weighted(pydl.ops.minimum(a, b)), [a, b])


def test_merge_layers_config_round_trip():
    for layer in (layers.Add(name="x1"), layers.Concatenate(axis=1, name="x2"),
                  layers.Dot((1, 2), normalize=True, name="x3"), layers.Maximum(name="x4")):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
