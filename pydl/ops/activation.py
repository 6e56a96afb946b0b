"""Activation ops on the C++ core (`_core.activation_forward` / `activation_backward`).

One recorded op per activation. The softmax and sigmoid results remember
their logits (`Tensor._logits`) so that a cross-entropy loss applied to them
can use the fused, stable logits kernel (pydl/ops/losses.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import contiguous, unary

# Names the core knows, with the default `alpha` of those that have one (Keras 3's).
CORE_ACTIVATIONS = {
    "linear": 0.0, "relu": 0.0, "sigmoid": 0.0, "tanh": 0.0, "softmax": 0.0,
    "leaky_relu": 0.2, "elu": 1.0, "selu": 0.0, "gelu": 0.0, "softplus": 0.0, "silu": 0.0,
}
ALIASES = {"swish": "silu"}


def core_activation(activation):
    """`(core_name, alpha)` for an activation identifier, or None for a custom callable.

    Accepts None (linear), a name, or a function of `pydl.activations` /
    `pydl.ops` (they carry a `_pydl_activation` attribute).
    """
    if activation is None:
        return "linear", 0.0
    if isinstance(activation, str):
        name = ALIASES.get(activation.lower(), activation.lower())
        if name not in CORE_ACTIVATIONS:
            valid = ", ".join(sorted(set(CORE_ACTIVATIONS) | set(ALIASES)))
            raise ValueError(f"activation: unknown name {activation!r}; expected one of {valid}")
        return name, CORE_ACTIVATIONS[name]
    spec = getattr(activation, "_pydl_activation", None)
    if spec is not None:
        return spec
    if callable(activation):
        return None
    raise TypeError(f"activation: expected a name, a callable or None, received {activation!r}")


def _tag(name, alpha=None):
    def mark(fn):
        fn._pydl_activation = (name, CORE_ACTIVATIONS[name] if alpha is None else alpha)
        return fn
    return mark


def apply(name: str, x, alpha: float = 0.0):
    """`name(x)` for a core activation name, over the last axis for softmax."""
    v, _ = unary(x)
    v = contiguous(v)
    out = np.empty_like(v)
    _core.activation_forward(name, v, out, alpha)
    rec = recording((x,))
    if rec is None:
        result = Tensor(out)
    else:
        def backward(g):
            dx = np.empty_like(v)
            _core.activation_backward(name, v, out, contiguous(g), dx, alpha)
            return (dx,)

        result = record(out, (x,), rec, backward)
    if name == "softmax" or name == "sigmoid":
        result._logits = (name, x)
    return result


@_tag("relu")
def relu(x):
    """`max(x, 0)`."""
    return apply("relu", x)


@_tag("sigmoid")
def sigmoid(x):
    """`1 / (1 + exp(-x))`."""
    return apply("sigmoid", x)


@_tag("tanh")
def tanh(x):
    """Hyperbolic tangent."""
    return apply("tanh", x)


@_tag("softmax")
def softmax(x, axis: int = -1):
    """`exp(x) / sum(exp(x), axis)`, computed stably."""
    v, _ = unary(x)
    if v.ndim == 0:
        raise ValueError("softmax: expected an input with at least 1 dimension, received a "
                         "scalar")
    if not -v.ndim <= axis < v.ndim:
        raise ValueError(f"softmax: axis {axis} is out of range for an input of shape {v.shape}")
    if axis % v.ndim == v.ndim - 1:
        return apply("softmax", x)
    from .shape import transpose  # another axis: move it last and back

    perm = list(range(v.ndim))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    return transpose(apply("softmax", transpose(x, perm)), perm)


@_tag("leaky_relu")
def leaky_relu(x, negative_slope: float = 0.2):
    """`x` if x > 0 else `negative_slope * x`."""
    return apply("leaky_relu", x, float(negative_slope))


@_tag("elu")
def elu(x, alpha: float = 1.0):
    """`x` if x > 0 else `alpha * (exp(x) - 1)`."""
    return apply("elu", x, float(alpha))


@_tag("selu")
def selu(x):
    """`scale * elu(x, alpha)` with Klambauer et al.'s constants."""
    return apply("selu", x)


@_tag("gelu")
def gelu(x, approximate: bool = False):
    """`x * Phi(x)` (exact erf form; `approximate=True`: the tanh form)."""
    if not approximate:
        return apply("gelu", x)
    from .math import add, multiply  # tanh form, as a composition of recorded ops

    inner = multiply(add(x, multiply(0.044715, multiply(x, multiply(x, x)))),
                     math.sqrt(2.0 / math.pi))
    return multiply(multiply(0.5, x), add(1.0, tanh(inner)))


@_tag("softplus")
def softplus(x):
    """`log(1 + exp(x))`, computed stably."""
    return apply("softplus", x)


@_tag("silu")
def silu(x):
    """`x * sigmoid(x)` (also called swish)."""
    return apply("silu", x)


swish = silu


@_tag("linear")
def linear(x):
    """The identity: returns `x` unchanged."""
    return x


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """`x - log(sum(exp(x), axis))`, computed stably (the max is subtracted first).

        out = (x - max) - log(sum(exp(x - max)))
        d/dx: g - softmax(x) * sum(g, axis)

    Unlike `log(softmax(x))`, it stays finite where softmax underflows to 0.

    Args:
        x: array, Tensor or Variable with at least 1 dimension.
        axis: the axis the softmax normalizes over.
    """
    v, _ = unary(x)
    if v.ndim == 0:
        raise ValueError("log_softmax: expected an input with at least 1 dimension, received a "
                         "scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"log_softmax: axis must be an int, received axis={axis!r}")
    if not -v.ndim <= axis < v.ndim:
        raise ValueError(f"log_softmax: axis {axis} is out of range for an input of shape "
                         f"{v.shape}")
    shifted = v - np.max(v, axis=axis, keepdims=True) if v.size else v.copy()
    shifted = contiguous(shifted)
    e = np.empty_like(shifted)
    _core.vexp(shifted, e)
    out = shifted - np.log(np.sum(e, axis=axis, keepdims=True))
    rec = recording((x,))
    if rec is None:
        return Tensor(out)

    def backward(g):
        softmax_ = np.exp(out)
        return (g - softmax_ * np.sum(g, axis=axis, keepdims=True),)

    return record(out, (x,), rec, backward)
