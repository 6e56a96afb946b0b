"""Adagrad: per-coordinate rates from the accumulated squared gradients."""

from __future__ import annotations

from .optimizer import Optimizer, check_hyperparameter


class Adagrad(Optimizer):
    """Adagrad (Keras 3).

    ```python
    acc += g * g                     # acc starts at initial_accumulator_value
    w -= lr * g / sqrt(acc + epsilon)
    ```

    Args:
        learning_rate: a float or a schedule.
        initial_accumulator_value: starting value of the accumulators (>= 0).
        epsilon: added inside the square root for stability.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, name: see `Optimizer`.

    Reference: Duchi et al., 2011, https://jmlr.org/papers/v12/duchi11a.html
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="adagrad"):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency)
        self.initial_accumulator_value = check_hyperparameter(
            "initial_accumulator_value", initial_accumulator_value, low=0.0)
        self.epsilon = check_hyperparameter("epsilon", epsilon, low=0.0)

    def _slot_specs(self):
        return [("accumulator", self.initial_accumulator_value)]

    _CORE_SLOTS = ("accumulator", None, None)

    def _rule_settings(self):
        return {"kind": "adagrad", "epsilon": self.epsilon}

    def get_config(self):
        return dict(super().get_config(), initial_accumulator_value=self.initial_accumulator_value,
                    epsilon=self.epsilon)
