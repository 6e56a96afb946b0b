"""Weight regularizers: penalties that a layer adds to the training loss.

    penalty = l1 * sum(|w|) + l2 * sum(w ** 2)

A layer given ``kernel_regularizer=L2(1e-4)`` reports the penalty in
``layer.losses``; ``fit`` adds those to the loss, so they reach the gradients.
Strings resolve as in Keras: ``"l1"``, ``"l2"`` (0.01 each), ``"l1_l2"``
(0.01 and 0.01, as Keras' ``get`` does), ``"l1l2"``.

    layer = pydl.layers.Dense(64, kernel_regularizer=pydl.regularizers.L2(1e-4))
"""

from __future__ import annotations

import math

from .ops.penalty import weight_penalty


def _check_factor(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value < 0:
        raise ValueError(f"{name}: expected a finite float >= 0, received {name}={value!r}")
    return float(value)


class Regularizer:
    """Base class: ``regularizer(weight) -> scalar Tensor`` to add to the loss."""

    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__")

    def _plan_penalty(self):
        """(l1, l2) of the core's penalty kernel this regularizer is, or None (a custom
        regularizer: its model trains on the tape)."""
        return None

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Regularizer":
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x ** 2)``.

    Args:
        l1: factor of the L1 term (>= 0).
        l2: factor of the L2 term (>= 0).
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x):
        return weight_penalty(x, self.l1, self.l2)

    def _plan_penalty(self):
        """(l1, l2): the fused plan adds this penalty with the same core kernel (unless a
        subclass computes its own)."""
        return (self.l1, self.l2) if type(self).__call__ is L1L2.__call__ else None

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(l1={self.l1}, l2={self.l2})"


class L1(L1L2):
    """``l1 * sum(|x|)``.

    Args:
        l1: factor (>= 0), 0.01 by default as in Keras.
    """

    def __init__(self, l1: float = 0.01):
        super().__init__(l1=l1, l2=0.0)

    def get_config(self) -> dict:
        return {"l1": self.l1}

    def __repr__(self) -> str:
        return f"L1(l1={self.l1})"


class L2(L1L2):
    """``l2 * sum(x ** 2)``.

    Args:
        l2: factor (>= 0), 0.01 by default as in Keras.
    """

    def __init__(self, l2: float = 0.01):
        super().__init__(l1=0.0, l2=l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}

    def __repr__(self) -> str:
        return f"L2(l2={self.l2})"


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """Keras' ``l1_l2`` helper: an ``L1L2`` with both factors 0.01 by default."""
    return L1L2(l1=l1, l2=l2)


# Short names of Keras.
l1 = L1
l2 = L2

_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "Regularizer": Regularizer}
_ALIASES = {
    "l1": lambda: L1(),
    "l2": lambda: L2(),
    "l1_l2": lambda: L1L2(l1=0.01, l2=0.01),
    "l1l2": lambda: L1L2(l1=0.01, l2=0.01),
}


def serialize(regularizer) -> dict | None:
    """``{"class_name": ..., "config": ...}`` for saving, or None."""
    if regularizer is None:
        return None
    if not isinstance(regularizer, Regularizer):
        raise TypeError(
            f"regularizer: expected a pydl.regularizers.Regularizer to serialize, "
            f"received {type(regularizer).__name__}"
        )
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Regularizer:
    """The regularizer described by ``serialize``'s output."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"regularizer: expected a dict with 'class_name' and 'config', received {config!r}"
        )
    name = config["class_name"]
    cls = (custom_objects or {}).get(name) or _CLASSES.get(name)
    if cls is None:
        raise ValueError(
            f"regularizer: unknown class_name {name!r}; expected one of {sorted(_CLASSES)} "
            f"or a class passed in custom_objects"
        )
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """Resolves None, a string, a config dict, a Regularizer or a callable.

    Returns None for None; raises ValueError for an unknown name.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        make = _ALIASES.get(identifier.lower())
        if make is None and identifier in _CLASSES and identifier != "Regularizer":
            make = _CLASSES[identifier]
        if make is None:
            raise ValueError(
                f"regularizer: unknown identifier {identifier!r}; expected one of "
                f"{sorted(_ALIASES)}, a Regularizer or a callable"
            )
        return make()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(
        f"regularizer: expected None, a string, a dict or a callable, "
        f"received {type(identifier).__name__}"
    )
