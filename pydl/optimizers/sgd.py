"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from .. import _core
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
        weight_decay, clipnorm, clipvalue, global_clipnorm, name: see `Optimizer`.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="SGD"):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name)
        self.momentum = check_hyperparameter("momentum", momentum, low=0.0, high=1.0)
        self.nesterov = bool(nesterov)

    def _slot_specs(self):
        return [("momentum", 0.0)] if self.momentum != 0 else []

    def _update_step(self, w, g, slots, lr, **common):
        m = slots[0] if slots else None
        _core.sgd_step(w, g, m, lr=lr, momentum=self.momentum, nesterov=self.nesterov, **common)

    def get_config(self):
        return dict(super().get_config(), momentum=self.momentum, nesterov=self.nesterov)
