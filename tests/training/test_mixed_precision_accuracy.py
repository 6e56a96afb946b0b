"""mixed_bfloat16 learns as well as float32: the bundled digits and a 784-512-256-10
teacher problem reach the same test accuracy within 0.3 points, and gradients agree with
float32's within the tolerance docs/mixed_precision.md states (issue 16).

The accuracy criterion compares means over a few seeds: one run's difference is mostly the
run-to-run chaos of training (on digits one test image is 0.28 points), with the same sign
as often one way as the other; the mean shows the precision's effect."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import layers

MIXED = "mixed_bfloat16"


def trained_accuracy(policy, seed, data, widths, activation, epochs, batch_size, lr):
    (x_train, y_train), (x_test, y_test) = data
    pydl.utils.set_random_seed(seed)
    hidden = [layers.Dense(w, activation=activation, dtype=policy) for w in widths[1:-1]]
    model = pydl.Sequential([pydl.Input(shape=(widths[0],)), *hidden,
                             layers.Dense(widths[-1], activation="softmax", dtype=policy)])
    model.compile(optimizer=pydl.optimizers.Adam(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def mean_accuracies(seeds, **kwargs):
    f32 = np.mean([trained_accuracy("float32", s, **kwargs) for s in seeds])
    mixed = np.mean([trained_accuracy(MIXED, s, **kwargs) for s in seeds])
    return 100 * f32, 100 * mixed


def test_digits_within_a_third_of_a_point(mixed_precision):
    pytest.importorskip("sklearn")
    (x_train, y_train), (x_test, y_test) = pydl.datasets.digits.load_data()
    data = ((x_train.reshape(len(x_train), 64).astype(np.float32) / 16, y_train),
            (x_test.reshape(len(x_test), 64).astype(np.float32) / 16, y_test))
    f32, mixed = mean_accuracies(range(5), data=data, widths=(64, 128, 10), activation="relu",
                                 epochs=40, batch_size=32, lr=0.003)  # examples/digits.py
    assert mixed > 97.0
    assert abs(mixed - f32) <= 0.3, (f32, mixed)


def teacher_data(n_train=4096, n_test=2000, seed=0):
    """Labels from a linear teacher on a 16-dimensional latent, seen through a random
    projection to 784 features plus noise: learnable to ~87%, not to 100%."""
    rng = np.random.default_rng(seed)
    teacher = rng.standard_normal((16, 10)).astype(np.float32) / 4
    projection = rng.standard_normal((16, 784)).astype(np.float32) / 4
    n = n_train + n_test
    latent = rng.standard_normal((n, 16)).astype(np.float32)
    x = latent @ projection + 0.5 * rng.standard_normal((n, 784)).astype(np.float32)
    y = np.argmax(latent @ teacher, axis=1)
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


@pytest.mark.slow
def test_teacher_784_512_256_10_within_a_third_of_a_point(mixed_precision):
    f32, mixed = mean_accuracies(range(3), data=teacher_data(), widths=(784, 512, 256, 10),
                                 activation="relu", epochs=3, batch_size=128, lr=3e-4)
    assert mixed > 84.0
    assert abs(mixed - f32) <= 0.3, (f32, mixed)


def gradients(policy, activation, x, y):
    pydl.utils.set_random_seed(3)
    model = pydl.Sequential([pydl.Input(shape=(784,)),
                             layers.Dense(512, activation=activation, dtype=policy),
                             layers.Dense(256, activation=activation, dtype=policy),
                             layers.Dense(10, activation="softmax", dtype=policy)])
    with pydl.GradientTape() as tape:
        loss = pydl.losses.SparseCategoricalCrossentropy()(y, model(x, training=True))
    return float(loss), [np.asarray(g, np.float64)
                         for g in tape.gradient(loss, model.trainable_weights)]


@pytest.mark.parametrize("activation", ["tanh", "gelu", "relu"])
def test_gradients_agree_with_float32_within_bf16_tolerance(mixed_precision, activation):
    """Per tensor, ||g_mixed - g_f32|| / ||g_f32|| <= 2**-6 with smooth activations (about
    3x the measured ~0.5%); with ReLU a pre-activation within rounding of zero flips its
    mask, which moves whole entries of the lower layers' gradients: <= 0.1 (measured ~6%)
    and still pointing the same way (cosine >= 0.995). The loss within 2**-8."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    loss32, g32 = gradients("float32", activation, x, y)
    loss16, g16 = gradients(MIXED, activation, x, y)
    assert abs(loss16 - loss32) <= 2.0 ** -8 * abs(loss32)
    for a, b in zip(g32, g16):
        relative = np.linalg.norm(b - a) / np.linalg.norm(a)
        if activation == "relu":
            assert relative <= 0.1
            assert np.dot(a.ravel(), b.ravel()) / (np.linalg.norm(a) * np.linalg.norm(b)) >= 0.995
        else:
            assert relative <= 2.0 ** -6
