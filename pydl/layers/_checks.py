"""Argument checks and config helpers shared by the built-in layers (messages as Keras:
the layer, the argument, what was expected, what came)."""

from __future__ import annotations

import math

import numpy as np


def number(layer: str, name: str, value, low=None, high=None, low_open=False,
           high_open=False) -> float:
    """`value` as a float in [low, high] (open ends when *_open); ValueError otherwise."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
        and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        left = "(" if low_open or low is None else "["
        right = ")" if high_open or high is None else "]"
        interval = f"{left}{lo}, {hi}{right}"
        raise ValueError(f"{layer}: expected {name} to be a number in {interval}, "
                         f"received {name}={value!r}")
    return float(value)


def positive_int(layer: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{layer}: expected {name} to be a positive integer, "
                         f"received {name}={value!r} (of type {type(value).__name__})")
    return int(value)


def boolean(layer: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{layer}: expected {name} to be a bool, received {name}={value!r}")
    return bool(value)


def seed(layer: str, value):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                              or value < 0):
        raise ValueError(f"{layer}: expected seed to be an int >= 0 or None, "
                         f"received seed={value!r}")
    return None if value is None else int(value)


def axes(layer: str, value):
    """An int, or a list of ints (a tuple becomes a list, as Keras stores it)."""
    if isinstance(value, (list, tuple)):
        if not value or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                            for a in value):
            raise TypeError(f"{layer}: expected axis to be an int or a list/tuple of ints, "
                            f"received axis={value!r}")
        return [int(a) for a in value]
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{layer}: expected axis to be an int or a list/tuple of ints, "
                        f"received axis={value!r}")
    return int(value)


def axes_in_range(layer: str, axis, input_shape) -> list:
    """`axis` (int or list) as sorted non-negative axes of `input_shape`, checked."""
    rank = len(input_shape)
    out = []
    for a in (axis if isinstance(axis, list) else [axis]):
        if not -rank <= a < rank:
            raise ValueError(f"{layer}: axis {a} is out of bounds for input shape "
                             f"{tuple(input_shape)}. Received: axis={axis!r}")
        out.append(a % rank)
    return sorted(out)


def constraint_config(layer: str, name: str, value):
    """A constraint for get_config: pydl saves none (it has no constraint registry)."""
    if value is not None:
        raise TypeError(f"{layer}: cannot save {name}={value!r}: pydl does not serialize "
                        "constraints; set it again after loading")
    return None


def callable_or_none(layer: str, name: str, value):
    if value is not None and not callable(value):
        raise TypeError(f"{layer}: expected {name} to be a callable or None, received "
                        f"{name}={value!r}")
    return value
