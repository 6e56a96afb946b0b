"""Weight initializers with Keras 3 semantics.

An initializer is called as `init(shape, dtype="float32") -> np.ndarray`.
Random ones draw from pydl's global generator (pydl/_random.py, reproducible
under `pydl.utils.set_random_seed`), or, given `seed=int`, from a generator of
that seed -- then every call returns the same values, as in Keras 3.

Variance scaling (Glorot, He, LeCun): with `fan_in, fan_out = compute_fans(shape)`,
    n = fan_in | fan_out | (fan_in + fan_out) / 2      (mode)
    uniform:           U(-limit, limit), limit = sqrt(3 * scale / n)
    truncated_normal:  N(0, stddev) cut at 2 stddev, stddev = sqrt(scale / n) / 0.8796...
    untruncated_normal: N(0, sqrt(scale / n))
"""

from __future__ import annotations

import math

import numpy as np

from . import _random
from ._config import floatx

# Standard deviation of the unit normal truncated to [-2, 2] (Keras' constant).
_TRUNCATED_STDDEV = 0.87962566103423978


def compute_fans(shape) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight shape, as Keras: dense (in, out); conv (*kernel, in, out)."""
    shape = tuple(int(n) for n in shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _float_dtype(dtype) -> np.dtype:
    dtype = np.dtype(floatx() if dtype is None else dtype)
    if dtype.kind != "f":
        raise ValueError(f"initializer: dtype must be a float dtype, received {dtype}")
    return dtype


def _shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    shape = tuple(shape)
    for n in shape:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ValueError(f"initializer: shape must hold ints >= 0, received {shape}")
    return tuple(int(n) for n in shape)


class Initializer:
    """Base class: `__call__(shape, dtype=None)`, `get_config`, `from_config`."""

    def __call__(self, shape, dtype=None) -> np.ndarray:
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _Random(Initializer):
    """An initializer that draws: seeded with an int, each call draws the same values."""

    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"{type(self).__name__}: seed must be an int or None, received "
                            f"{seed!r}")
        self.seed = None if seed is None else int(seed)

    def _generator(self) -> np.random.Generator:
        return _random.generator() if self.seed is None else _random.spawn_generator(self.seed)

    def get_config(self) -> dict:
        return {"seed": self.seed}


def _truncated_normal(gen, shape, stddev: float) -> np.ndarray:
    """N(0, stddev) samples redrawn until inside 2 stddev."""
    out = gen.standard_normal(shape)
    bad = np.abs(out) > 2.0
    while bad.any():
        out[bad] = gen.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2.0
    return out * stddev


class RandomNormal(_Random):
    """N(mean, stddev)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _float_dtype(dtype)
        return (self._generator().normal(self.mean, self.stddev, shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(_Random):
    """N(mean, stddev) with values beyond 2 stddev redrawn."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean, self.stddev = float(mean), float(stddev)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _float_dtype(dtype)
        return (self.mean + _truncated_normal(self._generator(), shape, self.stddev)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class RandomUniform(_Random):
    """U(minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval, self.maxval = float(minval), float(maxval)

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _float_dtype(dtype)
        return self._generator().uniform(self.minval, self.maxval, shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(_Random):
    """Scale-aware random weights (see the module docstring for the formulas)."""

    _MODES = ("fan_in", "fan_out", "fan_avg")
    _DISTRIBUTIONS = ("uniform", "truncated_normal", "untruncated_normal")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        if not scale > 0:
            raise ValueError(f"VarianceScaling: scale must be > 0, received scale={scale}")
        if mode not in self._MODES:
            raise ValueError(f"VarianceScaling: mode must be one of {self._MODES}, received "
                             f"mode={mode!r}")
        if distribution not in self._DISTRIBUTIONS:
            raise ValueError(f"VarianceScaling: distribution must be one of "
                             f"{self._DISTRIBUTIONS}, received distribution={distribution!r}")
        self.scale, self.mode, self.distribution = float(scale), mode, distribution

    def __call__(self, shape, dtype=None):
        shape, dtype = _shape(shape), _float_dtype(dtype)
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, n)
        gen = self._generator()
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            values = gen.uniform(-limit, limit, shape)
        elif self.distribution == "truncated_normal":
            values = _truncated_normal(gen, shape, math.sqrt(scale) / _TRUNCATED_STDDEV)
        else:
            values = gen.normal(0.0, math.sqrt(scale), shape)
        return values.astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                **super().get_config()}


def _preset(name, scale, mode, distribution, doc):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                           "__doc__": doc})


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform",
                        "U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)).")
GlorotNormal = _preset("GlorotNormal", 1.0, "fan_avg", "truncated_normal",
                       "Truncated normal, stddev = sqrt(2 / (fan_in + fan_out)).")
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform",
                    "U(-limit, limit), limit = sqrt(6 / fan_in).")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal",
                   "Truncated normal, stddev = sqrt(2 / fan_in).")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform",
                       "U(-limit, limit), limit = sqrt(3 / fan_in).")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal",
                      "Truncated normal, stddev = sqrt(1 / fan_in).")


class Constant(Initializer):
    """Every element equal to `value`."""

    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype=None):
        return np.full(_shape(shape), self.value, dtype=_float_dtype(dtype))

    def get_config(self):
        return {"value": self.value}


class Zeros(Initializer):
    """All zeros."""

    def __call__(self, shape, dtype=None):
        return np.zeros(_shape(shape), dtype=_float_dtype(dtype))


class Ones(Initializer):
    """All ones."""

    def __call__(self, shape, dtype=None):
        return np.ones(_shape(shape), dtype=_float_dtype(dtype))


_CLASSES = {cls.__name__: cls for cls in (
    GlorotUniform, GlorotNormal, HeUniform, HeNormal, LecunUniform, LecunNormal, RandomNormal,
    RandomUniform, TruncatedNormal, VarianceScaling, Zeros, Ones, Constant)}
_SNAKE = {
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal, "he_uniform": HeUniform,
    "he_normal": HeNormal, "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling, "zeros": Zeros,
    "ones": Ones, "constant": Constant,
    # Keras' aliases ("uniform" is Embedding's default initializer).
    "uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros,
}


def get(identifier):
    """An initializer from a snake_case name, a class name, a config dict, or a callable.

    None gives None.
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        name, config = identifier.get("class_name"), identifier.get("config", {}) or {}
        cls = _CLASSES.get(name) or _SNAKE.get(name)
        if cls is None:
            raise ValueError(f"initializer: unknown class_name {name!r} in {identifier!r}")
        return cls.from_config(config)
    if isinstance(identifier, str):
        cls = _SNAKE.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            valid = ", ".join(sorted(_SNAKE))
            raise ValueError(f"initializer: unknown name {identifier!r}; expected one of "
                             f"{valid} (or a class name)")
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"initializer: expected a name, a dict, an Initializer or a callable, "
                    f"received {identifier!r}")


def serialize(initializer) -> dict:
    """`{"class_name": ..., "config": ...}` of an Initializer."""
    if not isinstance(initializer, Initializer):
        raise TypeError(f"serialize: expected an Initializer, received {initializer!r}")
    return {"class_name": type(initializer).__name__, "config": initializer.get_config()}


def deserialize(config: dict) -> Initializer:
    return get(config)


__all__ = ["Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Initializer",
           "LecunNormal", "LecunUniform", "Ones", "RandomNormal", "RandomUniform",
           "TruncatedNormal", "VarianceScaling", "Zeros", "compute_fans", "deserialize", "get",
           "serialize"]
