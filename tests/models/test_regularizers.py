"""Regularizers: values, string aliases, serialization, and their effect on gradients."""

import numpy as np
import pytest

import pydl
from pydl import layers, regularizers


def test_values_match_formulas(rng):
    w = rng.standard_normal((4, 3))
    assert float(np.asarray(regularizers.L1(0.1)(w))) == pytest.approx(0.1 * np.abs(w).sum())
    assert float(np.asarray(regularizers.L2(0.2)(w))) == pytest.approx(0.2 * (w ** 2).sum())
    both = regularizers.L1L2(l1=0.1, l2=0.2)(w)
    assert float(np.asarray(both)) == pytest.approx(0.1 * np.abs(w).sum() + 0.2 * (w ** 2).sum())
    assert float(np.asarray(regularizers.L1L2()(w))) == 0.0


def test_get_aliases_and_serialize():
    assert isinstance(regularizers.get("l1"), regularizers.L1)
    assert regularizers.get("l2").l2 == pytest.approx(0.01)
    l1_l2 = regularizers.get("l1_l2")
    assert (l1_l2.l1, l1_l2.l2) == (0.01, 0.01)
    assert regularizers.get(None) is None
    reg = regularizers.L1L2(l1=0.5, l2=0.25)
    assert regularizers.get(regularizers.serialize(reg)).get_config() == reg.get_config()
    with pytest.raises(ValueError, match="'l3'"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match="l2=-1"):
        regularizers.L2(-1)


def test_kernel_regularizer_reaches_losses_and_gradients(rng):
    layer = layers.Dense(3, kernel_regularizer=regularizers.L2(0.5),
                         bias_regularizer=regularizers.L1(0.25), bias_initializer="ones")
    x = rng.standard_normal((5, 4)).astype(np.float64)
    layer(x.astype(np.float32))
    w, b = layer.get_weights()
    penalties = [float(np.asarray(p)) for p in layer.losses]
    assert sorted(penalties) == pytest.approx(sorted([0.5 * (w.astype(np.float64) ** 2).sum(),
                                                      0.25 * np.abs(b).sum()]), rel=1e-5)
    with pydl.GradientTape() as tape:
        total = pydl.ops.add(layer.losses[0], layer.losses[1])
    grad_w, grad_b = tape.gradient(total, [layer.kernel, layer.bias])
    np.testing.assert_allclose(grad_w, 0.5 * 2 * w, rtol=1e-5)
    np.testing.assert_allclose(grad_b, 0.25 * np.sign(b), rtol=1e-6)


def test_activity_regularizer_adds_a_loss_per_call(rng):
    layer = layers.Dense(2, activity_regularizer=regularizers.L2(1.0))
    x = rng.standard_normal((3, 4)).astype(np.float32)
    y = np.asarray(layer(x)).astype(np.float64)
    # Keras 3: an activity penalty is divided by the batch size (3 here)
    assert sum(float(np.asarray(p)) for p in layer.losses) == pytest.approx((y ** 2).sum() / 3,
                                                                           rel=1e-5)


def test_fit_with_strong_l2_shrinks_weights(rng):
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = x @ rng.standard_normal((5, 1)).astype(np.float32)
    norms = []
    for factor in (0.0, 1.0):
        pydl.utils.set_random_seed(0)
        model = pydl.Sequential([pydl.Input(shape=(5,)),
                                 layers.Dense(1, kernel_regularizer=regularizers.L2(factor))])
        model.compile(optimizer=pydl.optimizers.SGD(0.05), loss="mse")
        model.fit(x, y, epochs=20, batch_size=16, verbose=0)
        norms.append(np.linalg.norm(model.get_weights()[0]))
    assert norms[1] < 0.5 * norms[0]
