"""A custom layer trained in a GradientTape loop, with no backward code of its own.

    python examples/custom_layer_tape.py    # prints the loss as it falls and the final accuracy

The layer is the `Linear` of pydl's API page: `build` makes its weights, `call`
writes the forward pass with `pydl.ops`; the tape differentiates it.
"""

import argparse

import numpy as np

import pydl


class Linear(pydl.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros")

    def call(self, x):
        return pydl.ops.sigmoid(pydl.ops.matmul(x, self.w) + self.b)


def make_data(n=512, features=4, seed=0):
    """Points labelled by a hidden linear rule: can a sigmoid unit learn it?"""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, features)).astype("float32")
    true_w = np.array([[1.5], [-2.0], [0.5], [1.0]], dtype="float32")
    y = (x @ true_w + 0.25 > 0).astype("float32")
    return x, y


def main(steps=200, batch_size=64, verbose=True):
    pydl.utils.set_random_seed(0)
    x, y = make_data()
    layer = Linear(1)
    loss_fn = pydl.losses.BinaryCrossentropy()
    optimizer = pydl.optimizers.Adam(learning_rate=0.05)
    rng = np.random.default_rng(0)
    for step in range(steps):
        batch = rng.choice(len(x), batch_size, replace=False)
        with pydl.GradientTape() as tape:
            y_pred = layer(x[batch], training=True)
            loss = loss_fn(y[batch], y_pred)
        grads = tape.gradient(loss, layer.trainable_weights)
        optimizer.apply_gradients(zip(grads, layer.trainable_weights))
        if verbose and step % 50 == 0:
            print(f"step {step:4d}: loss {float(loss):.4f}")
    accuracy = float(np.mean((np.asarray(layer(x)) > 0.5) == y))
    print(f"custom layer + GradientTape: accuracy {accuracy:.4f} after {steps} steps")
    return accuracy


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    main(parser.parse_args().steps)
