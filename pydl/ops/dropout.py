"""`dropout`: zeroes a random fraction `rate` of the inputs, scales the rest by 1/(1-rate).

The uniforms are drawn as ``generator.random(noise_shape, dtype=float32)``, from
the generator given as `seed`, else from a generator seeded with the int `seed`,
else from pydl's global generator (pydl/_random.py, reproducible under
`pydl.utils.set_random_seed`); the mask is the core's rule (``_core.dropout_apply``,
nn/dropout.h), which the fused plan's Dropout node applies too. A layer that wants
a fresh mask per call with a seed of its own passes its own `np.random.Generator`.
"""

from __future__ import annotations

import numpy as np

from .. import _core, _random
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import contiguous, unary


def _generator(seed) -> np.random.Generator:
    if seed is None:
        return _random.generator()
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"dropout: seed must be None, an int or a numpy Generator, received "
                        f"{seed!r}")
    return _random.spawn_generator(int(seed))


def dropout(x, rate: float, noise_shape=None, seed=None, training: bool = True):
    """Inverted dropout; the identity (returns `x`) when not training or rate == 0.

    Args:
        rate: fraction of the units to drop, in [0, 1).
        noise_shape: shape of the mask, broadcast against x (default x's shape).
        seed: None, an int, or a `np.random.Generator` to draw the mask from.
        training: apply dropout only when true.
    """
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1), received rate={rate}")
    if not training or rate == 0:
        return x
    v, dtype = unary(x)
    v = contiguous(np.asarray(v, dtype=dtype))
    shape = v.shape if noise_shape is None else tuple(
        v.shape[i] if n is None else n for i, n in enumerate(noise_shape))
    u = _generator(seed).random(shape, dtype=np.float32)
    if u.shape != v.shape:
        try:
            u = np.ascontiguousarray(np.broadcast_to(u, v.shape))
        except ValueError:
            raise ValueError(f"dropout: noise_shape {shape} cannot be broadcast to the input's "
                             f"shape {v.shape}") from None
    rate = float(rate)
    out = np.empty_like(v)
    _core.dropout_apply(v, u, rate, out)
    rec = recording((x,))
    if rec is None:
        return Tensor(out)

    def backward(g):
        dx = np.empty_like(v)
        _core.dropout_apply(contiguous(np.asarray(g, dtype=v.dtype)), u, rate, dx)
        return (dx,)

    return record(out, (x,), rec, backward)
