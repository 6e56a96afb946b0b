"""Data at the boundary of fit / evaluate / predict.

Arrays are converted ONCE, when they enter (float inputs to the model's dtype,
integer targets for sparse losses to int64, C-contiguous), and checked there
with messages that name the argument. Batches are then views (no shuffle) or
rows gathered by the core into buffers reused from step to step.
"""

from __future__ import annotations

import numbers
import threading

import numpy as np

from .. import _core


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


# all_finite's passes: a scratch of this many bools per thread, kept between calls.
_FINITE_CHUNK = 1 << 18
_FINITE_DIRECT = 1 << 14  # arrays up to this size are checked in one pass, no scratch
_scratch = threading.local()
_CORE_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def all_finite(array: np.ndarray) -> bool:
    """Whether a float array holds no NaN or inf, without a temporary the size of the
    array: np.isfinite(x) on fit's data would allocate x.size bytes at every call,
    and glibc keeps such a block resident after its first reuse (RSS growing from
    the first fit call to the second).

    float32 and float64 (what fit trains on) go to the core's check: one read of the
    data on pydl's threads, no allocation. Other float types (float16, longdouble)
    are checked in passes of _FINITE_CHUNK values into a scratch kept per thread."""
    contiguous = array.flags.c_contiguous
    if contiguous and array.dtype in _CORE_FLOATS:
        return bool(_core.all_finite(array))
    if array.size <= _FINITE_DIRECT or not contiguous:
        return bool(np.isfinite(array).all())
    flat = array.reshape(-1)  # a view: C-contiguous
    scratch = getattr(_scratch, "finite", None)
    if scratch is None:
        scratch = _scratch.finite = np.empty(_FINITE_CHUNK, bool)
    for start in range(0, flat.shape[0], _FINITE_CHUNK):
        part = flat[start:start + _FINITE_CHUNK]
        if not np.isfinite(part, out=scratch[:part.shape[0]]).all():
            return False
    return True


def require_finite(arg: str, array: np.ndarray) -> None:
    """ValueError naming the first NaN or inf in float data: it would otherwise
    train a model of NaNs without a word."""
    if array.dtype.kind != "f" or array.size == 0:
        return
    if not all_finite(array):
        finite = np.isfinite(array)
        where = tuple(int(i) for i in np.argwhere(~finite)[0])
        raise ValueError(
            f"{arg}: expected finite values, received {array[where]} at index {where} "
            f"({int(finite.size - finite.sum())} non-finite values in all); clean the data, "
            "or pass check_finite=False to fit to skip this check")


def require_distribution_rows(arg: str, y: np.ndarray, loss_name: str) -> None:
    """Categorical cross-entropy reads each target row as a distribution: rows that
    are negative or do not sum to 1 (e.g. integer labels by mistake) would train
    on a meaningless loss without a word."""
    if y.ndim < 1 or y.size == 0 or y.dtype.kind != "f":
        return
    sums = y.sum(axis=-1, dtype=np.float64)
    bad = np.flatnonzero(~(np.abs(sums - 1.0) <= 1e-3).reshape(-1))
    if bad.size or y.min() < 0:  # min: no y-sized temporary (a NaN row is in bad)
        row = int(bad[0]) if bad.size else int(np.argwhere(y < 0)[0][0])
        raise ValueError(
            f"{arg}: {loss_name} expects one-hot (or probability) rows that are >= 0 and sum to "
            f"1, received row {row} summing to {float(sums.reshape(-1)[row]):.4g}; for integer "
            "labels use sparse_categorical_crossentropy")


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
    if value.__class__ is int and value >= minimum:  # the common case, first
        return value
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
            _core.gather_rows(src, indices, out)
        return buffers


_integer_targets_of: dict = {}  # (loss type, name, __name__) -> _wants_integer_targets


def _wants_integer_targets(loss) -> bool:
    """Sparse categorical cross-entropy takes class indices, not one-hot rows (decided
    by the type and names alone, so remembered per (type, name, __name__))."""
    if loss is None:
        return False
    key = (type(loss), getattr(loss, "name", ""), getattr(loss, "__name__", ""))
    try:
        return _integer_targets_of[key]
    except (KeyError, TypeError):  # TypeError: an unhashable name, never remembered
        pass
    wanted = _names_want_integer_targets(loss)
    try:
        if len(_integer_targets_of) >= 256:
            _integer_targets_of.clear()
        _integer_targets_of[key] = wanted
    except TypeError:
        pass
    return wanted


def _names_want_integer_targets(loss) -> bool:
    names = {type(loss).__name__.lower(), str(getattr(loss, "name", "")).lower(),
             str(getattr(loss, "__name__", "")).lower()}
    return any("sparse_categorical" in n or n == "sparsecategoricalcrossentropy" for n in names)


def _outside_classes(y: np.ndarray, classes) -> bool:
    """Whether int64 class indices hold one < 0 or >= classes (None: no upper bound).
    One reduction, not min and max: as uint64 a negative index is >= 2**63."""
    bound = (1 << 63) if classes is None else max(int(classes), 0)
    return int(y.view(np.uint64).max()) >= bound


def _is_builtin(loss) -> bool:
    return type(loss).__module__.startswith("pydl.")


class InputsMixin:
    """The model's side of the boundary: build on first data, check shapes, convert."""

    def _input_dtype(self):
        return self._weights_dtype() if self.built else np.dtype(self._model_dtype())

    def _ensure_built(self, x: np.ndarray) -> None:
        if not self.built:
            self.build((None,) + x.shape[1:])
            self.built = True  # a user's build() need not say so (Keras 3 sets it too)

    def _output_shape_for(self, x: np.ndarray) -> tuple:
        """The model's output shape: declared (Sequential) or seen on one sample, cached."""
        shape = getattr(self, "output_shape", None)
        if shape is not None:
            return tuple(shape)
        key = x.shape[1:]
        cached = getattr(self, "_seen_output_shape", None)
        if cached is None or cached[0] != key:
            cached = (key, (None,) + self._predict_step(x[:1]).shape[1:])
            self._seen_output_shape = cached
        return cached[1]

    def _prepare_inputs(self, arg: str, x) -> np.ndarray:
        """Checks ``x``, builds the model on its shape if needed, converts it once."""
        x = as_array(arg, x)
        if x.ndim == 0:
            raise ValueError(f"{arg}: expected an array with a batch dimension, received a scalar")
        self._ensure_built(x)
        self._check_input_shape(arg, x)
        return np.ascontiguousarray(x, dtype=self._input_dtype())

    def _check_input_shape(self, arg: str, x: np.ndarray) -> None:
        expected = self._build_input_shape
        if expected is None or expected[1:] == x.shape[1:]:
            return
        if len(expected) != x.ndim or any(e is not None and e != d
                                          for e, d in zip(expected[1:], x.shape[1:])):
            raise ValueError(
                f"{arg}: the model {self.name!r} expects inputs of shape "
                f"{tuple(expected)}, received an array of shape {x.shape}"
            )

    def _prepare_xy(self, x, y, sample_weight, class_weight, names=("x", "y", "sample_weight")):
        x_name, y_name, sw_name = names
        if y is None:
            raise ValueError(f"{y_name}: expected targets, received None "
                             "(generators and datasets without targets are not supported)")
        x = self._prepare_inputs(x_name, x)
        integer = _wants_integer_targets(self._loss_fn)
        y = as_targets(y_name, y, self._input_dtype(), integer)
        n = check_same_length(x, y, x_name, y_name)
        y = self._match_target_shape(y_name, y, x, integer)
        if getattr(self._loss_fn, "kind", None) == "categorical_crossentropy":
            require_distribution_rows(y_name, y, "categorical_crossentropy")
        if self._metrics is None:
            self._build_metrics(y, self._output_shape_for(x))
        sw = as_sample_weight(sw_name, sample_weight, n, self._input_dtype())
        if class_weight is not None:
            cw = class_weight_to_sample_weight(class_weight, y, self._input_dtype())
            sw = cw if sw is None else np.ascontiguousarray(sw * cw)
        return x, y, sw

    def _match_target_shape(self, arg: str, y: np.ndarray, x: np.ndarray, integer: bool):
        """Keras' rank fixes: (n, 1) class indices -> (n,); (n,) targets of a (n, 1) output -> (n, 1)."""
        out = self._output_shape_for(x)
        if integer:
            if y.ndim == len(out) and y.shape[-1] == 1:
                y = y.reshape(y.shape[:-1])
            if y.shape[1:] != tuple(out[1:-1]):
                raise ValueError(
                    f"{arg}: a sparse categorical loss expects class indices of shape "
                    f"(n,) for outputs of shape {out}, received shape {y.shape}"
                )
            if y.size and _outside_classes(y, out[-1]):
                raise ValueError(
                    f"{arg}: expected class indices in [0, {out[-1]}) for outputs of shape "
                    f"{out}, received values from {int(y.min())} to {int(y.max())}"
                )
            return y
        if y.ndim == len(out) - 1 and out[-1] == 1:
            y = y.reshape(y.shape + (1,))
        if _is_builtin(self._loss_fn) and y.shape[1:] != tuple(out[1:]):
            hint = ""
            if y.ndim == 1 and len(out) == 2:
                hint = (" (integer labels? use loss='sparse_categorical_crossentropy' or "
                        "pydl.utils.to_categorical)")
            raise ValueError(
                f"{arg}: expected targets of shape (n, {', '.join(str(d) for d in out[1:])}) "
                f"to match the model's outputs {out}, received shape {y.shape}{hint}"
            )
        return y

    def _unpack_validation_data(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data: expected a tuple (x_val, y_val) or (x_val, y_val, "
                f"sample_weight), received {type(validation_data).__name__}"
                + (f" of length {len(validation_data)}"
                   if isinstance(validation_data, (tuple, list)) else "")
            )
        x_val, y_val = validation_data[0], validation_data[1]
        sw_val = validation_data[2] if len(validation_data) == 3 else None
        return self._prepare_xy(x_val, y_val, sw_val, None,
                                names=("validation_data[0]", "validation_data[1]",
                                       "validation_data[2]"))
