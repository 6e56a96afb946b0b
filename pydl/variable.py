"""`Variable`: a named, mutable array -- a weight.

The value is a NumPy array, `variable.value`, that optimizers and the C++ core
update in place. `assign` copies into it rather than rebinding it, so any
pointer the core holds to it stays valid for the variable's lifetime.

Inside a `GradientTape`, ops on a trainable Variable are recorded
automatically; its arithmetic operators are `pydl.ops` calls.
"""

from __future__ import annotations

import numpy as np

from ._config import floatx
from .tensor import ArrayOperators, _plain

_uid = {"n": 0}


def _shape_arg(shape) -> tuple | None:
    if shape is None:
        return None
    items = (shape,) if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) \
        else shape
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or any(isinstance(n, bool) or not isinstance(n, (int, np.integer))
                            or n < 0 for n in items):
        raise TypeError(f"Variable: shape must be a tuple of ints >= 0, received shape={shape!r} "
                        "(the arguments are, in Keras 3's order: initializer, shape, dtype, "
                        "trainable, name)")
    return tuple(int(n) for n in items)


def _dtype_arg(dtype):
    if dtype is None:
        return None
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"Variable: dtype must be a NumPy dtype name such as 'float32', "
                        f"received dtype={dtype!r}") from None


def _to_value(initializer, shape, dtype) -> np.ndarray:
    """The first value of a Variable from an initializer (name, object, callable) or data."""
    shape, dtype = _shape_arg(shape), _dtype_arg(dtype)
    if isinstance(initializer, (str, dict)):
        from . import initializers

        initializer = initializers.get(initializer)
    if callable(initializer) and not isinstance(initializer, (ArrayOperators, np.ndarray)):
        if shape is None:
            raise ValueError("Variable: `shape` is required when the initializer is a name or "
                             f"a callable, received initializer={initializer!r} and shape=None")
        initializer = initializer(shape, dtype=(dtype or np.dtype(floatx())).name)
    if initializer is None:
        raise TypeError("Variable: expected an initializer (a name, an Initializer or a "
                        "callable, with `shape`) or an array, received None")
    given = _plain(initializer)
    value = np.array(given, dtype=dtype, copy=True, order="C")
    if value.dtype.kind not in "biuf":
        raise TypeError(f"Variable: expected numbers, received data of dtype {value.dtype}")
    explicit_f64 = isinstance(given, np.ndarray) and given.dtype == np.float64
    if dtype is None and not explicit_f64:
        value = value.astype(floatx())  # numbers become floatx; a float64 array stays float64
    if shape is not None and shape != value.shape:
        raise ValueError(f"Variable: the initial value has shape {value.shape}, expected "
                         f"shape={shape}")
    return value


def reset_names() -> None:
    """Restarts auto-naming ("variable", "variable_1", ...) from scratch (clear_session)."""
    _uid["n"] = 0


class Variable(ArrayOperators):
    """A mutable array tracked by GradientTape when `trainable` (Keras 3's signature).

    Args:
        initializer: the initial value -- an array-like or Tensor -- or an
            initializer: a name ("zeros", "glorot_uniform", ...), an
            `pydl.initializers` object or a callable `f(shape, dtype)`, which
            then needs `shape`. `initial_value=` is accepted as another name.
        shape: the shape (required with an initializer; checked against data).
        dtype: dtype of the value; default `pydl.backend.floatx()` ("float32")
            for numbers, and a float64 array keeps float64.
        trainable: whether tapes watch it automatically and optimizers update it.
        name: a name (default "variable", "variable_1", ...).

    Example:
        w = pydl.Variable("glorot_uniform", shape=(3, 2), name="w")
        b = pydl.Variable(np.zeros(2), name="b")
        w.assign_sub(0.1 * grad)
    """

    __slots__ = ("value", "trainable", "name", "path", "regularizer", "constraint",
                 "__weakref__")

    def __init__(self, initializer=None, shape=None, dtype=None, trainable: bool = True,
                 name: str | None = None, *, initial_value=None):
        if initial_value is not None:
            if initializer is not None:
                raise TypeError("Variable: pass either `initializer` or `initial_value`, "
                                "not both")
            initializer = initial_value
        self.value = _to_value(initializer, shape, dtype)
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
