"""Adam and AdamW: bias-corrected moment estimates; AdamW adds decoupled weight decay."""

from __future__ import annotations

from .optimizer import Optimizer, check_hyperparameter


class Adam(Optimizer):
    """Adam, optionally AMSGrad (Keras 3; epsilon outside the square root).

    ```python
    t = iterations + 1
    alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    m += (g - m) * (1 - beta_1)
    v += (g * g - v) * (1 - beta_2)
    if amsgrad:
        v_hat = maximum(v_hat, v)
        v = v_hat
    w -= alpha * m / (sqrt(v) + epsilon)
    ```

    Args:
        learning_rate: a float or a schedule.
        beta_1: decay of the first-moment estimate.
        beta_2: decay of the second-moment estimate.
        epsilon: added to the denominator for stability.
        amsgrad: use the running maximum of the second moment (AMSGrad).
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, name: see `Optimizer`.

    Reference: Kingma & Ba, 2014, https://arxiv.org/abs/1412.6980
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="adam"):
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, name,
                         use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency)
        self.beta_1 = check_hyperparameter("beta_1", beta_1, low=0.0, high=1.0)
        self.beta_2 = check_hyperparameter("beta_2", beta_2, low=0.0, high=1.0)
        self.epsilon = check_hyperparameter("epsilon", epsilon, low=0.0)
        self.amsgrad = bool(amsgrad)

    def _slot_specs(self):
        specs = [("momentum", 0.0), ("velocity", 0.0)]
        if self.amsgrad:
            specs.append(("velocity_hat", 0.0))
        return specs

    _CORE_SLOTS = ("momentum", "velocity", "velocity_hat")

    def _rule_settings(self):
        return {"kind": "adam", "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}

    def get_config(self):
        return dict(super().get_config(), beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                    amsgrad=self.amsgrad)


class AdamW(Adam):
    """Adam with decoupled weight decay: Adam's rule after ``w -= w * weight_decay * lr``.

    Args:
        learning_rate: a float or a schedule.
        weight_decay: the decay rate (required; default 0.004 as Keras 3).
        beta_1, beta_2, epsilon, amsgrad: see `Adam`.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency,
            name: see `Optimizer`.

    Reference: Loshchilov & Hutter, 2019, https://arxiv.org/abs/1711.05101
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, clipnorm=None, clipvalue=None, global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name="adamw"):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
                         global_clipnorm, use_ema=use_ema, ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency, name=name)
