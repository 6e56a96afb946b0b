"""The random draws of `pydl.random`, with `keras.random`'s names, arguments and defaults.

Every function takes `seed` = None (pydl's global generator), an int (a fixed
draw) or a `SeedGenerator` (advanced at each call); see seed_generator.py.
Results are Tensors; float results default to `pydl.backend.floatx()`.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence, Union

import numpy as np

from .._config import floatx
from ..ops._convert import raw
from ..tensor import Tensor
from .seed_generator import SeedLike, generator_for

ShapeLike = Union[int, Sequence[int]]


def _shape(shape, name: str) -> tuple:
    items = (shape,) if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) \
        else shape
    try:
        items = tuple(items)
    except TypeError:
        items = None
    if items is None or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0
                            for n in items):
        raise ValueError(f"{name}: shape must be a tuple of ints >= 0, received shape={shape!r}")
    return tuple(int(n) for n in items)


def _dtype(dtype, kind: str, name: str) -> np.dtype:
    default = floatx() if kind == "f" else "int32"
    try:
        out = np.dtype(default if dtype is None else dtype)
    except TypeError:
        out = None
    if out is None or out.kind not in kind:
        wanted = "a floating point" if kind == "f" else "an integer"
        raise ValueError(f"{name}: requires {wanted} dtype, received dtype={dtype!r}")
    return out


def normal(shape: ShapeLike, mean: float = 0.0, stddev: float = 1.0, dtype=None,
           seed: SeedLike = None) -> Tensor:
    """Samples of N(mean, stddev**2).

    Args:
        shape: shape of the result.
        mean, stddev: the distribution's mean and standard deviation.
        dtype: a float dtype (default floatx()).
        seed: None, an int or a SeedGenerator.
    """
    shape, dtype = _shape(shape, "normal"), _dtype(dtype, "f", "normal")
    rng = generator_for(seed, "normal")
    return Tensor(rng.normal(loc=mean, scale=stddev, size=shape).astype(dtype))


def uniform(shape: ShapeLike, minval: float = 0.0, maxval: float = 1.0, dtype=None,
            seed: SeedLike = None) -> Tensor:
    """Samples of the uniform distribution on [minval, maxval).

    Args:
        shape: shape of the result.
        minval, maxval: the bounds (minval included, maxval excluded).
        dtype: a float dtype (default floatx()).
        seed: None, an int or a SeedGenerator.
    """
    shape, dtype = _shape(shape, "uniform"), _dtype(dtype, "f", "uniform")
    rng = generator_for(seed, "uniform")
    return Tensor(rng.uniform(low=minval, high=maxval, size=shape).astype(dtype))


def truncated_normal(shape: ShapeLike, mean: float = 0.0, stddev: float = 1.0, dtype=None,
                     seed: SeedLike = None) -> Tensor:
    """Samples of N(mean, stddev**2), redrawn until within two stddev of the mean.

    Args:
        shape: shape of the result.
        mean, stddev: the untruncated distribution's mean and standard deviation.
        dtype: a float dtype (default floatx()).
        seed: None, an int or a SeedGenerator.
    """
    shape = _shape(shape, "truncated_normal")
    dtype = _dtype(dtype, "f", "truncated_normal")
    rng = generator_for(seed, "truncated_normal")
    out = rng.standard_normal(shape)
    outside = np.abs(out) > 2.0
    while outside.any():
        out[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(out) > 2.0
    return Tensor((mean + stddev * out).astype(dtype))


def randint(shape: ShapeLike, minval: int, maxval: int, dtype="int32",
            seed: SeedLike = None) -> Tensor:
    """Integers drawn uniformly from [minval, maxval).

    Args:
        shape: shape of the result.
        minval, maxval: the bounds (minval included, maxval excluded), minval < maxval.
        dtype: an integer dtype.
        seed: None, an int or a SeedGenerator.
    """
    shape, dtype = _shape(shape, "randint"), _dtype(dtype, "iu", "randint")
    if not np.all(np.asarray(minval) < np.asarray(maxval)):
        raise ValueError(f"randint: expected minval < maxval, received minval={minval!r}, "
                         f"maxval={maxval!r}")
    rng = generator_for(seed, "randint")
    return Tensor(rng.integers(minval, maxval, size=shape, dtype=dtype))


def categorical(logits: Any, num_samples: int, dtype="int32", seed: SeedLike = None) -> Tensor:
    """Class indices drawn from the categorical distributions softmax(logits[i]).

        out[i, j] ~ P(class c) = exp(logits[i, c]) / sum_k exp(logits[i, k])

    Args:
        logits: (batch_size, num_classes) unnormalized log-probabilities; -inf
            gives a class probability 0.
        num_samples: samples per row, an int >= 0.
        dtype: an integer dtype of the result.
        seed: None, an int or a SeedGenerator.

    Returns:
        A (batch_size, num_samples) Tensor of class indices.
    """
    values = np.asarray(raw(logits), dtype=np.float64)
    if values.ndim != 2:
        raise ValueError("categorical: logits must be 2-D (batch_size, num_classes), received "
                         f"shape {values.shape}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or num_samples < 0:
        raise ValueError(f"categorical: num_samples must be an int >= 0, received "
                         f"num_samples={num_samples!r}")
    dtype = _dtype(dtype, "iu", "categorical")
    batch, classes = values.shape
    if classes == 0 or np.isnan(values).any() or np.isneginf(values.max(axis=1, initial=-np.inf)
                                                              ).any():
        raise ValueError("categorical: every row of logits needs a finite largest value (no "
                         "NaN, not all -inf, at least one class)")
    rng = generator_for(seed, "categorical")
    probabilities = np.exp(values - values.max(axis=1, keepdims=True))
    cdf = np.cumsum(probabilities / probabilities.sum(axis=1, keepdims=True), axis=1)
    u = rng.random((batch, int(num_samples)))
    # Inverse CDF per row: the first class whose cumulative probability exceeds u.
    samples = np.empty((batch, int(num_samples)), dtype=np.int64)
    for i in range(batch):
        samples[i] = np.searchsorted(cdf[i], u[i], side="right")
    np.minimum(samples, classes - 1, out=samples)  # u above a cdf that rounds below 1
    return Tensor(samples.astype(dtype))


def dropout(inputs: Any, rate: float, noise_shape: Optional[Sequence[Optional[int]]] = None,
            seed: SeedLike = None) -> Tensor:
    """Inverted dropout, always active: a fraction `rate` of the inputs set to 0, the rest
    scaled by 1 / (1 - rate). Differentiable (the gradient is masked the same way).

    Args:
        inputs: array, Tensor or Variable.
        rate: fraction dropped, in [0, 1] (1 gives zeros).
        noise_shape: shape of the mask, broadcast against the inputs (None
            entries take the input's size).
        seed: None, an int or a SeedGenerator.
    """
    from ..ops.dropout import dropout as dropout_op

    if isinstance(rate, (int, float, np.floating)) and float(rate) == 1.0:
        return Tensor(np.zeros_like(np.asarray(raw(inputs))))  # everything dropped (Keras)
    return dropout_op(inputs, rate, noise_shape=noise_shape,
                      seed=generator_for(seed, "dropout"), training=True)


def shuffle(x: Any, axis: int = 0, seed: SeedLike = None) -> Tensor:
    """`x` with its slices along `axis` in a random order (one permutation for all of them).

    Args:
        x: array, Tensor or Variable (its dtype is kept).
        axis: the axis to shuffle along.
        seed: None, an int or a SeedGenerator.
    """
    value = np.asarray(raw(x))
    if value.ndim == 0:
        raise ValueError("shuffle: x must have at least 1 dimension, received a scalar")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -value.ndim <= axis < value.ndim:
        raise ValueError(f"shuffle: axis must be an int in [{-value.ndim}, {value.ndim - 1}], "
                         f"received axis={axis!r}")
    rng = generator_for(seed, "shuffle")
    order = rng.permutation(value.shape[axis])
    return Tensor(np.take(value, order, axis=axis))
