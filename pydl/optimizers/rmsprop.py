"""RMSprop: rates scaled by a moving average of the squared gradients."""

from __future__ import annotations

from .optimizer import Optimizer, check_hyperparameter


class RMSprop(Optimizer):
    """RMSprop, optionally centered and with momentum (Keras 3).

    ```python
    v = rho * v + (1 - rho) * g * g
    if centered:
        mg = rho * mg + (1 - rho) * g
        den = v - mg * mg + epsilon
    else:
        den = v + epsilon
    inc = lr * g / sqrt(den)
    if momentum > 0:
        mom = momentum * mom + inc
        w -= mom
    else:
        w -= inc
    ```

    Args:
        learning_rate: a float or a schedule.
        rho: decay of the moving average of squared gradients.
        momentum: momentum of the increments; 0 keeps no momentum slot.
        epsilon: added inside the square root for stability.
        centered: also track the mean gradient and normalize by the variance estimate.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, name: see `Optimizer`.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="rmsprop"):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency)
        self.rho = check_hyperparameter("rho", rho, low=0.0, high=1.0)
        self.momentum = check_hyperparameter("momentum", momentum, low=0.0, high=1.0)
        self.epsilon = check_hyperparameter("epsilon", epsilon, low=0.0)
        self.centered = bool(centered)

    def _slot_specs(self):
        specs = [("velocity", 0.0)]
        if self.momentum > 0:
            specs.append(("momentum", 0.0))
        if self.centered:
            specs.append(("average_gradient", 0.0))
        return specs

    _CORE_SLOTS = ("velocity", "momentum", "average_gradient")

    def _rule_settings(self):
        return {"kind": "rmsprop", "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}

    def get_config(self):
        return dict(super().get_config(), rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                    centered=self.centered)
