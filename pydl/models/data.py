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
from .compile_utils import flat_by_outputs, flat_sample_weights


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
            f"{arg}: expected an array, received a {type(value).__name__} that is not one "
            f"array ({exc}); a model with several inputs or outputs takes a list or a dict "
            "of arrays"
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


class VariableList:
    """A list of Variables kept by the trainer. Not a Python list on purpose: Layer
    tracks Variables found in attribute lists as the layer's own, and these are
    the sublayers' (their penalties would count twice)."""

    __slots__ = ("items",)

    def __init__(self, items=()):
        self.items = list(items)


class Dataset:
    """fit / evaluate / predict data, converted once: flat lists of arrays with the
    structures they came in (``x``, ``y``, ``sample_weight``), and the targets and
    sample weights per model output (``y_by_output``, ``sw_by_output``; None for an
    output without targets).

    ``batch(order, start, size)`` gives ``train_step``'s ``data``: views of the rows
    [start, start + size) when ``order`` is None, else the rows ``order[start:...]``
    gathered by the core into buffers reused from step to step (a step must be
    done with them before asking for the next batch).
    """

    def __init__(self, x_leaves, x_template, y_leaves, y_template, sw_leaves, sw_template,
                 y_by_output, sw_by_output, x_by_input):
        self.x_leaves, self.x_template = x_leaves, x_template
        self.x_by_input = x_by_input  # the inputs in model.inputs order
        self.y_leaves, self.y_template = y_leaves, y_template
        self.sw_leaves, self.sw_template = sw_leaves, sw_template
        self.y_by_output, self.sw_by_output = y_by_output, sw_by_output
        self.num_samples = int(x_leaves[0].shape[0]) if x_leaves else 0
        self._all = list(x_leaves) + list(y_leaves) + list(sw_leaves)
        self._buffers: dict[int, list] = {}

    def require_finite(self) -> None:
        for name, leaves in (("x", self.x_leaves), ("y", self.y_leaves),
                             ("sample_weight", self.sw_leaves)):
            for i, array in enumerate(leaves):
                require_finite(name if len(leaves) == 1 else f"{name}[{i}]", array)

    def split(self, fraction: float):
        """Keras' ``validation_split``: the LAST ``fraction``, taken before shuffling."""
        n = self.num_samples
        n_train = int(n * (1.0 - fraction))
        if n_train < 1 or n_train >= n:
            raise ValueError(
                f"validation_split={fraction} leaves {n_train} training and {n - n_train} "
                f"validation samples out of {n}; both need at least 1"
            )
        return self._rows(slice(0, n_train)), self._rows(slice(n_train, n))

    def _rows(self, rows) -> "Dataset":
        def cut(leaves):
            return [a[rows] for a in leaves]
        xs, ys, sws = cut(self.x_leaves), cut(self.y_leaves), cut(self.sw_leaves)
        cut_of = {id(a): b for a, b in zip(self.x_leaves + self.y_leaves + self.sw_leaves,
                                           xs + ys + sws)}

        def mapped(arrays):
            return [None if a is None else cut_of[id(a)] for a in arrays]
        return Dataset(xs, self.x_template, ys, self.y_template, sws, self.sw_template,
                       mapped(self.y_by_output), mapped(self.sw_by_output),
                       mapped(self.x_by_input))

    def x_struct(self, start: int, stop: int):
        from .._tree import pack_sequence_as as pack_as

        return pack_as(self.x_template, [a[start:stop] for a in self.x_leaves])

    def batch(self, order, start: int, size: int):
        from .steps import pack_x_y_sample_weight
        from .._tree import pack_sequence_as as pack_as

        if order is None:
            stop = min(start + size, self.num_samples)
            leaves = [a[start:stop] for a in self._all]
        else:
            leaves = self._gather(order[start:start + size])
        nx, ny = len(self.x_leaves), len(self.y_leaves)
        x = pack_as(self.x_template, leaves[:nx])
        y = pack_as(self.y_template, leaves[nx:nx + ny]) if ny else None
        sw = pack_as(self.sw_template, leaves[nx + ny:]) if self.sw_leaves else None
        return pack_x_y_sample_weight(x, y, sw)

    def _gather(self, indices: np.ndarray) -> list:
        size = indices.shape[0]
        buffers = self._buffers.get(size)
        if buffers is None:
            buffers = [np.empty((size,) + a.shape[1:], a.dtype) for a in self._all]
            self._buffers[size] = buffers
        for src, out in zip(self._all, buffers):
            _core.gather_rows(src, indices, out)
        return buffers


class InputsMixin:
    """The model's side of the boundary: build on first data, check shapes, convert."""

    def _input_dtype(self):
        return self._weights_dtype() if self.built else np.dtype(self._model_dtype())

    def _symbolic_inputs(self):
        """The model's flat input tensors when it has a graph (Functional), else None."""
        inputs = self.__dict__.get("_inputs_flat") or None
        if inputs is None:
            inputs = getattr(type(self), "inputs", None) and getattr(self, "inputs", None)
        return list(inputs) if inputs else None

    def _ensure_built(self, x: np.ndarray) -> None:
        if not self.built:
            self.build((None,) + x.shape[1:])
            self.built = True  # a user's build() need not say so (Keras 3 sets it too)

    def _check_input_shape(self, arg: str, x: np.ndarray, expected) -> None:
        if expected is None or tuple(expected[1:]) == x.shape[1:]:
            return
        if len(expected) != x.ndim or any(e is not None and e != d
                                          for e, d in zip(expected[1:], x.shape[1:])):
            raise ValueError(
                f"{arg}: the model {self.name!r} expects inputs of shape "
                f"{tuple(expected)}, received an array of shape {x.shape}"
            )

    def _convert_input(self, arg: str, value, dtype, expected) -> np.ndarray:
        x = as_array(arg, value)
        if x.ndim == 0:
            raise ValueError(f"{arg}: expected an array with a batch dimension, received a scalar")
        self._check_input_shape(arg, x, expected)
        if dtype.kind in "iu" and x.dtype.kind in "iub":
            return np.ascontiguousarray(x, dtype=dtype)
        return np.ascontiguousarray(x, dtype=dtype if dtype.kind == "f" else self._input_dtype())

    def _prepare_x(self, x):
        """(leaves, template, leaves in model input order) of the inputs, converted, the
        model built on them. `template` is x's structure (None for one array); leaves
        are in its flatten order (dicts by sorted key)."""
        from .._tree import flatten, is_nested

        if x is None:
            raise ValueError("x: expected input data, received None")
        symbolic = self._symbolic_inputs()
        if symbolic is not None:
            names = [getattr(t, "name", None) for t in symbolic]
            if isinstance(x, dict):
                unknown = [k for k in x if k not in names]
                if unknown:
                    raise ValueError(f"x: the keys {unknown} name no input of the model "
                                     f"{self.name!r}; its inputs are {names}")
                missing = [n for n in names if n not in x]
                if missing:
                    raise ValueError(f"x: missing data for the inputs {missing} of the model "
                                     f"{self.name!r}")
                values = [x[n] for n in names]
            else:
                values = flatten(x) if is_nested(x) else [x]
                if len(values) != len(symbolic):
                    raise ValueError(f"x: the model {self.name!r} has {len(symbolic)} inputs "
                                     f"({names}), received {len(values)} arrays")
            ordered = []
            for i, (value, tensor) in enumerate(zip(values, symbolic)):
                arg = "x" if len(values) == 1 else f"x[{names[i]!r}]"
                ordered.append(self._convert_input(arg, value, np.dtype(tensor.dtype),
                                                   tuple(tensor.shape)))
            if isinstance(x, dict):
                by_name = dict(zip(names, ordered))
                template = {n: None for n in sorted(names)}
                return [by_name[n] for n in sorted(names)], template, ordered
            template = x if is_nested(x) else None
            return ordered, template, ordered
        if is_nested(x):
            leaves = [self._convert_input(f"x[{i}]", v, self._input_dtype(), None)
                      for i, v in enumerate(flatten(x))]
            return leaves, x, leaves
        array = as_array("x", x)
        if array.ndim == 0:
            raise ValueError("x: expected an array with a batch dimension, received a scalar")
        self._ensure_built(array)
        leaves = [self._convert_input("x", array, self._input_dtype(),
                                      getattr(self, "_build_input_shape", None))]
        return leaves, None, leaves

    def _output_shapes(self, x_struct) -> list:
        """The flat output shapes: from the graph when there is one, else seen on one
        sample (cached per input shape)."""
        from .._tree import flatten

        outputs = getattr(self, "outputs", None) if hasattr(type(self), "outputs") else None
        if outputs:
            return [tuple(t.shape) for t in outputs]
        shape = getattr(self, "output_shape", None)
        if shape is not None and not isinstance(shape, list):
            return [tuple(shape)]
        key = tuple(tuple(a.shape[1:]) for a in flatten(x_struct))
        cached = self.__dict__.get("_seen_output_shapes")
        if cached is None or cached[0] != key:
            from .._tree import map_structure

            sample = map_structure(lambda a: a[:1], x_struct)
            outs = flatten(self._predict_batch(sample))
            cached = (key, [(None,) + np.shape(o)[1:] for o in outs])
            object.__setattr__(self, "_seen_output_shapes", cached)
        return cached[1]

    def _prepare_data(self, x, y, sample_weight, class_weight, targets=True) -> Dataset:
        """Checks and converts fit / evaluate / predict data once (see Dataset)."""
        from .._tree import is_nested, pack_sequence_as as pack_as

        x_leaves, x_template, x_ordered = self._prepare_x(x)
        n = check_same_lengths("x", x_leaves)
        reference = x_leaves[0] if x_leaves else None
        if not targets or y is None:
            if targets and (class_weight is not None or sample_weight is not None):
                raise ValueError("y: expected targets with sample_weight or class_weight, "
                                 "received None")
            if targets and not {"train_step", "test_step"} & self._overridden_steps():
                raise ValueError("y: expected targets, received None (only a model that "
                                 "overrides train_step / test_step may train without them)")
            return Dataset(x_leaves, x_template, [], None, [], None, [], [], x_ordered)
        sample = pack_as(x_template, [a[:1] for a in x_leaves]) if x_template is not None \
            else x_leaves[0][:1]
        names = self._known_output_names()
        if names is None:
            names = self._output_names_for(self._predict_batch(sample))
        if self.compiled and self._compile_loss is None and self._compile_args[0] is not None:
            self._build_compile_state(names)
        out_shapes = self._output_shapes(sample)
        loss_fns = self._compile_loss.fns if self._compile_loss is not None else \
            [None] * len(names)
        y_out = []
        for i, (value, shape, loss) in enumerate(zip(flat_by_outputs("y", y, names),
                                                     out_shapes, loss_fns)):
            if value is None:
                y_out.append(None)
                continue
            arg = "y" if len(names) == 1 else f"y[{names[i]!r}]"
            integer = _wants_integer_targets(loss)
            target = as_targets(arg, value, self._input_dtype(), integer)
            target = self._match_target_shape(arg, target, shape, integer, loss)
            if getattr(loss, "kind", None) == "categorical_crossentropy":
                require_distribution_rows(arg, target, "categorical_crossentropy")
            y_out.append(target)
        y_template, y_leaves = _template_like(y, names, y_out)
        check_same_lengths("y", y_leaves, reference)
        sw_out, converted = [], {}
        for i, value in enumerate(flat_sample_weights(sample_weight, names)):
            if value is None or y_out[i] is None:
                sw_out.append(None)
                continue
            if id(value) not in converted:
                arg = "sample_weight" if not isinstance(sample_weight, (dict, list, tuple)) \
                    else f"sample_weight[{names[i]!r}]"
                converted[id(value)] = as_sample_weight(arg, value, n, self._input_dtype())
            sw_out.append(converted[id(value)])
        if class_weight is not None:
            if len(names) > 1:
                raise ValueError("class_weight: only supported for models with one output; "
                                 "pass sample_weight per output instead")
            cw = class_weight_to_sample_weight(class_weight, y_out[0], self._input_dtype())
            sw_out = [cw if sw_out[0] is None else np.ascontiguousarray(sw_out[0] * cw)]
            sample_weight = sw_out[0]
        if all(w is None for w in sw_out):
            sw_template, sw_leaves = None, []
        elif is_nested(sample_weight):
            sw_template, sw_leaves = _template_like(sample_weight, names, sw_out)
        else:
            sw_template, sw_leaves = None, [next(w for w in sw_out if w is not None)]
        return Dataset(x_leaves, x_template, y_leaves, y_template, sw_leaves, sw_template,
                       y_out, sw_out, x_ordered)

    def _match_target_shape(self, arg: str, y: np.ndarray, out, integer: bool, loss):
        """Keras' rank fixes: (n, 1) class indices -> (n,); (n,) targets of a (n, 1) output -> (n, 1)."""
        out = tuple(out)
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
        if _is_builtin(loss) and y.shape[1:] != tuple(out[1:]):
            hint = ""
            if y.ndim == 1 and len(out) == 2:
                hint = (" (integer labels? use loss='sparse_categorical_crossentropy' or "
                        "pydl.utils.to_categorical)")
            raise ValueError(
                f"{arg}: expected targets of shape (n, {', '.join(str(d) for d in out[1:])}) "
                f"to match the model's outputs {out}, received shape {y.shape}{hint}"
            )
        return y

    def _validation_data(self, validation_data) -> Dataset:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError(
                "validation_data: expected a tuple (x_val, y_val) or (x_val, y_val, "
                f"sample_weight), received {type(validation_data).__name__}"
                + (f" of length {len(validation_data)}"
                   if isinstance(validation_data, (tuple, list)) else "")
            )
        x_val, y_val = validation_data[0], validation_data[1]
        sw_val = validation_data[2] if len(validation_data) == 3 else None
        try:
            return self._prepare_data(x_val, y_val, sw_val, None)
        except ValueError as exc:
            raise ValueError(f"validation_data: {exc}") from None


def _template_like(value, names: list, per_output: list):
    """(template, leaves): `value`'s structure (a dict by output name, a list, or one
    array) holding the converted per-output arrays, leaves in its flatten order."""
    present = [(name, a) for name, a in zip(names, per_output) if a is not None]
    if isinstance(value, dict):
        by_name = dict(present)
        template = {k: None for k in sorted(by_name)}
        return template, [by_name[k] for k in sorted(by_name)]
    leaves = [a for _, a in present]
    if isinstance(value, (list, tuple)) and len(names) > 1:
        return ([None] * len(leaves) if isinstance(value, list) else (None,) * len(leaves)), leaves
    return None, leaves


def check_same_lengths(arg: str, arrays: list, reference=None) -> int:
    """The common number of samples of `arrays` (and of `reference`, x's first array):
    ValueError naming both when they differ."""
    for i, a in enumerate(arrays):
        if reference is None:
            reference = a
            continue
        if a.shape[0] != reference.shape[0]:
            name = arg if len(arrays) == 1 else f"{arg}[{i}]"
            raise ValueError(
                f"x and {arg} must have the same number of samples, received x with "
                f"{reference.shape[0]} samples (shape {reference.shape}) and {name} with "
                f"{a.shape[0]} samples (shape {a.shape})")
    return 0 if reference is None else int(reference.shape[0])
