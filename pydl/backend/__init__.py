"""Keras' `keras.backend` / `keras.config` helpers for pydl.

    pydl.backend.backend()          # "pydl"
    pydl.backend.floatx()           # "float32"
    pydl.backend.set_floatx("float64")
    pydl.backend.epsilon()          # 1e-07
    pydl.backend.image_data_format()   # "channels_last"
    pydl.backend.clear_session()

`backend()` names pydl itself: Keras 3 returns the framework it runs on
("tensorflow", "jax", "torch" or "numpy"), and pydl is none of them, so code
that branches on one of those names takes its generic path. `epsilon()` is
the fuzz factor the losses' kernels clip probabilities with, fixed in the core,
so there is no `set_epsilon`; pydl stores images channels-last only, so there
is no `set_image_data_format`.
"""

from __future__ import annotations

from .._config import EPSILON, floatx, set_floatx
from .session import clear_session


def backend() -> str:
    """The name of the framework running the Keras API: "pydl"."""
    return "pydl"


def epsilon() -> float:
    """The fuzz factor of the losses (probabilities are clipped to [eps, 1 - eps]): 1e-7."""
    return EPSILON


def image_data_format() -> str:
    """How image tensors are laid out: "channels_last" (N, height, width, channels)."""
    return "channels_last"


__all__ = ["backend", "clear_session", "epsilon", "floatx", "image_data_format", "set_floatx"]
