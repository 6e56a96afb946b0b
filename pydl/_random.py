"""The one source of randomness in pydl (initializers, dropout, shuffling).

``pydl.utils.set_random_seed(seed)`` reseeds it; every random draw pydl makes
comes from ``generator()`` or from a generator derived from it with
``spawn_generator()``, so a seeded program is reproducible.
"""

from __future__ import annotations

import random as _python_random

import numpy as np

_state = {"generator": np.random.default_rng()}


def seed(value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"seed: expected an int, received {type(value).__name__}")
    if value < 0:
        raise ValueError(f"seed: expected an int >= 0, received {value}")
    _state["generator"] = np.random.default_rng(int(value))


def generator() -> np.random.Generator:
    """The global generator."""
    return _state["generator"]


def spawn_generator(seed_value: int | None = None) -> np.random.Generator:
    """A generator of its own: from `seed_value` if given, else drawn from the global one."""
    if seed_value is not None:
        return np.random.default_rng(int(seed_value))
    return np.random.default_rng(int(generator().integers(0, 2**63 - 1)))


def reset() -> None:
    """A new global generator seeded from Python's `random` (as Keras 3's clear_session).

    Keras 3 drops its global SeedGenerator and makes the next one from
    ``random.randint``, which `set_random_seed` seeded: after a seeded start the
    draws that follow stay reproducible, without replaying the earlier ones.
    """
    _state["generator"] = np.random.default_rng(_python_random.randint(1, 10**9))
