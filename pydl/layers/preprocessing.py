"""Preprocessing layers: Normalization (with `adapt`), Rescaling, CategoryEncoding.

They transform the data at the model's input and learn nothing by gradient:
Normalization's statistics come from `adapt`, CategoryEncoding's output is not
differentiable (its inputs are integers).
"""

from __future__ import annotations

import math

import numpy as np

from .. import _core, ops
from ..ops.embedding import as_indices, values_are_indices
from ..tensor import Tensor
from ..variable import Variable
from . import _checks
from .layer import Layer

_EPSILON = 1e-7  # Keras' backend.epsilon(): the smallest standard deviation divided by


def _int64_zeros(shape, dtype=None):
    return np.zeros(shape, np.int64)


def _array(batch) -> np.ndarray:
    if isinstance(batch, tuple):  # (x, y) or (x, y, sample_weight): x only, as Keras
        batch = batch[0]
    if isinstance(batch, (Tensor, Variable)):
        return np.asarray(batch)
    if not hasattr(batch, "shape"):
        raise TypeError("Normalization.adapt: expected batches of arrays (with a .shape), "
                        f"received an element of type {type(batch).__name__}")
    return np.asarray(batch)


class Normalization(Layer):
    """Shifts and scales each feature to mean 0 and variance 1, from statistics of the data.

    ```python
    y = (x - mean) / maximum(sqrt(variance), 1e-7)          # invert=True: x * std + mean
    ```
    `mean` and `variance` are given, or learned by ``adapt(data)``, which streams
    over batches, merging each batch's statistics (float64) into the running ones.

    Args:
        axis: the axes that keep their own statistics (int, tuple, or None for one
            mean and variance over everything); -1: one per feature.
        mean, variance: given statistics (broadcast over the kept axes), or None to adapt.
        invert: apply the inverse transformation.

    Example:
        norm = pydl.layers.Normalization()
        norm.adapt(x_train)                  # or norm.adapt(batches), a generator of arrays
        model = pydl.Sequential([pydl.Input((13,)), norm, pydl.layers.Dense(1)])
    """

    supports_masking = True

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        layer = "Normalization"
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise TypeError(f"{layer}: expected axis to be an int, a tuple of ints or None, "
                            f"received axis={axis!r}")
        invert = _checks.boolean(layer, "invert", invert)
        if (mean is None) != (variance is None):
            raise ValueError(f"{layer}: when setting values directly, both `mean` and "
                             f"`variance` must be set. Received: mean={mean} and "
                             f"variance={variance}")
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(f"{layer}: `mean` and `variance` must have the same shape, "
                                 f"received mean shape {np.shape(mean)} and variance shape "
                                 f"{np.shape(variance)}")
            if len(np.shape(mean)) > len(axis):
                raise ValueError(f"{layer}: the rank of `mean` must be <= the number of axes "
                                 f"({len(axis)}), received mean shape {np.shape(mean)} for "
                                 f"axis={axis}")
        super().__init__(**kwargs)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = invert
        self.adapt_mean = self.adapt_variance = self.count = None
        self._keep_axis = self._reduce_axis = self._broadcast_shape = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization: all `axis` values must be in [-{ndim}, {ndim}), "
                             f"received axis={self.axis} for inputs of shape {input_shape}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        for d in keep:
            if input_shape[d] is None:
                raise ValueError(f"Normalization: the kept axis {d} must have a known size, "
                                 f"received input_shape={input_shape}")
        self._build_shape = input_shape
        self._keep_axis = keep
        self._reduce_axis = tuple(d for d in range(ndim) if d not in keep)
        self._broadcast_shape = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        stats_shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(shape=stats_shape, initializer="zeros",
                                              trainable=False, name="mean")
            self.adapt_variance = self.add_weight(shape=stats_shape, initializer="ones",
                                                  trainable=False, name="variance")
            self.count = self.add_weight(shape=(), initializer=_int64_zeros, dtype="int64",
                                         trainable=False, name="count")
        self.built = True

    def _statistics(self):
        """(mean, variance) broadcastable against the inputs, in the layer's dtype."""
        if self.input_mean is not None:
            mean, variance = (np.asarray(v, dtype=self.dtype)
                              for v in (self.input_mean, self.input_variance))
            if mean.ndim:  # the trailing kept axes, as Keras expands them
                shape = [1] * len(self._broadcast_shape)
                for i in range(1, mean.ndim + 1):
                    shape[self._keep_axis[-i]] = mean.shape[-i]
                mean, variance = mean.reshape(shape), variance.reshape(shape)
            return (np.broadcast_to(mean, self._broadcast_shape),
                    np.broadcast_to(variance, self._broadcast_shape))
        return (self.adapt_mean.value.reshape(self._broadcast_shape),
                self.adapt_variance.value.reshape(self._broadcast_shape))

    def call(self, inputs):
        mean, variance = self._statistics()
        std = np.maximum(np.sqrt(variance), variance.dtype.type(_EPSILON))
        if self.invert:
            return ops.add(ops.multiply(inputs, std), mean)
        return ops.divide(ops.subtract(inputs, mean), std)

    def _plan_node(self, call):
        if np.dtype(self.dtype) != np.float32:
            return call.unsupported(f"Normalization {self.name!r} computes in {self.dtype}")
        keep = [d - 1 for d in self._keep_axis]
        if keep and (keep[0] < 0 or keep != list(range(keep[0], keep[-1] + 1))):
            return call.unsupported(f"Normalization {self.name!r} keeps statistics along axes "
                                    f"{self.axis} that are not one run of sample axes")
        if self.input_mean is None:  # adapted: the live arrays (adapt writes them in place)
            mean = self.adapt_mean.value.reshape(-1)
            variance = self.adapt_variance.value.reshape(-1)
        else:
            mean, variance = (np.ascontiguousarray(v).reshape(-1) for v in self._statistics())
        order = "scale_shift" if self.invert else "shift_divide"
        node = _core.plan.Affine(variance, mean, keep[0] if keep else 0, len(keep), order,
                                 std_from_variance=True)
        return call.native(node)

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the mean and variance of `data`, streaming over its batches.

        ```python
        for each batch:  n += batch_count; w = batch_count / n
            new_mean = mean * (1 - w) + batch_mean * w
            variance = (variance + (mean - new_mean)**2) * (1 - w)
                       + (batch_variance + (batch_mean - new_mean)**2) * w
        ```

        Args:
            data: an array (split into batches of `batch_size` samples, 32 when None
                and `steps` is given, else all at once), or an iterable of batches
                (a generator, a list of arrays, ``(x, y)`` tuples use x).
            batch_size: samples per batch for array data; not allowed with an iterable.
            steps: the number of batches to use (all when None).
        """
        if batch_size is not None:
            batch_size = _checks.positive_int("Normalization.adapt", "batch_size", batch_size)
        if steps is not None:
            steps = _checks.positive_int("Normalization.adapt", "steps", steps)
        if self.input_mean is not None:
            raise ValueError("Normalization.adapt: this layer was given mean and variance; "
                             "create it without them to adapt")
        batches = self._batches(data, batch_size, steps)
        first = next(batches, None)
        if first is None:
            raise ValueError("Normalization.adapt: received no data (an empty iterable); "
                             "pass an array or a non-empty iterable of batches")
        if not self.built:
            self.build(first.shape)
        mean = variance = None
        total = 0
        for batch in _chain(first, batches):
            self._check_batch(batch)
            count = math.prod(batch.shape[d] for d in self._reduce_axis)
            if count == 0:
                continue
            b_mean = batch.mean(axis=self._reduce_axis, dtype=np.float64)
            b_var = batch.astype(np.float64).var(axis=self._reduce_axis)
            total += count
            if mean is None:
                mean, variance = b_mean, b_var
                continue
            w = count / total
            new_mean = mean * (1.0 - w) + b_mean * w
            variance = (variance + (mean - new_mean) ** 2) * (1.0 - w) + \
                (b_var + (b_mean - new_mean) ** 2) * w
            mean = new_mean
        if mean is None:
            raise ValueError("Normalization.adapt: the data holds no samples")
        self.adapt_mean.assign(np.reshape(mean, self.adapt_mean.value.shape))
        self.adapt_variance.assign(np.reshape(variance, self.adapt_variance.value.shape))
        self.count.assign(np.int64(total))

    def _batches(self, data, batch_size, steps):
        if isinstance(data, (np.ndarray, Tensor, Variable)):
            array = np.asarray(data)
            if array.ndim == 0:
                raise ValueError("Normalization.adapt: expected data with a batch axis, "
                                 "received a scalar")
            size = batch_size or (32 if steps is not None else max(len(array), 1))
            starts = range(0, len(array), size)
            if steps is not None:
                starts = starts[:steps]
            return (array[i:i + size] for i in starts)
        if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
            raise TypeError(f"Normalization.adapt: expected an array or an iterable of "
                            f"batches, received {type(data).__name__}")
        if batch_size is not None:
            raise ValueError("Normalization.adapt: batch_size applies to array data; an "
                             "iterable (generator, list of batches) makes its own batches")
        iterator = iter(data)
        return (_array(b) for _, b in zip(range(steps) if steps else _forever(), iterator))

    def _check_batch(self, batch: np.ndarray) -> None:
        shape = self._build_shape
        if batch.ndim != len(shape) or any(batch.shape[d] != shape[d] for d in self._keep_axis):
            raise ValueError(f"Normalization.adapt: the layer was built for inputs of shape "
                             f"{shape}, received a batch of shape {batch.shape}")
        if batch.dtype.kind not in "biuf":
            raise TypeError(f"Normalization.adapt: expected numeric data, received dtype "
                            f"{batch.dtype}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "axis": list(self.axis), "invert": self.invert,
            "mean": None if self.input_mean is None else np.asarray(self.input_mean).tolist(),
            "variance": None if self.input_variance is None
            else np.asarray(self.input_variance).tolist(),
        })
        return config


def _chain(first, rest):
    yield first
    yield from rest


def _forever():
    while True:
        yield None


class Rescaling(Layer):
    """Multiplies by `scale` and adds `offset`: ``y = x * scale + offset``.

    Args:
        scale: a number (or an array broadcast against the input), e.g. 1 / 255.
        offset: a number (or array), e.g. -1 with scale 1 / 127.5 for [-1, 1].
    """

    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        for name, value in (("scale", scale), ("offset", offset)):
            array = np.asarray(value)
            if array.dtype.kind not in "biuf":
                raise ValueError(f"Rescaling: expected {name} to be a number or an array of "
                                 f"numbers, received {name}={value!r}")
        super().__init__(**kwargs)
        self.scale = scale.tolist() if isinstance(scale, np.ndarray) else scale
        self.offset = offset.tolist() if isinstance(offset, np.ndarray) else offset

    def call(self, inputs):
        scale = np.asarray(self.scale, dtype=self.dtype)
        offset = np.asarray(self.offset, dtype=self.dtype)
        return ops.add(ops.multiply(inputs, scale), offset)

    def _plan_node(self, call):
        sample = (1,) + tuple(call.input_shapes[0])
        scale = np.asarray(self.scale, dtype=self.dtype)
        offset = np.asarray(self.offset, dtype=self.dtype)
        try:
            fits = np.broadcast_shapes(sample, scale.shape, offset.shape) == sample
        except ValueError:
            fits = False
        if not fits or scale.dtype != np.float32:
            return call.unsupported(f"Rescaling {self.name!r}: scale and offset must be float32 "
                                    "and broadcast within one sample")
        a, b = (np.ascontiguousarray(np.broadcast_to(v, sample)).reshape(-1)
                for v in (scale, offset))
        node = _core.plan.Affine(a, b, 0, len(sample) - 1, "scale_shift")
        return call.native(node)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config


_MODES = ("multi_hot", "one_hot", "count")


class CategoryEncoding(Layer):
    """Encodes integer tokens in [0, num_tokens) as dense vectors.

    ```python
    "multi_hot": y[b, k] = 1 if token k occurs in sample b        # inputs (batch, tokens)
    "count":     y[b, k] = number of times k occurs (weighted by count_weights)
    "one_hot":   y[..., k] = 1 where the input is k                # one vector per token
    ```
    A 1-D input is one sample (multi_hot / count) or one token per sample (one_hot).
    A token outside [0, num_tokens) raises ValueError naming the first and its position.

    Args:
        num_tokens: the number of distinct tokens (int > 0).
        output_mode: "multi_hot" (alias "binary"), "one_hot" or "count".
        sparse: only False (pydl has no sparse tensors).

    Example (DLwP ch. 4, IMDB):
        model = pydl.Sequential([pydl.Input((None,)), pydl.layers.CategoryEncoding(10000),
                                 pydl.layers.Dense(16, activation="relu"), ...])
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        layer = "CategoryEncoding"
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in _MODES:
            raise ValueError(f"{layer}: expected output_mode to be one of {_MODES}, received "
                             f"output_mode={output_mode!r}")
        if num_tokens is None:
            raise ValueError(f"{layer}: num_tokens must be set, received num_tokens=None")
        num_tokens = _checks.positive_int(layer, "num_tokens", num_tokens)
        if sparse:
            raise ValueError(f"{layer}: sparse=True is not supported (pydl has no sparse "
                             "tensors); use sparse=False")
        super().__init__(**kwargs)
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = False

    def _convert_inputs(self, inputs):
        if isinstance(inputs, np.ndarray):
            return inputs  # tokens stay integers
        return super()._convert_inputs(inputs)

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(f"CategoryEncoding: count_weights is only used when output_mode "
                             f"is 'count', received output_mode={self.output_mode!r}")
        tokens = self._checked_tokens(inputs)
        n = self.num_tokens
        if self.output_mode == "one_hot":
            if tokens.ndim > 1 and tokens.shape[-1] == 1:
                tokens = tokens[..., 0]
            out = np.zeros(tokens.shape + (n,), dtype=self.dtype)
            np.put_along_axis(out, tokens[..., None], 1, axis=-1)
            return Tensor(out)
        if tokens.ndim > 2:
            raise ValueError(f"CategoryEncoding: output_mode={self.output_mode!r} supports "
                             f"inputs of rank <= 2 (batch, tokens), received shape "
                             f"{tokens.shape}")
        rows = tokens.reshape(-1, tokens.shape[-1]) if tokens.ndim else tokens.reshape(1, 1)
        flat = (rows + (np.arange(rows.shape[0], dtype=np.int64) * n)[:, None]).ravel()
        if self.output_mode == "multi_hot":
            out = np.zeros(rows.shape[0] * n, dtype=self.dtype)
            out[flat] = 1
        else:
            weights = None
            if count_weights is not None:
                weights = np.asarray(count_weights, dtype=np.float64)
                if weights.shape != tokens.shape:
                    raise ValueError(f"CategoryEncoding: count_weights must have the inputs' "
                                     f"shape {tokens.shape}, received {weights.shape}")
                weights = weights.ravel()
            out = np.bincount(flat, weights=weights, minlength=rows.shape[0] * n)
            out = out.astype(self.dtype)
        out = out.reshape(rows.shape[0], n)
        return Tensor(out if tokens.ndim == 2 else out[0])

    def _plan_node(self, call):
        if "count_weights" in call.kwargs:
            return call.unsupported(f"CategoryEncoding {self.name!r} is called with "
                                    "count_weights")
        if np.dtype(self.dtype) != np.float32:
            return call.unsupported(f"CategoryEncoding {self.name!r} encodes in {self.dtype}")
        if self.output_mode != "one_hot" and len(call.input_shapes[0]) != 1:
            return call.unsupported(f"CategoryEncoding {self.name!r}: {self.output_mode} of "
                                    "samples that are not one axis of tokens")
        node = _core.plan.CategoryEncoding(self.num_tokens, self.output_mode)
        return call.native(node, input_checks={0: self._tokens_fit})

    def _tokens_fit(self, values) -> bool:
        return values_are_indices(values, self.num_tokens)

    def _checked_tokens(self, inputs) -> np.ndarray:
        tokens = as_indices(inputs, "CategoryEncoding")
        bad = (tokens < 0) | (tokens >= self.num_tokens)
        if bad.any():
            where = np.unravel_index(int(np.argmax(bad.ravel())), tokens.shape)
            raise ValueError(f"CategoryEncoding: expected input values in [0, num_tokens="
                             f"{self.num_tokens}), received {tokens[where]} at position "
                             f"{tuple(int(i) for i in where)}")
        return tokens

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if not input_shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
