"""`SeedGenerator` and how every `pydl.random` function turns its `seed` into draws.

    seed=None             pydl's global generator (pydl/_random.py): a new draw at each
                          call, reproducible under `pydl.utils.set_random_seed`
    seed=42 (an int)      a fixed draw: the same values at every call
    seed=SeedGenerator    the generator's state, which then advances: a new draw at
                          each call, reproducible from the generator's own seed

A state is two ints `[seed, counter]`, as in Keras 3; the draw for a state
comes from ``np.random.default_rng([seed, counter])``, so an int seed `s` and
the first draw of `SeedGenerator(s)` are the same values.
"""

from __future__ import annotations

from typing import Optional, Union

import numpy as np

from .. import _random
from ..layers.layer import unique_name
from ..variable import Variable

_MASK64 = (1 << 64) - 1


class SeedGenerator:
    """A random state that advances at each draw (Keras 3's `keras.random.SeedGenerator`).

    Args:
        seed: an int; None draws one from pydl's global generator (so it is
            reproducible under `pydl.utils.set_random_seed`).
        name: a name (default "seed_generator", "seed_generator_1", ...).

    Attributes:
        state: a non-trainable int64 Variable `[seed, counter]`.

    Example:
        gen = pydl.random.SeedGenerator(1337)
        a = pydl.random.normal((2, 3), seed=gen)
        b = pydl.random.normal((2, 3), seed=gen)   # different from a
    """

    def __init__(self, seed: Optional[int] = None, name: Optional[str] = None):
        self._initial_seed = seed
        if seed is None:
            seed = int(_random.generator().integers(1, 10**9))
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ValueError(f"SeedGenerator: seed must be an int or None, received seed={seed!r}")
        self.name = name or unique_name("seed_generator")
        self.state = Variable(np.array([int(seed) & _MASK64, 0], dtype=np.uint64).view(np.int64),
                              dtype="int64", trainable=False, name="seed_generator_state")

    def next(self, ordered: bool = True) -> np.ndarray:
        """The current state (a copy of `[seed, counter]`), then advances the counter.

        Args:
            ordered: True (Keras' default) adds 1 to the counter; False scrambles
                the whole state, as Keras does for its global generator.
        """
        current = self.state.value.copy()
        if ordered:
            self.state.value[1] += 1
        else:
            self.state.value[...] = (current + 1) * 5387 % 933199
        return current

    def get_config(self) -> dict:
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} state={self.state.value.tolist()}>"


SeedLike = Union[None, int, SeedGenerator, np.random.Generator]


def _from_state(state) -> np.random.Generator:
    return np.random.default_rng([int(v) & _MASK64 for v in np.asarray(state).ravel()])


def generator_for(seed: SeedLike, name: str) -> np.random.Generator:
    """The NumPy generator a draw with this `seed` uses (module docstring)."""
    if seed is None:
        return _random.generator()
    if isinstance(seed, SeedGenerator):
        return _from_state(seed.next())
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"{name}: seed must be None, an int or a pydl.random.SeedGenerator, "
                         f"received seed={seed!r} (of type {type(seed).__name__})")
    return _from_state((int(seed), 0))
