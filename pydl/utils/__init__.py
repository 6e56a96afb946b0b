"""Helpers: seeding, one-hot labels, padding sequences, PyDataset, clear_session, plotting a
history."""

from __future__ import annotations

import numpy as np

from .. import _random
from .py_dataset import PyDataset
from .sequences import pad_sequences


def set_random_seed(seed: int) -> None:
    """Seeds every random draw pydl makes (initializers, dropout, shuffling).

    Also seeds NumPy's legacy global generator and Python's ``random``, as Keras
    does, so that user code which draws from them is reproducible too.
    """
    import random

    _random.seed(seed)
    np.random.seed(int(seed) % (2**32))
    random.seed(int(seed))


def clear_session(free_memory: bool = True) -> None:
    """Resets pydl's global state (auto-naming, the global random generator): an alias of
    `pydl.backend.clear_session`, as `keras.utils.clear_session`."""
    from ..backend import clear_session as _clear

    _clear(free_memory=free_memory)


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """Converts a class vector (integers) to a one-hot matrix, as Keras does.

    Args:
        y: array-like of non-negative integers; a trailing axis of size 1 is dropped.
        num_classes: number of classes; ``max(y) + 1`` when None.
        dtype: dtype of the result.

    Returns:
        An array of shape ``y.shape + (num_classes,)``.
    """
    y = np.asarray(y)
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError("y: expected integer class indices, received non-integer values")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"y: expected integer class indices, received dtype {y.dtype}")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and y.min() < 0:
        raise ValueError(f"y: expected class indices >= 0, received {int(y.min())}")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise ValueError(f"num_classes: expected an int >= 1, received {num_classes!r}")
    if y.size and int(y.max()) >= num_classes:
        raise ValueError(
            f"y: expected class indices < num_classes={num_classes}, received {int(y.max())}"
        )
    out = np.zeros(y.shape + (int(num_classes),), dtype=dtype)
    np.put_along_axis(out, y[..., None].astype(np.int64), 1, axis=-1)
    return out


def __getattr__(name):
    # plot_history lives in its own module (it imports matplotlib lazily).
    if name == "plot_history":
        from .plotting import plot_history

        return plot_history
    raise AttributeError(f"module 'pydl.utils' has no attribute {name!r}")
