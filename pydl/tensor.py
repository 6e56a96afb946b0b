"""`Tensor`: the result of a `pydl.ops` call.

A Tensor wraps a NumPy array (its value) and, when a GradientTape recorded the
op that made it, the node of the graph: the op's inputs and a backward closure
(see pydl/tape.py). It behaves like the array for reading -- ``np.asarray(t)``,
``t.numpy()``, ``t.shape``, indexing -- and its arithmetic operators are
``pydl.ops`` calls, so they are differentiable. Comparisons are not: they
return NumPy bool arrays.

`ArrayOperators` holds the operators shared by Tensor and Variable.
"""

from __future__ import annotations

import numpy as np

# NumPy ufuncs applied to a Tensor or Variable that have a differentiable op.
_UFUNC_OPS = {
    "add": "add", "subtract": "subtract", "multiply": "multiply", "divide": "divide",
    "true_divide": "divide", "matmul": "matmul", "negative": "negative", "power": "pow",
    "exp": "exp", "log": "log", "sqrt": "sqrt", "square": "square", "absolute": "abs",
    "tanh": "tanh", "maximum": "maximum", "minimum": "minimum",
}


class ArrayOperators:
    """Operators of an array-valued object, as differentiable `pydl.ops` calls.

    Subclasses provide `_array()`, the NumPy value.
    """

    __slots__ = ()

    # Make `ndarray <op> self` call our reflected operator / ufunc hook, not
    # NumPy's elementwise loop over an object array.
    __array_priority__ = 100

    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.subtract(self, other)

    def __rsub__(self, other):
        return ops.subtract(other, self)

    def __mul__(self, other):
        return ops.multiply(self, other)

    def __rmul__(self, other):
        return ops.multiply(other, self)

    def __truediv__(self, other):
        return ops.divide(self, other)

    def __rtruediv__(self, other):
        return ops.divide(other, self)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __pow__(self, other):
        return ops.pow(self, other)

    def __rpow__(self, other):
        return ops.pow(other, self)

    def __neg__(self):
        return ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return ops.abs(self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # Not differentiable: NumPy bool arrays.
    def __lt__(self, other):
        return self._array() < _plain(other)

    def __le__(self, other):
        return self._array() <= _plain(other)

    def __gt__(self, other):
        return self._array() > _plain(other)

    def __ge__(self, other):
        return self._array() >= _plain(other)

    def __array__(self, dtype=None, copy=None):
        value = self._array()
        if dtype is not None and np.dtype(dtype) != value.dtype:
            return value.astype(dtype)
        return value.copy() if copy else value

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # np.exp(t), ndarray + t, ...: the differentiable op when there is one.
        name = _UFUNC_OPS.get(ufunc.__name__)
        if method == "__call__" and name is not None and not kwargs:
            return getattr(ops, name)(*inputs)
        plain = [_plain(x) for x in inputs]
        if "out" in kwargs:
            kwargs["out"] = tuple(_plain(x) for x in kwargs["out"])
        return getattr(ufunc, method)(*plain, **kwargs)

    def __len__(self):
        shape = self._array().shape
        if not shape:
            raise TypeError("len() of a 0-d tensor")
        return shape[0]

    def __float__(self):
        return float(self._array())

    def __int__(self):
        return int(self._array())

    def __bool__(self):
        return bool(self._array())

    def __index__(self):
        return self._array().__index__()  # 0-d integer values only, as NumPy

    def __round__(self, ndigits=None):
        scalar = _scalar(self._array(), "round")
        return round(scalar) if ndigits is None else round(scalar, ndigits)

    def __format__(self, spec: str) -> str:
        # f"{loss:.4f}" formats a 0-d value like a NumPy scalar; "" keeps the repr.
        if not spec:
            return str(self)
        return format(_scalar(self._array(), "format"), spec)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    @property
    def shape(self) -> tuple:
        return self._array().shape

    @property
    def dtype(self) -> np.dtype:
        return self._array().dtype

    @property
    def ndim(self) -> int:
        return self._array().ndim

    @property
    def size(self) -> int:
        return self._array().size

    @property
    def T(self):
        return ops.transpose(self)

    def numpy(self) -> np.ndarray:
        """A copy of the value as a NumPy array."""
        return self._array().copy()


def _scalar(value: np.ndarray, what: str):
    """The NumPy scalar of a 0-d value (a TypeError naming the shape otherwise)."""
    if value.ndim == 0:
        return value[()]
    raise TypeError(f"{what}: only a scalar (0-d) Tensor or Variable can be used as a number, "
                    f"received shape {value.shape}; reduce it first (e.g. pydl.ops.mean) or "
                    "format its elements one by one")


def _plain(x):
    """The NumPy value of a Tensor/Variable; anything else unchanged."""
    if isinstance(x, ArrayOperators):
        return x._array()
    return x


class Tensor(ArrayOperators):
    """An immutable array produced by a `pydl.ops` call (see module docstring).

    Attributes used by the tape (pydl/tape.py), None when the op was not
    recorded: `_inputs` (the op's inputs), `_needs` (per input: does it need a
    gradient), `_backward` (closure: output gradient -> tuple of input
    gradients, None where not needed), `_seq` (when the op was recorded: the tape
    sums the gradients a tensor receives in the reverse order of the ops that
    sent them). `_logits` is set by the softmax/sigmoid ops for loss fusion
    (pydl/ops/losses.py). `_keras_mask` is the boolean mask a layer attached to its
    output (Keras 3 masking, pydl/layers/layer.py).
    """

    __slots__ = ("_value", "_inputs", "_needs", "_backward", "_logits", "_seq", "_keras_mask",
                 "__weakref__")

    def __init__(self, value: np.ndarray):
        self._value = value
        self._inputs = None
        self._needs = None
        self._backward = None
        self._logits = None
        self._keras_mask = None

    def _array(self) -> np.ndarray:
        return self._value

    # Equality is elementwise, as for arrays; identity hashing keeps Tensors
    # usable as dict keys.
    def __eq__(self, other):
        return self._value == _plain(other)

    def __ne__(self, other):
        return self._value != _plain(other)

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        body = np.array2string(self._value, separator=", ", prefix="Tensor(")
        return f"Tensor({body}, shape={self._value.shape}, dtype={self._value.dtype})"


from . import ops  # noqa: E402  (operators call pydl.ops; ops imports Tensor)
