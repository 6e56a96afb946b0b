"""Optimizers (Keras 3 update rules, one fused core call per variable) and `get`.

    opt = pydl.optimizers.get("adam")                 # or Adam(learning_rate=1e-3)
    opt.apply_gradients(zip(grads, model.trainable_weights))
"""

from __future__ import annotations

from . import schedules
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

_BY_NAME = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW}

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "schedules", "get", "serialize",
           "deserialize"]


def serialize(optimizer: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}`` of an optimizer (JSON-compatible)."""
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer: expected a pydl.optimizers.Optimizer, received {type(optimizer).__name__}")
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Inverse of `serialize`; `custom_objects` maps class names to user classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"config: expected a dict with 'class_name' and 'config', received {config!r}")
    name = config["class_name"]
    custom = custom_objects or {}
    cls = custom.get(name) or _BY_NAME.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer: {name!r}. Known: {sorted(c.__name__ for c in _BY_NAME.values())}")
    return cls.from_config(dict(config.get("config", {})), custom_objects=custom_objects)


def get(identifier) -> Optimizer:
    """An optimizer from a name ("sgd", "adagrad", "rmsprop", "adam", "adamw"; any case),
    a config dict (see `serialize`) or an optimizer instance (returned as is)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Could not interpret optimizer identifier: {identifier!r}. Expected one of "
                f"{sorted(_BY_NAME)}, a config dict or an Optimizer instance."
            )
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")
