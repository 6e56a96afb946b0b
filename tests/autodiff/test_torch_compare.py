"""Optional: forward values and gradients of random op compositions against torch.autograd."""

from __future__ import annotations

import numpy as np
import pytest

import pydl
from pydl import ops


torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

UNARY = [
    (ops.relu, torch.relu), (ops.sigmoid, torch.sigmoid), (ops.tanh, torch.tanh),
    (ops.softmax, lambda t: torch.softmax(t, -1)), (ops.exp, torch.exp),
    (lambda x: ops.log(ops.abs(x) + 1.0), lambda t: torch.log(torch.abs(t) + 1.0)),
    (ops.square, torch.square), (lambda x: ops.sqrt(ops.abs(x) + 0.1),
                                 lambda t: torch.sqrt(torch.abs(t) + 0.1)),
    (ops.elu, torch.nn.functional.elu), (ops.selu, torch.selu),
    (ops.gelu, torch.nn.functional.gelu), (ops.softplus, torch.nn.functional.softplus),
    (ops.silu, torch.nn.functional.silu),
    (ops.leaky_relu, lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
    (lambda x: ops.clip(x, -0.5, 0.5), lambda t: torch.clamp(t, -0.5, 0.5)),
    (lambda x: ops.mean(x, axis=0, keepdims=True), lambda t: t.mean(0, keepdim=True)),
    (lambda x: ops.max(x, axis=-1, keepdims=True), lambda t: t.amax(-1, keepdim=True)),
]
BINARY = [
    (ops.add, torch.add), (ops.subtract, torch.sub), (ops.multiply, torch.mul),
    (lambda a, b: ops.divide(a, ops.abs(b) + 1.0), lambda a, b: a / (torch.abs(b) + 1.0)),
    (ops.maximum, torch.maximum),
]


@pytest.mark.parametrize("seed", range(12))
def test_random_compositions_match_torch(seed):
    rng = np.random.default_rng(seed)
    x0 = rng.normal(size=(4, 6))
    w0 = rng.normal(size=(6, 6)) * 0.5
    x = pydl.Variable(x0, dtype="float64")
    w = pydl.Variable(w0, dtype="float64")
    tx = torch.tensor(x0, requires_grad=True)
    tw = torch.tensor(w0, requires_grad=True)
    with pydl.GradientTape() as tape:
        h, th = ops.matmul(x, w), tx @ tw
        for _ in range(4):
            if rng.uniform() < 0.6:
                f, tf = UNARY[rng.integers(len(UNARY))]
                h, th = f(h), tf(th)
            else:
                f, tf = BINARY[rng.integers(len(BINARY))]
                h, th = f(h, x), tf(th, tx)
        weights = rng.normal(size=np.shape(np.asarray(h)))
        loss = ops.sum(h * weights)
    tloss = (th * torch.tensor(weights)).sum()
    tloss.backward()
    np.testing.assert_allclose(float(loss), tloss.item(), rtol=1e-9, atol=1e-12)
    dx, dw = tape.gradient(loss, [x, w])
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-7, atol=1e-10)
