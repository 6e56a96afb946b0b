"""`clear_session`: resets the global state pydl keeps between models (as Keras 3)."""

from __future__ import annotations

import gc


def clear_session(free_memory: bool = True) -> None:
    """Resets the state pydl keeps across models, as `keras.backend.clear_session`.

    - Auto-naming restarts: the next Dense is "dense", the next Variable
      "variable" (and so for every layer, model and SeedGenerator name).
    - The global random generator is replaced by one seeded from Python's
      `random` module, as Keras 3 replaces its global SeedGenerator: after
      `pydl.utils.set_random_seed(s)` what follows stays reproducible.

    - The global dtype policy goes back to following `floatx()` (Keras 3 keeps it
      in the global state that clear_session resets).

    `pydl.backend.floatx()` is a setting, not session state, and is kept.

    Args:
        free_memory: run Python's garbage collector afterwards.
    """
    from .. import _random, dtype_policies
    from ..layers.layer import reset_names as reset_layer_names
    from ..variable import reset_names as reset_variable_names

    reset_layer_names()
    reset_variable_names()
    _random.reset()
    dtype_policies.reset_global_policy()
    if free_memory:
        gc.collect()
