"""The optimizer base class: slots, clipping, weight decay and schedules (Keras 3).

A subclass says which slots it keeps per variable (`_slot_specs`), which of them
the core rule reads (`_CORE_SLOTS`) and its rule's settings (`_rule_settings`);
the update itself -- clipping, weight decay and the rule, for all variables in one
call -- is the core's `_core.UpdateRule.apply` (nn/update.h), the same rule the
fused training plan applies. Gradient conversion, learning-rate schedules, the
step counter, saving and restoring the state live here, once.
"""

from __future__ import annotations

import math
import re
from numbers import Real

import numpy as np

from .. import _core
from . import schedules as schedules_module


def _check_optional_positive(name: str, value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, Real) or not value > 0 or not math.isfinite(value):
        raise ValueError(f"Argument `{name}` must be a positive finite number or None. Received: {name}={value!r}")
    return float(value)


def check_hyperparameter(name: str, value, low=None, high=None) -> float:
    """A finite real in [low, high] (bounds optional), as a float; else ValueError naming it."""
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ValueError(f"Argument `{name}` must be a finite number. Received: {name}={value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"Argument `{name}` must be in [{low}, {high}]. Received: {name}={value!r}")
    return float(value)


def _array_of(variable) -> np.ndarray:
    """The ndarray an optimizer updates in place: a pydl.Variable's `.value` or an ndarray."""
    array = variable if isinstance(variable, np.ndarray) else getattr(variable, "value", None)
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"variables: expected pydl.Variable objects (or NumPy arrays), received {type(variable).__name__}"
        )
    if array.dtype not in (np.float32, np.float64) or not array.flags.c_contiguous or not array.flags.writeable:
        raise TypeError(
            "variables: expected writeable C-contiguous float32 or float64 arrays, received "
            f"dtype={array.dtype}, c_contiguous={array.flags.c_contiguous}, writeable={array.flags.writeable}"
        )
    return array


# Set by pydl.distribution while a DataParallel distribution spans several processes:
# reducer(optimizer, pairs) -> pairs, the gradients summed over the processes (one
# Allreduce) before the update, so that every update -- fit's tape steps and custom
# GradientTape loops alike -- is data-parallel. None: one process.
_gradient_reducer = [None]


def _variable_name(variable) -> str:
    return getattr(variable, "name", None) or f"<array of shape {np.shape(variable)}>"


class Optimizer:
    """Base class of the optimizers.

    Each step, in Keras 3's order:

    ```python
    grads = clip(grads)                    # clipnorm | global_clipnorm | clipvalue (one at most)
    lr = learning_rate(iterations) if schedule else learning_rate
    for g, w in zip(grads, variables):     # one fused core call per variable
        w -= w * weight_decay * lr         # when weight_decay is set
        update_step(g, w, lr)              # the subclass's rule
    iterations += 1
    ```

    Args:
        learning_rate: a float, a `LearningRateSchedule`, or a callable of the step count.
        weight_decay: if set, decoupled weight decay ``w -= w * weight_decay * lr``.
        clipnorm: if set, each gradient is rescaled so that its L2 norm is at most this.
        clipvalue: if set, each gradient entry is clipped to ``[-clipvalue, clipvalue]``.
        global_clipnorm: if set, all gradients are rescaled together so that the norm of
            their concatenation is at most this.
        name: the optimizer's name.
        use_ema: keep an exponential moving average of every variable (Polyak
            averaging): ``average = m * average + (1 - m) * w`` after each update, with
            ``m = ema_momentum`` (0 at the first step, which copies w). ``fit`` ends by
            setting the variables to their averages; ``pydl.callbacks.SwapEMAWeights``
            evaluates with them.
        ema_momentum: the momentum m of the average, in [0, 1].
        ema_overwrite_frequency: if set, every that many steps the variables are set
            to their averages.
    """

    def __init__(
        self,
        learning_rate,
        weight_decay=None,
        clipnorm=None,
        clipvalue=None,
        global_clipnorm=None,
        name=None,
        use_ema=False,
        ema_momentum=0.99,
        ema_overwrite_frequency=None,
    ):
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, global_clipnorm={global_clipnorm}"
            )
        self.clipnorm = _check_optional_positive("clipnorm", clipnorm)
        self.clipvalue = _check_optional_positive("clipvalue", clipvalue)
        self.global_clipnorm = _check_optional_positive("global_clipnorm", global_clipnorm)
        if weight_decay is not None:
            weight_decay = check_hyperparameter("weight_decay", weight_decay, low=0.0)
        self.weight_decay = weight_decay
        self.use_ema = bool(use_ema)
        self.ema_momentum = check_hyperparameter("ema_momentum", ema_momentum, low=0.0, high=1.0)
        if ema_overwrite_frequency is not None and (
                isinstance(ema_overwrite_frequency, bool)
                or not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1):
            raise ValueError("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                             f"Received: ema_overwrite_frequency={ema_overwrite_frequency!r}")
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.name = name or type(self).__name__.lower()
        self._learning_rate = self._checked_learning_rate(learning_rate)
        self.iterations = 0
        self.built = False
        self._built_variables: list = []
        self._index: dict[int, int] = {}
        self._slots: list[list[np.ndarray]] = []  # _slots[k][i]: slot kind k of variable i
        self._arrays: list[np.ndarray] = []
        self._core_slots: list[tuple] = []  # per variable: its slots as the core rule reads them
        self._averages = None  # per variable: its moving average (use_ema)
        self._rule = None  # (settings, _core.UpdateRule), rebuilt when a setting changes
        self._decay_excluded_ids: set[int] = set()
        self._decay_excluded_names: list[str] = []

    # ----------------------------------------------------------------- learning rate
    @staticmethod
    def _checked_learning_rate(learning_rate):
        if isinstance(learning_rate, schedules_module.LearningRateSchedule) or callable(learning_rate):
            return learning_rate
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, Real) or not math.isfinite(learning_rate):
            raise ValueError(
                "Argument `learning_rate` should be a float, a LearningRateSchedule, or a callable "
                f"of the step count. Received: learning_rate={learning_rate!r}"
            )
        if learning_rate < 0:
            raise ValueError(
                f"Argument `learning_rate` should be >= 0. Received: learning_rate={learning_rate!r}")
        return float(learning_rate)

    @property
    def learning_rate(self) -> float:
        """The rate the next update uses (a schedule is evaluated at `iterations`)."""
        if callable(self._learning_rate):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if not isinstance(value, schedules_module.LearningRateSchedule) and callable(self._learning_rate):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                "optimizer with a float `learning_rate` argument."
            )
        self._learning_rate = self._checked_learning_rate(value)

    # ----------------------------------------------------------------- slots
    def _slot_specs(self) -> list[tuple[str, float]]:
        """(name, initial value) of each slot kind kept per variable, in build order."""
        return []

    def _all_slot_specs(self) -> list[tuple[str, float]]:
        """The rule's slots, then the moving average when use_ema (saved alike)."""
        return self._slot_specs() + ([("average", 0.0)] if self.use_ema else [])

    def build(self, var_list) -> None:
        """Creates the slots of `var_list`: slot kind by slot kind, variables in order."""
        variables = list(var_list)
        arrays = [_array_of(v) for v in variables]
        self._built_variables = variables
        self._index = {id(v): i for i, v in enumerate(variables)}
        self._slots = [
            [np.full(a.shape, initial, dtype=a.dtype) for a in arrays]
            for _, initial in self._all_slot_specs()
        ]
        # Per variable: its array (re-checked each step by identity) and its core slots.
        self._arrays = arrays
        names = [name for name, _ in self._all_slot_specs()]
        self._averages = self._slots[names.index("average")] if self.use_ema else None
        self._core_slots = [
            tuple(None if n is None or n not in names else self._slots[names.index(n)][i]
                  for n in self._CORE_SLOTS)
            for i in range(len(variables))
        ]
        self.built = True

    def slots(self, variable) -> dict[str, np.ndarray]:
        """The slot arrays of one built variable, by slot name (live arrays, updated in place)."""
        i = self._position(variable)
        return {name: kind[i] for (name, _), kind in zip(self._all_slot_specs(), self._slots)}

    def _position(self, variable) -> int:
        i = self._index.get(id(variable))
        if i is None:
            raise ValueError(
                f"Unknown variable: {_variable_name(variable)}. This optimizer can only be called for "
                "the variables it was originally built with. When working with a new set of variables, "
                "you should recreate a new optimizer instance."
            )
        return i

    @property
    def variables(self) -> list[np.ndarray]:
        """The state: ``[iterations]`` then every slot array in build order (live arrays)."""
        return [np.array(self.iterations, dtype=np.int64)] + [s for kind in self._slots for s in kind]

    def set_variables(self, values, var_list=None) -> None:
        """Restores a state saved from `variables` (builds on `var_list` first if given).

        Args:
            values: arrays in the order of `variables`.
            var_list: the variables to build for, when the optimizer is not built yet.
        """
        if var_list is not None and not self.built:
            self.build(var_list)
        if not self.built:
            raise ValueError(
                "set_variables: the optimizer is not built; pass var_list (e.g. model.trainable_weights)"
            )
        values = list(values)
        targets = [s for kind in self._slots for s in kind]
        if len(values) != 1 + len(targets):
            raise ValueError(
                f"values: expected {1 + len(targets)} arrays (iterations, then {len(targets)} slots), "
                f"received {len(values)}"
            )
        for k, (target, value) in enumerate(zip(targets, values[1:])):
            value = np.asarray(value)
            if value.shape != target.shape:
                raise ValueError(f"values[{k + 1}]: expected shape {target.shape}, received {value.shape}")
        iterations = np.asarray(values[0])
        if iterations.shape != () or iterations.dtype.kind not in "iu" or int(iterations) < 0:
            raise ValueError(f"values[0]: expected the iteration count (an int >= 0), received {values[0]!r}")
        self.iterations = int(iterations)
        for target, value in zip(targets, values[1:]):
            target[...] = value

    # ----------------------------------------------------------------- weight decay
    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempts variables (by identity, or by a regex searched in their name) from weight decay."""
        self._decay_excluded_ids.update(id(v) for v in (var_list or []))
        self._decay_excluded_names.extend(var_names or [])

    def _decay_for(self, variable) -> float:
        if not self.weight_decay or id(variable) in self._decay_excluded_ids:
            return 0.0
        name = getattr(variable, "name", None) or ""
        if any(re.search(pattern, name) for pattern in self._decay_excluded_names):
            return 0.0
        return self.weight_decay

    # ----------------------------------------------------------------- the step
    def apply_gradients(self, grads_and_vars) -> int:
        """Applies one update to each variable whose gradient is not None.

        Args:
            grads_and_vars: iterable of (gradient, variable); gradients are NumPy arrays,
                Tensors or None (that variable is skipped this step).

        Returns:
            The new value of `iterations`.
        """
        pairs = list(grads_and_vars)
        if not pairs:
            return self.iterations
        if _gradient_reducer[0] is not None:
            pairs = _gradient_reducer[0](self, pairs)
        if not self.built:
            self.build([v for _, v in pairs])
        weights, grads, slots, decays, averages = [], [], [], [], []
        for g, v in pairs:
            i = self._position(v)
            if g is None:
                continue
            w = self._arrays[i]
            if (v if isinstance(v, np.ndarray) else getattr(v, "value", None)) is not w:
                new = _array_of(v)  # the variable was given a new array since the build
                if new.shape != w.shape:
                    raise ValueError(
                        f"{_variable_name(v)}: shape changed from {w.shape} to {new.shape} after the "
                        "optimizer was built"
                    )
                w = self._arrays[i] = new
            g = np.asarray(getattr(g, "_value", g), dtype=w.dtype)
            if not g.flags.c_contiguous:
                g = np.array(g, order="C")
            if g.shape != w.shape:
                raise ValueError(
                    f"gradient of {_variable_name(v)}: expected shape {w.shape}, received {g.shape}"
                )
            if weights and w.dtype != weights[0].dtype:
                raise TypeError(
                    f"{_variable_name(v)}: dtype {w.dtype} differs from the other variables' "
                    f"{weights[0].dtype}; one optimizer updates variables of one float dtype")
            weights.append(w)
            grads.append(g)
            slots.append(self._core_slots[i])
            decays.append(self._decay_for(v))
            if self.use_ema:
                averages.append(self._averages[i])
        if not weights:
            return self.iterations
        self._update_rule().apply(weights, grads, slots, decays, self.learning_rate,
                                  self.iterations + 1, averages if self.use_ema else None)
        self.iterations += 1
        for _, v in pairs:  # Keras applies constraints after the update
            constraint = getattr(v, "constraint", None)
            if constraint is not None:
                v.assign(constraint(v))
        return self.iterations

    def finalize_variable_values(self, var_list) -> None:
        """Sets the variables to their moving averages (use_ema); fit calls it at the end."""
        if not self.use_ema or not self.built:
            return
        for v in var_list:
            i = self._index.get(id(v))
            if i is not None:
                _array_of(v)[...] = self._averages[i]

    def apply(self, grads, trainable_variables) -> int:
        """Keras 3's form: ``apply(grads, variables)`` = ``apply_gradients(zip(grads, variables))``."""
        return self.apply_gradients(zip(grads, trainable_variables))

    # ----------------------------------------------------------------- the core rule
    _CORE_SLOTS = (None, None, None)  # slot names in the order the core rule reads them

    def _rule_settings(self) -> dict:
        """``kind`` and hyperparameters of the core rule (``_core.UpdateRule``)."""
        raise NotImplementedError(f"{type(self).__name__} must implement _rule_settings")

    def _update_rule(self):
        """The core's UpdateRule for the current settings (kept while they do not change)."""
        settings = dict(self._rule_settings(), clipnorm=self.clipnorm, clipvalue=self.clipvalue,
                        global_clipnorm=self.global_clipnorm,
                        ema_momentum=self.ema_momentum if self.use_ema else None,
                        ema_overwrite_frequency=self.ema_overwrite_frequency
                        if self.use_ema else None)
        cached = self._rule
        if cached is None or cached[0] != settings:
            cached = self._rule = (settings, _core.UpdateRule(**settings))
        return cached[1]

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict:
        if isinstance(self._learning_rate, schedules_module.LearningRateSchedule):
            learning_rate = schedules_module.serialize(self._learning_rate)
        elif callable(self._learning_rate):
            raise TypeError(
                f"get_config: a learning_rate given as a plain callable ({self._learning_rate!r}) cannot "
                "be serialized; use a pydl.optimizers.schedules.LearningRateSchedule"
            )
        else:
            learning_rate = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules_module.deserialize(config["learning_rate"], custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} learning_rate={self._learning_rate!r} iterations={self.iterations}>"
