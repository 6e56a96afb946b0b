"""`pad_sequences`: lists of sequences of different lengths as one 2-D array, as Keras 3."""

from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np


def pad_sequences(sequences: Sequence[Any], maxlen: Optional[int] = None, dtype="int32",
                  padding: str = "pre", truncating: str = "pre", value: Any = 0.0) -> np.ndarray:
    """Pads (and truncates) sequences to one length: a `(len(sequences), maxlen)` array.

        pad_sequences([[1], [2, 3], [4, 5, 6]])            # [[0 0 1] [0 2 3] [4 5 6]]
        pad_sequences([[1], [2, 3]], padding="post")       # [[1 0] [2 3]]
        pad_sequences([[4, 5, 6]], maxlen=2)                # [[5 6]]: truncated at the front

    Args:
        sequences: a list of sequences (lists or arrays; their items may be
            arrays of one shape, which then trail the result's shape).
        maxlen: the length of the result's rows; None: the longest sequence's.
        dtype: dtype of the result (`object` for strings of any length).
        padding: "pre" or "post": where the `value`s go in shorter sequences.
        truncating: "pre" or "post": where longer sequences lose their items.
        value: the padding value.

    Returns:
        An array of shape ``(len(sequences), maxlen) + item_shape``.
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"padding: expected 'pre' or 'post', received padding={padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"truncating: expected 'pre' or 'post', received "
                         f"truncating={truncating!r}")
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"sequences: expected a list of sequences, received "
                         f"{type(sequences).__name__}")
    lengths, item_shape = [], None
    for i, s in enumerate(sequences):
        try:
            lengths.append(len(s))
        except TypeError:
            raise ValueError(f"sequences: item {i} is not a sequence, received {s!r}") from None
        if item_shape is None and len(s):
            item_shape = np.asarray(s).shape[1:]
    item_shape = item_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)) or maxlen < 0:
        raise ValueError(f"maxlen: expected None or an int >= 0, received maxlen={maxlen!r}")
    maxlen = int(maxlen)
    textual = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype), np.bytes_)
    if isinstance(value, str) and np.dtype(dtype) != object and not textual:
        raise ValueError(f"value: a string padding value needs dtype=object (or a string "
                         f"dtype), received dtype={dtype!r}")
    out = np.full((len(lengths), maxlen) + item_shape, value, dtype=dtype)
    if maxlen == 0:
        return out
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != item_shape:
            raise ValueError(f"sequences: the items of sequence {i} have shape {kept.shape[1:]}, "
                             f"expected {item_shape} as in the first non-empty sequence")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out
