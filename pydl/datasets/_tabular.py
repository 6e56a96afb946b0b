"""The shuffle-then-split of the housing datasets, as Keras 3."""

from __future__ import annotations

import numpy as np


def check_test_split(test_split) -> None:
    if isinstance(test_split, bool) or not isinstance(test_split, (int, float)) \
            or not 0 <= test_split < 1:
        raise ValueError(f"test_split: expected a fraction in [0, 1), received {test_split!r}")


def load_xy(path: str):
    """The arrays x and y of a numeric .npz (pickles disabled)."""
    try:
        with np.load(path, allow_pickle=False) as f:
            return f["x"], f["y"]
    except KeyError as e:
        raise ValueError(f"{path}: expected the arrays x and y in the .npz, missing {e}") from None
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable numeric .npz file ({e})") from None


def shuffle_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int):
    """``((x_train, y_train), (x_test, y_test))``: a seeded shuffle, then the last
    `test_split` of the samples held out."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
