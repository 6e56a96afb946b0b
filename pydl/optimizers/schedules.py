"""Learning-rate schedules: functions of the optimizer's step count, as in Keras 3.

An optimizer created with ``learning_rate=schedule`` evaluates ``schedule(step)``
at ``step = optimizer.iterations`` (0 for the first update) on every update.
"""

from __future__ import annotations

import math
from numbers import Real


def _check_number(name: str, value, *, positive: bool = False, non_negative: bool = False):
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"Argument `{name}` must be a finite number. Received: {name}={value!r}")
    if positive and value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")
    if non_negative and value < 0:
        raise ValueError(f"Argument `{name}` must be >= 0. Received: {name}={value!r}")
    return float(value) if not isinstance(value, int) else value


class LearningRateSchedule:
    """Base class: ``schedule(step) -> float`` plus a config for saving.

    Subclasses implement ``__call__(step)`` and ``get_config()``; ``from_config``
    calls the constructor with the config as keyword arguments.
    """

    def __call__(self, step) -> float:
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self) -> dict:
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class ExponentialDecay(LearningRateSchedule):
    """Exponential decay of the learning rate.

    ```python
    p = step / decay_steps
    if staircase:
        p = floor(p)
    lr = initial_learning_rate * decay_rate ** p
    ```

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps over which the rate is multiplied by ``decay_rate`` (> 0).
        decay_rate: the factor per ``decay_steps``.
        staircase: decay in whole periods (a step function) instead of smoothly.
        name: optional name, kept in the config.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name="ExponentialDecay"):
        self.initial_learning_rate = _check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_number("decay_steps", decay_steps, positive=True)
        self.decay_rate = _check_number("decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step) -> float:
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate**p

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant learning rate per interval of steps.

    ```python
    lr = values[0]  if step <= boundaries[0]
         values[i]  if boundaries[i-1] < step <= boundaries[i]
         values[-1] if step > boundaries[-1]
    ```

    Args:
        boundaries: increasing step counts where the rate changes.
        values: the rates, one more than ``boundaries``.
        name: optional name, kept in the config.
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        boundaries = list(boundaries)
        values = list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, "
                f"and values={values} of length {len(values)}."
            )
        for i, b in enumerate(boundaries):
            _check_number(f"boundaries[{i}]", b)
        if any(b1 >= b2 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise ValueError(f"Argument `boundaries` must be strictly increasing. Received: boundaries={boundaries}")
        for i, v in enumerate(values):
            _check_number(f"values[{i}]", v)
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step) -> float:
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]

    def get_config(self) -> dict:
        return {"boundaries": list(self.boundaries), "values": list(self.values), "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay, with an optional linear warmup before it (Keras 3).

    ```python
    if warmup_target is None:               # no warmup: decay from initial_learning_rate
        s = min(step, decay_steps)
        lr = initial_learning_rate * decayed(s)
    elif step < warmup_steps:               # linear warmup to warmup_target
        lr = initial_learning_rate + (warmup_target - initial_learning_rate) * step / warmup_steps
    else:                                   # then decay from warmup_target
        s = min(step, warmup_steps + decay_steps) - warmup_steps
        lr = warmup_target * decayed(s)
    decayed(s) = (1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha
    ```

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: steps to decay over (> 0).
        alpha: the final rate as a fraction of the rate decayed from.
        name: optional name, kept in the config.
        warmup_target: the rate reached at the end of the warmup; None: no warmup.
        warmup_steps: length of the warmup in steps.
    """

    def __init__(
        self,
        initial_learning_rate,
        decay_steps,
        alpha=0.0,
        name="CosineDecay",
        warmup_target=None,
        warmup_steps=0,
    ):
        self.initial_learning_rate = _check_number("initial_learning_rate", initial_learning_rate)
        self.decay_steps = _check_number("decay_steps", decay_steps, positive=True)
        self.alpha = _check_number("alpha", alpha)
        self.name = name
        self.warmup_target = None if warmup_target is None else _check_number("warmup_target", warmup_target)
        self.warmup_steps = _check_number("warmup_steps", warmup_steps, non_negative=True)

    def _decayed(self, step: float, decay_from: float) -> float:
        fraction = step / self.decay_steps
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        return decay_from * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step) -> float:
        step = float(step)
        if self.warmup_target is None:
            return self._decayed(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        return self._decayed(step - self.warmup_steps, self.warmup_target)

    def get_config(self) -> dict:
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


_SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay, CosineDecay)}


def serialize(schedule: LearningRateSchedule) -> dict:
    """``{"class_name": ..., "config": ...}`` of a schedule (JSON-compatible)."""
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(f"schedule: expected a LearningRateSchedule, received {type(schedule).__name__}")
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Inverse of `serialize`; `custom_objects` maps class names to user schedule classes."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"config: expected a dict with 'class_name' and 'config', received {config!r}")
    name = config["class_name"]
    classes = dict(_SCHEDULES, **(custom_objects or {}))
    if name not in classes:
        raise ValueError(f"Unknown learning-rate schedule: {name!r}. Known: {sorted(classes)}")
    return classes[name].from_config(dict(config.get("config", {})))
