"""The GradientTape training step a plan must reproduce bit for bit.

`tape_steps` trains Variables with `pydl.ops` (dense, activations, the loss
functions), `GradientTape.gradient` and `Optimizer.apply_gradients`, on the
same batches a plan takes: indices[first + k*batch : first + (k+1)*batch].
"""

from __future__ import annotations

import numpy as np

import pydl
from pydl import ops

LOSS_FUNCTIONS = {
    "mse": ops.mean_squared_error,
    "mae": ops.mean_absolute_error,
    "huber": ops.huber,
    "binary_crossentropy": ops.binary_crossentropy,
    "categorical_crossentropy": ops.categorical_crossentropy,
    "sparse_categorical_crossentropy": ops.sparse_categorical_crossentropy,
}


def forward(layers, variables, x):
    """`layers` as a plan takes them, with their weights given as `variables` (in order)."""
    h = x
    it = iter(variables)
    for spec in layers:
        if spec[0] == "dense":
            w = next(it)
            b = next(it) if spec[2] is not None else None
            h = ops.dense(h, w, b, spec[3])  # by name: the activation's default alpha
        else:
            h = _activation(spec[1], spec[2])(h)
    return h


def _activation(name, alpha):
    fn = getattr(ops, name)
    if name in ("leaky_relu", "elu"):
        return lambda t: fn(t, alpha)
    return fn


def tape_steps(layers, variables, optimizer, loss, x, y, indices, batch, steps, first=0,
               sample_weight=None, from_logits=False, delta=1.0):
    """Runs `steps` tape steps; returns the float32 losses and the predictions of each step."""
    kwargs = {}
    if loss in ("binary_crossentropy", "categorical_crossentropy",
                "sparse_categorical_crossentropy"):
        kwargs["from_logits"] = from_logits
    if loss == "huber":
        kwargs["delta"] = delta
    losses, predictions = [], []
    for k in range(steps):
        rows = indices[first + k * batch:first + (k + 1) * batch]
        xb, yb = x[rows], y[rows]
        swb = None if sample_weight is None else sample_weight[rows]
        with pydl.GradientTape() as tape:
            out = forward(layers, variables, xb)
            value = LOSS_FUNCTIONS[loss](yb, out, sample_weight=swb, **kwargs)
        grads = tape.gradient(value, variables)
        optimizer.apply_gradients(zip(grads, variables))
        losses.append(np.float32(np.asarray(value)))
        predictions.append(np.asarray(out).copy())
    return np.array(losses, np.float32), np.concatenate(predictions)
