"""`embedding_lookup`: rows of an embedding table gathered by integer indices, one recorded op.

Forward is one `_core.embedding_forward` (a row gather); backward one
`_core.embedding_backward`: the table's gradient, zero except the rows the
indices name, which receive the sum of their output gradients (a scatter-add
over repeated indices, deterministic at any thread count, no atomics).
"""

from __future__ import annotations

import numpy as np

from .. import _core
from ..tape import record, recording
from ..tensor import Tensor
from ._convert import contiguous, raw, unary


def as_indices(indices, name: str = "embedding_lookup") -> np.ndarray:
    """`indices` as a C-contiguous int64 array (floats are truncated, as Keras casts them)."""
    v = np.asarray(raw(indices))
    if v.dtype.kind not in "biuf":
        raise TypeError(f"{name}: indices must be integers, received dtype {v.dtype}")
    if v.dtype != np.int64:
        v = v.astype(np.int64)
    return contiguous(v)


def values_are_indices(values: np.ndarray, count: int) -> bool:
    """Whether every value truncates (as `as_indices` does) to an index in [0, count):
    each lies in (-1, count), NaN not. The fused plan's check of a model input of
    tokens before it runs a step (a bad value sends fit to the tape, whose op
    raises at the step that reads it)."""
    if values.size == 0:
        return True
    return bool(values.min() > -1) and bool(values.max() < count)


def embedding_lookup(embeddings, indices):
    """`embeddings[indices]`: one row of the (input_dim, output_dim) table per index.

    ```python
    out[..., :] = embeddings[indices[...], :]        # out: indices.shape + (output_dim,)
    d embeddings[r] = sum of d out[i] over the positions i where indices[i] == r
    ```

    Args:
        embeddings: (input_dim, output_dim) float table (a Variable in a layer).
        indices: integer array of any shape, each in [0, input_dim); an index out
            of range raises ValueError naming the first one and its position.
    """
    table, dtype = unary(embeddings)
    table = contiguous(table)
    if table.ndim != 2:
        raise ValueError(f"embedding_lookup: embeddings must be 2-D (input_dim, output_dim), "
                         f"received shape {table.shape}")
    idx = as_indices(indices)
    out = np.empty(idx.shape + (table.shape[1],), dtype)
    _core.embedding_forward(table, idx, out)
    rec = recording((embeddings,))
    if rec is None:
        return Tensor(out)

    def backward(g):
        dtable = np.empty_like(table)
        _core.embedding_backward(contiguous(np.asarray(g, dtype=dtype)), idx, dtable)
        return (dtable,)

    return record(out, (embeddings,), rec, backward)
