"""Models inside models (Functional/Sequential both ways) and layers shared between calls."""

import numpy as np
import pytest

import pydl
from pydl import layers

R = np.random.default_rng(11)


def value(t):
    return np.asarray(t)


def inner_functional(name="inner"):
    a = pydl.Input(shape=(4,), name=f"{name}_in")
    return pydl.Model(a, layers.Dense(3, activation="tanh", name=f"{name}_h")(a), name=name)


def test_functional_in_functional_symbolic_and_eager():
    inner = inner_functional()
    x = pydl.Input(shape=(4,), name="x")
    y = inner(x)
    assert y.shape == (None, 3) and y._keras_history.layer is inner
    outer = pydl.Model(x, layers.Dense(2, name="top")(y))
    assert [l.name for l in outer.layers] == ["x", "inner", "top"]
    assert outer.weights == inner.weights + outer.get_layer("top").weights
    v = R.normal(size=(5, 4)).astype("f4")
    np.testing.assert_array_equal(value(outer(v)), value(outer.get_layer("top")(inner(v))))


def test_sequential_in_functional_and_functional_in_sequential():
    seq = pydl.Sequential([layers.Dense(6, name="s1"), layers.Dense(3, name="s2")], name="seq")
    x = pydl.Input(shape=(4,))
    y = seq(x)  # builds the Sequential from the symbolic input
    assert seq.built and y.shape == (None, 3)
    model = pydl.Model(x, layers.Dense(1)(y))
    v = R.normal(size=(2, 4)).astype("f4")
    np.testing.assert_array_equal(value(model(v)), value(model.layers[-1](seq(v))))

    inner = inner_functional("f")
    stack = pydl.Sequential([pydl.Input(shape=(4,)), inner, layers.Dense(2)])
    assert stack.output_shape == (None, 2) and stack.layers[0] is inner
    np.testing.assert_array_equal(value(stack(v[:, :4])), value(stack.layers[1](inner(v))))
    assert len(stack.weights) == 4


def test_a_model_called_twice_shares_its_weights():
    inner = inner_functional("twice")
    a, b = pydl.Input(shape=(4,)), pydl.Input(shape=(4,))
    model = pydl.Model([a, b], layers.subtract([inner(a), inner(b)]))
    assert len(inner._inbound_nodes) == 2 and len(model.weights) == 2
    v = R.normal(size=(3, 4)).astype("f4")
    np.testing.assert_allclose(value(model([v, v])), 0.0)


def test_nested_model_shape_mismatch_is_an_error():
    inner = inner_functional("narrow")
    with pytest.raises(ValueError, match=r"Input 'narrow_in' of model 'narrow'.*\(None, 4\).*"
                                         r"\(None, 5\)"):
        inner(pydl.Input(shape=(5,)))
    seq = pydl.Sequential([pydl.Input(shape=(3,)), layers.Dense(2)], name="s3")
    with pytest.raises(ValueError, match=r"model 's3' is incompatible.*\(None, 3\).*\(None, 7\)"):
        seq(pydl.Input(shape=(7,)))


def test_three_levels_and_gradients_reach_every_weight():
    level1 = inner_functional("l1")
    x2 = pydl.Input(shape=(4,))
    level2 = pydl.Model(x2, layers.Dense(4, name="l2d")(level1(x2)), name="l2")
    level3 = pydl.Sequential([pydl.Input(shape=(4,)), level2, layers.Dense(1, name="l3d")])
    x = pydl.Input(shape=(4,))
    model = pydl.Model(x, level3(x))
    v = R.normal(size=(6, 4)).astype("f4")
    with pydl.GradientTape() as tape:
        loss = pydl.ops.sum(model(v))
    grads = tape.gradient(loss, model.trainable_weights)
    assert len(grads) == 6 and all(g is not None and np.any(g != 0) for g in grads)


def test_shared_layer_gradients_from_both_uses_accumulate():
    shared = layers.Dense(3, name="shared", dtype="float64")
    a, b = pydl.Input(shape=(4,), dtype="float64"), pydl.Input(shape=(4,), dtype="float64")
    model = pydl.Model([a, b], layers.add([shared(a), shared(b)]))
    assert model.weights == shared.weights
    va, vb = R.normal(size=(5, 4)), R.normal(size=(5, 4))
    weights = R.normal(size=(5, 3))
    with pydl.GradientTape() as tape:
        loss = pydl.ops.sum(pydl.ops.multiply(model([va, vb]), weights))
    g_kernel, g_bias = tape.gradient(loss, [shared.kernel, shared.bias])
    # d/dW sum(w * (a W + b W + 2 bias)) = (a + b)^T w
    np.testing.assert_allclose(g_kernel, (va + vb).T @ weights, rtol=1e-12)
    np.testing.assert_allclose(g_bias, 2 * weights.sum(axis=0), rtol=1e-12)


def test_shared_layer_in_a_siamese_model_by_finite_differences():
    shared = layers.Dense(2, activation="tanh", dtype="float64")
    a, b = pydl.Input(shape=(3,), dtype="float64"), pydl.Input(shape=(3,), dtype="float64")
    model = pydl.Model([a, b], layers.multiply([shared(a), shared(b)]))
    va, vb = R.normal(size=(2, 3)), R.normal(size=(2, 3))
    kernel = shared.kernel

    def loss():
        return float(np.sum(np.asarray(model([va, vb]))))

    with pydl.GradientTape() as tape:
        target = pydl.ops.sum(model([va, vb]))
    analytic = tape.gradient(target, kernel)
    numeric = np.zeros_like(kernel.value)
    for index in np.ndindex(kernel.value.shape):
        saved = kernel.value[index]
        kernel.value[index] = saved + 1e-6
        plus = loss()
        kernel.value[index] = saved - 1e-6
        minus = loss()
        kernel.value[index] = saved
        numeric[index] = (plus - minus) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_keras_guide_ensembling_example():
    # keras.io "The Functional API": "All models are callable, just like layers".
    def get_model():
        inputs = pydl.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return pydl.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = pydl.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = pydl.Model(inputs=inputs, outputs=outputs)

    v = R.normal(size=(4, 128)).astype("f4")
    expected = (value(model1(v)) + value(model2(v)) + value(model3(v))) / 3
    np.testing.assert_allclose(value(ensemble_model(v)), expected, rtol=1e-6)
    assert len(ensemble_model.layers) == 5
