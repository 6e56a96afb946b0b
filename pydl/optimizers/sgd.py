"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from .optimizer import Optimizer, check_hyperparameter


class SGD(Optimizer):
    """Gradient descent with momentum (Keras 3).

    ```python
    if momentum == 0:
        w -= lr * g
    else:
        m = momentum * m - lr * g
        w += momentum * m - lr * g if nesterov else m
    ```

    Args:
        learning_rate: a float or a schedule.
        momentum: in [0, 1]; 0 keeps no momentum slot.
        nesterov: use Nesterov momentum.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, name: see `Optimizer`.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="SGD"):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency)
        self.momentum = check_hyperparameter("momentum", momentum, low=0.0, high=1.0)
        self.nesterov = bool(nesterov)

    def _slot_specs(self):
        return [("momentum", 0.0)] if self.momentum != 0 else []

    _CORE_SLOTS = ("momentum", None, None)

    def _rule_settings(self):
        return {"kind": "sgd", "momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)
