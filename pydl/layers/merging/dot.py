"""``Dot``: the dot product of two tensors along given axes, sample by sample.

    similarity = pydl.layers.Dot(axes=1, normalize=True)([a, b])   # cosine, (None, 1)

For inputs ``x`` (batch, ..., n) and ``y`` (batch, ..., n) and ``axes=(i, j)``:
``out[b, ...] = sum_k x[b, ..k at axis i..] * y[b, ..k at axis j..]``; the
result keeps ``x``'s other axes, then ``y``'s (a result of rank 1 becomes
(batch, 1)). ``normalize=True`` first divides each input by its L2 norm along
the axis, ``x / sqrt(max(sum(x**2), 1e-12))``, so the result is the cosine.
"""

from __future__ import annotations

import numpy as np

from ... import ops
from ..layer import Layer
from .base_merge import check_shape_list


def _check_axes(axes):
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        return int(axes)
    if isinstance(axes, (list, tuple)) and len(axes) == 2 and all(
            isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        return (int(axes[0]), int(axes[1]))
    raise TypeError(f"Dot: expected axes to be an int or a tuple of 2 ints, received "
                    f"axes={axes!r}")


class Dot(Layer):
    """Sample-wise dot product of two tensors (see the module docstring).

    Args:
        axes: an int, or a tuple of 2 ints: the axis of each input to contract
            (not 0, the batch axis; negative counts from the end).
        normalize: L2-normalize both inputs along the axes first (cosine similarity).
    """

    def __init__(self, axes, normalize=False, **kwargs):
        axes = _check_axes(axes)
        if not isinstance(normalize, (bool, np.bool_)):
            raise TypeError(f"Dot: expected normalize to be a bool, received "
                            f"normalize={normalize!r}")
        super().__init__(**kwargs)
        self.axes = axes
        self.normalize = bool(normalize)

    def _resolve(self, shape1, shape2) -> tuple:
        pair = self.axes if isinstance(self.axes, tuple) else (self.axes, self.axes)
        resolved = []
        for a, shape in zip(pair, (shape1, shape2)):
            if not -len(shape) <= a < len(shape) or a % len(shape) == 0:
                raise ValueError(f"Dot ({self.name!r}): axes={self.axes} is out of range or "
                                 f"the batch axis for an input of shape {shape}")
            resolved.append(a % len(shape))
        return tuple(resolved)

    def _check(self, input_shape):
        shapes = check_shape_list(self, input_shape)
        if len(shapes) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={input_shape}")
        shape1, shape2 = shapes
        a1, a2 = self._resolve(shape1, shape2)
        if shape1[a1] is not None and shape2[a2] is not None and shape1[a1] != shape2[a2]:
            raise ValueError(f"Dot ({self.name!r}): incompatible input shapes: axis values "
                             f"{shape1[a1]} (at axis {a1}) != {shape2[a2]} (at axis {a2}). "
                             f"Full input shapes: {shape1}, {shape2}")
        return shape1, shape2, a1, a2

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shape1, shape2, a1, a2 = self._check(input_shape)
        out = [d for i, d in enumerate(shape1) if i != a1] + \
            [d for i, d in enumerate(shape2) if i not in (0, a2)]
        return tuple(out) if len(out) > 1 else tuple(out) + (1,)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs, received "
                             f"{inputs!r}"[:200])
        x, y = inputs
        a1, a2 = self._resolve(tuple(x.shape), tuple(y.shape))
        if self.normalize:
            x, y = _l2_normalize(x, a1), _l2_normalize(y, a2)
        return batch_dot(x, y, a1, a2)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axes": list(self.axes) if isinstance(self.axes, tuple) else self.axes,
                       "normalize": self.normalize})
        return config


def _l2_normalize(x, axis: int):
    squares = ops.sum(ops.square(x), axis=axis, keepdims=True)
    return ops.divide(x, ops.sqrt(ops.maximum(squares, 1e-12)))


def batch_dot(x, y, ax: int, ay: int):
    """Contract axis ``ax`` of ``x`` with axis ``ay`` of ``y``, sample by sample."""
    batch, k = x.shape[0], x.shape[ax]
    x_rest = [d for i, d in enumerate(x.shape) if i not in (0, ax)]
    y_rest = [d for i, d in enumerate(y.shape) if i not in (0, ay)]
    xt = ops.transpose(x, [0] + [i for i in range(1, len(x.shape)) if i != ax] + [ax])
    yt = ops.transpose(y, [0, ay] + [i for i in range(1, len(y.shape)) if i != ay])
    m, n = int(np.prod(x_rest)), int(np.prod(y_rest))
    if m == 1 and n == 1:  # vectors: one multiply and a sum, not a matmul per sample
        out = ops.sum(ops.multiply(ops.reshape(xt, (batch, k)), ops.reshape(yt, (batch, k))),
                      axis=1, keepdims=True)
    else:
        out = ops.matmul(ops.reshape(xt, (batch, m, k)), ops.reshape(yt, (batch, k, n)))
    shape = (batch,) + tuple(x_rest) + tuple(y_rest)
    return ops.reshape(out, shape if len(shape) > 1 else (batch, 1))


def dot(inputs, axes=-1, **kwargs):
    """``Dot(axes=axes, **kwargs)(inputs)``."""
    return Dot(axes=axes, **kwargs)(inputs)
