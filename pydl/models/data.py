"""Data at the boundary of fit / evaluate / predict.

Arrays are converted ONCE, when they enter (float inputs to the model's dtype,
integer targets for sparse losses to int64, C-contiguous), and checked there
with messages that name the argument. Batches are then views (no shuffle) or
rows gathered by the core into buffers reused from step to step.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _core

_gather_rows = getattr(_core, "gather_rows", None)


def as_array(arg: str, value) -> np.ndarray:
    """A NumPy array from arrays, lists and Tensors; TypeError for anything else."""
    if value is None:
        raise ValueError(f"{arg}: expected an array, received None")
    if isinstance(value, (dict, str, bytes)):
        raise TypeError(f"{arg}: expected a NumPy array, received {type(value).__name__}")
    try:
        array = np.asarray(value)
    except ValueError as exc:  # ragged lists, several arrays of different shapes
        raise TypeError(
            f"{arg}: expected one array (models here have one input and one output), "
            f"received a {type(value).__name__} that is not one array ({exc})"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{arg}: expected a numeric array, received dtype {array.dtype}")
    return array


def as_targets(arg: str, value, dtype, integer: bool) -> np.ndarray:
    """Targets: int64 class indices for sparse losses, else the model's float dtype."""
    array = as_array(arg, value)
    if array.ndim == 0:
        raise ValueError(f"{arg}: expected an array with a batch dimension, received a scalar")
    if not integer:
        return np.ascontiguousarray(array, dtype=dtype)
    if array.dtype.kind == "f":
        if not np.all(np.isfinite(array)) or np.any(array != np.round(array)):
            raise ValueError(
                f"{arg}: expected integer class indices for a sparse loss, received "
                f"non-integer values (dtype {array.dtype})"
            )
    return np.ascontiguousarray(array, dtype=np.int64)


def as_sample_weight(arg: str, value, n: int, dtype) -> np.ndarray | None:
    if value is None:
        return None
    array = as_array(arg, value)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array.reshape(-1)
    if array.shape != (n,):
        raise ValueError(f"{arg}: expected shape ({n},) (one weight per sample), "
                         f"received shape {array.shape}")
    array = np.ascontiguousarray(array, dtype=dtype)
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise ValueError(f"{arg}: expected finite weights >= 0")
    return array


def check_same_length(x: np.ndarray, y: np.ndarray | None, x_name="x", y_name="y") -> int:
    n = x.shape[0]
    if y is not None and y.shape[0] != n:
        raise ValueError(
            f"{x_name} and {y_name} must have the same number of samples, received "
            f"{x_name} with {n} samples (shape {x.shape}) and {y_name} with "
            f"{y.shape[0]} samples (shape {y.shape})"
        )
    return n


def check_positive_int(arg: str, value, allow_none=False, minimum=1):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{arg}: expected an int >= {minimum}, received {arg}={value!r}")
    return int(value)


def class_weight_to_sample_weight(class_weight: dict, y: np.ndarray, dtype) -> np.ndarray:
    """One weight per sample from ``{class_index: weight}``, as Keras does.

    Class indices are ``y`` itself (sparse), ``argmax(y)`` (one-hot) or
    ``round(y)`` (one binary output).
    """
    if not isinstance(class_weight, dict):
        raise TypeError(f"class_weight: expected a dict {{class: weight}}, "
                        f"received {type(class_weight).__name__}")
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        classes = np.rint(y.reshape(-1)).astype(np.int64)
    else:
        classes = np.argmax(y.reshape(y.shape[0], -1), axis=1)
    table_size = int(max([*class_weight.keys(), int(classes.max()) if classes.size else 0])) + 1
    table = np.ones(table_size, dtype=dtype)
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, numbers.Integral) or key < 0:
            raise ValueError(f"class_weight: expected int class indices >= 0 as keys, received {key!r}")
        table[int(key)] = weight
    if classes.size and classes.min() < 0:
        raise ValueError("class_weight: targets hold negative class indices")
    return table[classes]


def split_validation(arrays, split: float):
    """Keras' ``validation_split``: the LAST ``split`` fraction, taken before shuffling."""
    n = arrays[0].shape[0]
    n_train = int(n * (1.0 - split))
    if n_train < 1 or n_train >= n:
        raise ValueError(
            f"validation_split={split} leaves {n_train} training and {n - n_train} validation "
            f"samples out of {n}; both need at least 1"
        )
    train = tuple(None if a is None else a[:n_train] for a in arrays)
    val = tuple(None if a is None else a[n_train:] for a in arrays)
    return train, val


class BatchGatherer:
    """Rows ``indices`` of several arrays, gathered into buffers reused between steps.

    One set of buffers per batch size (the last batch of an epoch is smaller).
    The arrays returned are overwritten by the next call of the same size: a
    step must be done with them before asking for the next batch.
    """

    def __init__(self, *arrays):
        self.arrays = arrays
        self._buffers: dict[int, tuple] = {}

    def gather(self, indices: np.ndarray) -> tuple:
        size = indices.shape[0]
        buffers = self._buffers.get(size)
        if buffers is None:
            buffers = tuple(None if a is None else np.empty((size,) + a.shape[1:], a.dtype)
                            for a in self.arrays)
            self._buffers[size] = buffers
        for src, out in zip(self.arrays, buffers):
            if src is None:
                continue
            if _gather_rows is not None:
                _gather_rows(src, indices, out)
            else:
                np.take(src, indices, axis=0, out=out)
        return buffers
