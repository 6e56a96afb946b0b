"""Global pooling over the steps of (batch, steps, features) sequences."""

from __future__ import annotations

from .. import _core, ops
from .layer import Layer

_FORMATS = ("channels_last", "channels_first")


class _GlobalPooling1D(Layer):
    """Shared config, shape checks and output shape of the 1-D global poolings."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        layer = type(self).__name__
        data_format = "channels_last" if data_format is None else data_format
        if data_format not in _FORMATS:
            raise ValueError(f"{layer}: expected data_format to be one of {_FORMATS} or None, "
                             f"received data_format={data_format!r}")
        if not isinstance(keepdims, bool):
            raise TypeError(f"{layer}: expected keepdims to be a bool, received "
                            f"keepdims={keepdims!r}")
        super().__init__(**kwargs)
        self.data_format = data_format
        self.keepdims = keepdims

    def build(self, input_shape):
        if len(tuple(input_shape)) != 3:
            raise ValueError(f"{type(self).__name__}: expected inputs of rank 3 (batch, steps, "
                             f"features), received input_shape={tuple(input_shape)}")
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_last":
            return (input_shape[0], 1, input_shape[2]) if self.keepdims else \
                (input_shape[0], input_shape[2])
        return (input_shape[0], input_shape[1], 1) if self.keepdims else \
            (input_shape[0], input_shape[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(_GlobalPooling1D):
    """Mean over the steps axis; with a mask, over the unmasked steps only (Keras 3).

    ```python
    y[b, f] = mean(x[b, t, f] for t where mask[b, t])     # all t without a mask
    ```
    The mask (e.g. from ``Embedding(mask_zero=True)``) stops here.

    Args:
        data_format: "channels_last" (batch, steps, features), the default, or
            "channels_first" (batch, features, steps).
        keepdims: keep the steps axis (size 1).
    """

    supports_masking = True

    def call(self, inputs, mask=None):
        return ops.global_average_pool1d(inputs, mask=mask, data_format=self.data_format,
                                         keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask=None):
        return None

    def _plan_node(self, call):
        masked = call.mask is not None
        if masked and self.data_format != "channels_last":
            return call.unsupported(f"GlobalAveragePooling1D {self.name!r}: a mask over "
                                    "channels_first steps takes the tape")
        node = _core.plan.GlobalPooling1D("average", self.data_format, self.keepdims, masked)
        return call.native(node, mask_input=masked, output_mask=None)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """Maximum over the steps axis (the gradient goes to the first maximal step).

    Args:
        data_format: "channels_last" (default) or "channels_first".
        keepdims: keep the steps axis (size 1).
    """

    def call(self, inputs):
        return ops.global_max_pool1d(inputs, data_format=self.data_format,
                                     keepdims=self.keepdims)

    def _plan_node(self, call):
        return call.native(_core.plan.GlobalPooling1D("max", self.data_format, self.keepdims))
