"""PyTorch's side: the same networks with torch.nn + torch.optim, eager or compiled.

Written as PyTorch users write them: nn.Sequential of Linear/ReLU, CrossEntropyLoss
on logits (softmax + cross-entropy fused, as pydl does), the stock optimizers with
their default implementation; batches are gathered with index_select into
preallocated tensors after a randperm, like the other competitors.
"""

from __future__ import annotations

import numpy as np


def import_torch():
    """(torch, None) or (None, reason)."""
    try:
        import torch
    except Exception as exc:
        return None, f"PyTorch not installed ({type(exc).__name__})"
    return torch, None


def build(net, torch):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(net.sizes[:-1], net.sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(net.sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    loss_fn = torch.nn.CrossEntropyLoss() if net.loss != "mse" else torch.nn.MSELoss()
    if net.optimizer == "sgd":
        optimizer = torch.optim.SGD(model.parameters(), lr=net.learning_rate, momentum=0.9)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=net.learning_rate, eps=1e-7)
    return model, loss_fn, optimizer


def epoch_fn(net, x: np.ndarray, y: np.ndarray, torch, compiled: bool, autocast=None):
    """A callable running one epoch (shuffle, gather, step per batch); returns last loss.

    autocast: a dtype (torch.bfloat16) to run forward and loss under
    ``torch.autocast("cpu", dtype=autocast)``, PyTorch's documented mixed precision."""
    model, loss_fn, optimizer = build(net, torch)
    X = torch.from_numpy(x)
    Y = torch.from_numpy(y.astype(np.int64) if net.loss != "mse" else y)
    xb = torch.empty((net.batch,) + tuple(X.shape[1:]), dtype=X.dtype)
    yb = torch.empty((net.batch,) + tuple(Y.shape[1:]), dtype=Y.dtype)
    forward = torch.compile(model) if compiled else model
    step_optimizer = optimizer.step
    if compiled:
        # The documented way to compile an optimizer step (torch.compile tutorials).
        step_optimizer = torch.compile(optimizer.step, fullgraph=False)
    generator = torch.Generator().manual_seed(0)
    n = X.shape[0]

    def run_epoch():
        order = torch.randperm(n, generator=generator)
        loss = None
        for start in range(0, n - net.batch + 1, net.batch):
            index = order[start:start + net.batch]
            torch.index_select(X, 0, index, out=xb)
            torch.index_select(Y, 0, index, out=yb)
            optimizer.zero_grad(set_to_none=True)
            if autocast is None:
                loss = loss_fn(forward(xb), yb)
            else:
                with torch.autocast("cpu", dtype=autocast):
                    loss = loss_fn(forward(xb), yb)
            loss.backward()
            step_optimizer()
        return float(loss.detach())

    return run_epoch


def predict_fn(net, torch, compiled: bool):
    model, _, _ = build(net, torch)
    model.eval()
    forward = torch.compile(model) if compiled else model
    softmax = net.loss != "mse"

    def predict(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = forward(torch.from_numpy(x))
            if softmax:
                out = torch.softmax(out, dim=1)
            return out.numpy()

    return predict
