"""Activation functions (Keras names), usable as `activation=` strings or callables.

Each is a differentiable `pydl.ops` call: `pydl.activations.relu(x)` inside a
GradientTape is recorded. `get` resolves an identifier, `serialize` names one.
"""

from __future__ import annotations

from . import ops
from .ops.activation import ALIASES, CORE_ACTIVATIONS
from .ops.activation import elu, gelu, leaky_relu, linear, selu, sigmoid, silu, softmax
from .ops.activation import softplus, swish, tanh


def relu(x, negative_slope: float = 0.0, max_value=None, threshold: float = 0.0):
    """`max(x, 0)`; with Keras' options: slope below `threshold`, cap at `max_value`."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    shifted = ops.subtract(x, threshold) if threshold else x
    out = ops.where(ops.convert_to_numpy(x) >= threshold, x,
                    ops.multiply(negative_slope, shifted))
    if max_value is not None:
        out = ops.minimum(out, max_value)
    return out


relu._pydl_activation = ("relu", 0.0)

_FUNCTIONS = {
    "linear": linear, "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "leaky_relu": leaky_relu, "elu": elu, "selu": selu, "gelu": gelu, "softplus": softplus,
    "silu": silu, "swish": swish,
}
assert set(_FUNCTIONS) == set(CORE_ACTIVATIONS) | set(ALIASES)
_NAMES = {fn: name for name, fn in _FUNCTIONS.items() if name not in ALIASES}
_NAMES[ops.relu] = "relu"


def get(identifier):
    """The activation function for `identifier`: a name, a callable, or None (linear).

    A dict `{"class_name": name, ...}` (Keras serialization) is accepted too.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, dict) and "class_name" in identifier:
        identifier = identifier["class_name"]
    if isinstance(identifier, str):
        fn = _FUNCTIONS.get(identifier.lower())
        if fn is None:
            raise ValueError(f"activation: unknown name {identifier!r}; expected one of "
                             f"{', '.join(sorted(_FUNCTIONS))}")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"activation: expected a name, a callable or None, received {identifier!r}")


def serialize(activation) -> str:
    """The name of an activation function (a custom function: its `__name__`)."""
    activation = get(activation)
    name = _NAMES.get(activation)
    if name is not None:
        return name
    return getattr(activation, "__name__", type(activation).__name__)


__all__ = ["elu", "gelu", "get", "leaky_relu", "linear", "relu", "selu", "serialize", "sigmoid",
           "silu", "softmax", "softplus", "swish", "tanh"]
