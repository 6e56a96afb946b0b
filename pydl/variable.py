"""`Variable`: a named, mutable array -- a weight.

The value is a NumPy array, `variable.value`, that optimizers and the C++ core
update in place. `assign` copies into it rather than rebinding it, so any
pointer the core holds to it stays valid for the variable's lifetime.

Inside a `GradientTape`, ops on a trainable Variable are recorded
automatically; its arithmetic operators are `pydl.ops` calls.
"""

from __future__ import annotations

import numpy as np

from .tensor import ArrayOperators, _plain

_uid = {"n": 0}


def _to_value(initial_value, shape, dtype) -> np.ndarray:
    if callable(initial_value) and not isinstance(initial_value, (ArrayOperators, np.ndarray)):
        if shape is None:
            raise ValueError("Variable: `shape` is required when `initial_value` is an "
                             "initializer, received shape=None")
        initial_value = initial_value(tuple(shape), dtype=dtype or "float32")
    given = _plain(initial_value)
    value = np.array(given, dtype=dtype, copy=True, order="C")
    explicit_f64 = isinstance(given, np.ndarray) and given.dtype == np.float64
    if dtype is None and value.dtype.kind in "biuf" and not explicit_f64:
        value = value.astype(np.float32)  # float32 default; a float64 array stays float64
    if shape is not None and tuple(shape) != value.shape:
        raise ValueError(f"Variable: `initial_value` has shape {value.shape}, "
                         f"expected shape={tuple(shape)}")
    return value


class Variable(ArrayOperators):
    """A mutable array tracked by GradientTape when `trainable`.

    Args:
        initial_value: array-like, Tensor, or an initializer (then `shape` is needed).
        trainable: whether tapes watch it automatically and optimizers update it.
        name: a name (default "variable", "variable_1", ...).
        dtype: dtype of the value; default float32 for numbers, float64 kept.
        shape: the shape, when `initial_value` is an initializer.

    Example:
        w = pydl.Variable(np.zeros((3, 2)), name="w")
        w.assign_sub(0.1 * grad)
    """

    __slots__ = ("value", "trainable", "name", "path", "regularizer", "constraint",
                 "__weakref__")

    def __init__(self, initial_value, trainable: bool = True, name: str | None = None,
                 dtype=None, shape=None):
        self.value = _to_value(initial_value, shape, dtype)
        self.trainable = bool(trainable)
        if name is None:
            n = _uid["n"]
            _uid["n"] = n + 1
            name = "variable" if n == 0 else f"variable_{n}"
        elif not isinstance(name, str):
            raise TypeError(f"Variable: `name` must be a str, received {name!r}")
        self.name = name
        self.path = name  # layers set "layer_name/name"
        self.regularizer = None
        self.constraint = None

    def _array(self) -> np.ndarray:
        return self.value

    def assign(self, value) -> "Variable":
        """Copies `value` into the variable (same shape; cast to its dtype)."""
        value = _plain(value)
        shape = np.shape(value)
        if shape != self.value.shape:
            raise ValueError(f"assign: `value` has shape {shape}, expected the variable's "
                             f"shape {self.value.shape} (variable {self.name!r})")
        np.copyto(self.value, value, casting="unsafe")
        return self

    def assign_add(self, delta) -> "Variable":
        """`value += delta`, in place."""
        self._check_delta(delta, "assign_add")
        np.add(self.value, _plain(delta), out=self.value, casting="unsafe")
        return self

    def assign_sub(self, delta) -> "Variable":
        """`value -= delta`, in place."""
        self._check_delta(delta, "assign_sub")
        np.subtract(self.value, _plain(delta), out=self.value, casting="unsafe")
        return self

    def _check_delta(self, delta, what: str) -> None:
        shape = np.shape(_plain(delta))
        if shape == self.value.shape:
            return
        try:
            ok = np.broadcast_shapes(shape, self.value.shape) == self.value.shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{what}: `delta` has shape {shape}, expected the variable's "
                             f"shape {self.value.shape} (variable {self.name!r})")

    def __repr__(self) -> str:
        body = np.array2string(self.value, separator=", ", prefix="  ")
        return (f"<Variable name={self.name!r} shape={self.value.shape} "
                f"dtype={self.value.dtype} trainable={self.trainable}\n  {body}>")
