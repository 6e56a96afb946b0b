"""A cap on the bytes of weights that layers may create, while a file is being loaded.

A model file names its architecture; a hostile one could declare layers whose weights
need far more memory than the file holds. Loaders set a budget from the file's size;
``Layer.add_weight`` charges each weight before its initializer allocates it.

    with weight_budget.limit(4 * file_size, "model.keras"):
        model = build_from_config(...)     # ValueError once the weights exceed the budget
"""

from __future__ import annotations

import contextlib
import contextvars
import math

import numpy as np

_budget = contextvars.ContextVar("pydl_weight_budget", default=None)


@contextlib.contextmanager
def limit(nbytes: int, what: str):
    """Weights created inside the block may total at most ``nbytes`` (``what`` names the file)."""
    token = _budget.set([int(nbytes), what])
    try:
        yield
    finally:
        _budget.reset(token)


def charge(shape, dtype) -> None:
    """Counts one weight of ``shape`` and ``dtype`` against the budget, if one is set."""
    budget = _budget.get()
    if budget is None:
        return
    size = math.prod(int(d) for d in shape) * np.dtype(dtype).itemsize
    if size > budget[0]:
        raise ValueError(
            f"{budget[1]}: the architecture declares weights larger than the file can hold "
            f"(a weight of shape {tuple(shape)} needs {size} bytes, {budget[0]} remain of the "
            f"budget the file's size allows): the file is damaged or hostile")
    budget[0] -= size
