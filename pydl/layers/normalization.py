"""Normalization layers: BatchNormalization, LayerNormalization, UnitNormalization.

BatchNormalization and LayerNormalization run one `pydl.ops` call each (one tape
entry, one core kernel forward and one backward: pydl/ops/normalization.py);
their defaults, weights (names and order) and configs are Keras 3's.
"""

from __future__ import annotations

import numpy as np

from .. import _core, initializers, ops, regularizers
from ..ops.normalization import batch_norm_training
from . import _checks
from .core import _serialize
from .layer import Layer


class BatchNormalization(Layer):
    """Normalizes each channel with batch statistics in training, moving ones otherwise.

    ```python
    training (and trainable):  mean, var = batch mean / biased variance over every axis but `axis`
                               moving_mean = moving_mean * momentum + mean * (1 - momentum)
                               moving_variance = moving_variance * momentum + var * (1 - momentum)
    otherwise:                 mean, var = moving_mean, moving_variance
    y = (x - mean) / sqrt(var + epsilon) * gamma + beta
    ```
    As in Keras 3, ``trainable=False`` runs the layer in inference mode (frozen
    statistics), and a mask from the previous layer restricts the batch statistics
    to the kept steps.

    Args:
        axis: the channel axis (int); -1 for channels-last data.
        momentum: of the moving averages, in [0, 1].
        epsilon: added to the variance (> 0).
        center, scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer: names or ``pydl.initializers`` objects.
        beta_regularizer, gamma_regularizer: penalties on beta / gamma.
        beta_constraint, gamma_constraint: callables applied after each update.
        synchronized: accepted for Keras compatibility; only False.

    Reference: [Ioffe and Szegedy, 2015](https://arxiv.org/abs/1502.03167).

    Example:
        model = pydl.Sequential([pydl.Input((784,)), pydl.layers.Dense(512),
                                 pydl.layers.BatchNormalization(), pydl.layers.Activation("relu")])
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        name = "BatchNormalization"
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(f"{name}: expected axis to be an int, received axis={axis!r}")
        momentum = _checks.number(name, "momentum", momentum, 0.0, 1.0)
        epsilon = _checks.number(name, "epsilon", epsilon, 0.0, low_open=True)
        center = _checks.boolean(name, "center", center)
        scale = _checks.boolean(name, "scale", scale)
        if synchronized:
            raise ValueError(f"{name}: synchronized=True is only supported with the "
                             "TensorFlow backend of Keras; pydl has one process per "
                             "replica (see pydl.distribute)")
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.synchronized = False
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = _checks.callable_or_none(name, "beta_constraint", beta_constraint)
        self.gamma_constraint = _checks.callable_or_none(name, "gamma_constraint",
                                                         gamma_constraint)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        axis = _checks.axes_in_range("BatchNormalization", self.axis, input_shape)[0]
        if input_shape[axis] is None:
            raise ValueError(f"BatchNormalization: the channel axis {self.axis} of the input "
                             f"must be known, received input_shape={input_shape}")
        shape = (input_shape[axis],)
        if self.scale:
            self.gamma = self.add_weight(shape=shape, name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape=shape, name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean",
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable):
            return ops.batch_normalization(inputs, self.moving_mean, self.moving_variance,
                                           self.axis, offset=self.beta, scale=self.gamma,
                                           epsilon=self.epsilon)
        if mask is not None:
            outputs, mean, variance = self._masked_training(inputs, mask)
        else:
            outputs, mean, variance = batch_norm_training(inputs, self.gamma, self.beta,
                                                          self.axis, self.epsilon)
        for moving, batch in ((self.moving_mean, mean), (self.moving_variance, variance)):
            _core.batchnorm_update_moving(moving.value, np.ascontiguousarray(
                batch, dtype=moving.value.dtype), self.momentum)
        return outputs

    def _masked_training(self, inputs, mask):
        """Keras' masked moments (mask (batch, ...) of rank ndim - 1), as ordinary ops."""
        x = inputs
        ndim = len(x.shape)
        mask = np.asarray(mask)
        if mask.ndim != ndim - 1:
            raise ValueError(f"BatchNormalization: the mask must have one dimension less than "
                             f"the inputs, received mask.shape={mask.shape}, "
                             f"inputs.shape={tuple(x.shape)}")
        axis = self.axis % ndim
        reduce = tuple(i for i in range(ndim) if i != axis)
        dtype = np.asarray(x).dtype
        weight = np.broadcast_to(mask[..., None], x.shape).astype(dtype)
        count = weight.sum(axis=reduce, keepdims=True) + dtype.type(1e-7)
        mean = ops.sum(ops.multiply(x, weight), axis=reduce, keepdims=True) / count
        centered = ops.multiply(ops.subtract(x, mean), weight)
        variance = ops.sum(ops.square(centered), axis=reduce, keepdims=True) / count
        shape = [1] * ndim
        shape[axis] = -1
        y = ops.divide(ops.subtract(x, mean), ops.sqrt(variance + self.epsilon))
        if self.gamma is not None:
            y = ops.multiply(y, ops.reshape(self.gamma, shape))
        if self.beta is not None:
            y = ops.add(y, ops.reshape(self.beta, shape))
        return y, np.asarray(mean).reshape(-1), np.asarray(variance).reshape(-1)

    def compute_output_shape(self, input_shape):
        _checks.axes_in_range("BatchNormalization", self.axis, tuple(input_shape))
        return tuple(input_shape)

    def _plan_node(self, call):
        if call.mask is not None:
            return call.unsupported(f"BatchNormalization {self.name!r} receives a mask (masked "
                                    "batch statistics take the tape)")
        axis = self.axis % (len(call.input_shapes[0]) + 1)
        if axis == 0:
            return call.unsupported(f"BatchNormalization {self.name!r} normalizes along the "
                                    "batch axis")
        # As call: batch statistics when training (fit) and trainable, else the moving ones.
        training = call.training and self.trainable
        node = _core.plan.BatchNormalization(
            None if self.gamma is None else self.gamma.value,
            None if self.beta is None else self.beta.value, self.moving_mean.value,
            self.moving_variance.value, axis - 1, self.momentum, self.epsilon, training)
        return call.native(node, [v for v in (self.gamma, self.beta) if v is not None])

    def get_config(self) -> dict:
        name = "BatchNormalization"
        config = super().get_config()
        config.update({
            "axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon,
            "center": self.center, "scale": self.scale,
            "beta_initializer": _serialize(initializers, self.beta_initializer),
            "gamma_initializer": _serialize(initializers, self.gamma_initializer),
            "moving_mean_initializer": _serialize(initializers, self.moving_mean_initializer),
            "moving_variance_initializer": _serialize(initializers,
                                                      self.moving_variance_initializer),
            "beta_regularizer": _serialize(regularizers, self.beta_regularizer),
            "gamma_regularizer": _serialize(regularizers, self.gamma_regularizer),
            "beta_constraint": _checks.constraint_config(name, "beta_constraint",
                                                         self.beta_constraint),
            "gamma_constraint": _checks.constraint_config(name, "gamma_constraint",
                                                          self.gamma_constraint),
            "synchronized": self.synchronized,
        })
        return config


class LayerNormalization(Layer):
    """Normalizes each sample over `axis` (the last by default) with its own statistics.

    ```python
    mean, var = x.mean(axis), x.var(axis)           # per sample
    y = (x - mean) / sqrt(var + epsilon) * gamma + beta
    rms_scaling=True (Keras 3): y = x / sqrt(var + epsilon) * gamma   (no beta)
    ```

    Args:
        axis: an int or a list/tuple of ints: the axes normalized together.
        epsilon: added to the variance (> 0).
        center, scale: whether to learn beta / gamma (gamma and beta have the shape
            of the input over `axis`).
        rms_scaling: Keras 3's rms_scaling (divides by the standard deviation without
            centering x; no beta; gamma is learned even when scale=False).
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: as in BatchNormalization.

    Reference: [Ba et al., 2016](https://arxiv.org/abs/1607.06450).
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        name = "LayerNormalization"
        axis = _checks.axes(name, axis)
        epsilon = _checks.number(name, "epsilon", epsilon, 0.0, low_open=True)
        center = _checks.boolean(name, "center", center)
        scale = _checks.boolean(name, "scale", scale)
        rms_scaling = _checks.boolean(name, "rms_scaling", rms_scaling)
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = _checks.callable_or_none(name, "beta_constraint", beta_constraint)
        self.gamma_constraint = _checks.callable_or_none(name, "gamma_constraint",
                                                         gamma_constraint)
        self.gamma = self.beta = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        axes = _checks.axes_in_range("LayerNormalization", self.axis, input_shape)
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(f"LayerNormalization: the normalized axes {self.axis} must be "
                             f"known, received input_shape={input_shape}")
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape=shape, name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape=shape, name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.built = True

    def call(self, inputs):
        return ops.layer_normalization(inputs, self.gamma, self.beta, axis=self.axis,
                                       epsilon=self.epsilon, rms_scaling=self.rms_scaling)

    def compute_output_shape(self, input_shape):
        _checks.axes_in_range("LayerNormalization", self.axis, tuple(input_shape))
        return tuple(input_shape)

    def _plan_node(self, call):
        rank = len(call.input_shapes[0]) + 1
        axes = _checks.axes_in_range("LayerNormalization", self.axis, (None,) * rank)
        if axes != list(range(rank - len(axes), rank)) or axes[0] == 0:
            return call.unsupported(f"LayerNormalization {self.name!r} normalizes axes "
                                    f"{self.axis} that are not the last sample axes")
        flat = [None if v is None else v.value.reshape(-1) for v in (self.gamma, self.beta)]
        node = _core.plan.LayerNormalization(flat[0], flat[1], len(axes), self.epsilon,
                                             self.rms_scaling)
        return call.native(node, [v for v in (self.gamma, self.beta) if v is not None])

    def get_config(self) -> dict:
        name = "LayerNormalization"
        config = super().get_config()
        config.update({
            "axis": self.axis, "epsilon": self.epsilon, "center": self.center,
            "scale": self.scale, "rms_scaling": self.rms_scaling,
            "beta_initializer": _serialize(initializers, self.beta_initializer),
            "gamma_initializer": _serialize(initializers, self.gamma_initializer),
            "beta_regularizer": _serialize(regularizers, self.beta_regularizer),
            "gamma_regularizer": _serialize(regularizers, self.gamma_regularizer),
            "beta_constraint": _checks.constraint_config(name, "beta_constraint",
                                                         self.beta_constraint),
            "gamma_constraint": _checks.constraint_config(name, "gamma_constraint",
                                                          self.gamma_constraint),
        })
        return config


class UnitNormalization(Layer):
    """Scales each sample to unit L2 norm along `axis`.

    ```python
    y = x / sqrt(sum(x ** 2, axis))       # 1 / norm capped at 1e12, as Keras
    ```

    Args:
        axis: an int or a list/tuple of ints.
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        axis = _checks.axes("UnitNormalization", axis)
        super().__init__(**kwargs)
        self.axis = axis

    def build(self, input_shape):
        _checks.axes_in_range("UnitNormalization", self.axis, tuple(input_shape))
        self.built = True

    def call(self, inputs):
        return ops.normalize(inputs, axis=self.axis, order=2, epsilon=1e-12)

    def _plan_node(self, call):
        rank = len(call.input_shapes[0]) + 1
        axes = _checks.axes_in_range("UnitNormalization", self.axis, (None,) * rank)
        if axes != list(range(rank - len(axes), rank)) or axes[0] == 0:
            return call.unsupported(f"UnitNormalization {self.name!r} normalizes axes "
                                    f"{self.axis} that are not the last sample axes")
        return call.native(_core.plan.UnitNormalization(len(axes), 1e-12))

    def compute_output_shape(self, input_shape):
        _checks.axes_in_range("UnitNormalization", self.axis, tuple(input_shape))
        return tuple(input_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config
