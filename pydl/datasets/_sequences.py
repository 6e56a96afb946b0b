"""What imdb and reuters do to their word-index sequences, step for step as Keras 3.

Sequences are lists of word indices, most frequent word first. Loading shifts
every index by `index_from`, puts `start_char` in front, drops sequences not
shorter than `maxlen`, and replaces indices outside [skip_top, num_words) by
`oov_char` (or removes them when `oov_char` is None).
"""

from __future__ import annotations

from typing import List, Optional

import numpy as np


def _is_int(value) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_arguments(num_words, skip_top, maxlen, start_char, oov_char, index_from) -> None:
    """ValueError naming the first argument of the loaders that is out of its range."""
    for name, value in (("num_words", num_words), ("maxlen", maxlen)):
        if value is not None and (not _is_int(value) or value < 1):
            raise ValueError(f"{name}: expected None or an int >= 1, received {value!r}")
    for name, value in (("skip_top", skip_top), ("index_from", index_from)):
        if not _is_int(value) or value < 0:
            raise ValueError(f"{name}: expected an int >= 0, received {value!r}")
    for name, value in (("start_char", start_char), ("oov_char", oov_char)):
        if value is not None and not _is_int(value):
            raise ValueError(f"{name}: expected None or an int, received {value!r}")


def shuffled(rng: np.random.RandomState, xs: np.ndarray, labels: np.ndarray):
    """`xs` and `labels` in the order of one `rng.shuffle` of their indices."""
    indices = np.arange(len(xs))
    rng.shuffle(indices)
    return xs[indices], labels[indices]


def shift(xs, start_char: Optional[int], index_from: int) -> List[list]:
    """Indices moved up by `index_from`, each sequence led by `start_char` (when not None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in xs]
    return [[w + index_from for w in x] for x in xs]


def shorter_than(maxlen: int, xs: list, labels):
    """The sequences (and their labels) of fewer than `maxlen` words."""
    kept = [(x, y) for x, y in zip(xs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(xs: list, num_words: Optional[int], skip_top: int,
                     oov_char: Optional[int]) -> list:
    """Indices outside [skip_top, num_words) replaced by `oov_char` (dropped when None).

    As in Keras 3, num_words=None means the largest index seen, itself excluded.
    """
    if not num_words:
        num_words = max((max(x) for x in xs if x), default=0)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    return [[w for w in x if skip_top <= w < num_words] for x in xs]


def object_array(xs: list) -> np.ndarray:
    """A 1-D object array holding one list per sequence."""
    out = np.empty(len(xs), dtype=object)
    for i, x in enumerate(xs):
        out[i] = x
    return out
