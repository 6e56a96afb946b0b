"""Reuters newswires: 11,228 word-index sequences labelled over 46 topics.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.reuters.load_data(num_words=10000)
    word_index = pydl.datasets.reuters.get_word_index()

The same arrays as `keras.datasets.reuters` (same file, hash, shuffle, split
and encoding), downloaded once into ``~/.pydl/datasets`` (or
``$PYDL_HOME/datasets``) and read without running pickle code.
"""

from __future__ import annotations

import json
from typing import Optional

import numpy as np

from . import _files, _sequences, _tabular
from ._safe_pickle import load_npz

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"  # Keras publishes only an MD5 for it

_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path: str = "reuters.npz", num_words: Optional[int] = None, skip_top: int = 0,
              maxlen: Optional[int] = None, test_split: float = 0.2, seed: int = 113,
              start_char: Optional[int] = 1, oov_char: Optional[int] = 2,
              index_from: int = 3) -> _files.Splits:
    """Loads Reuters as Keras 3 does: ``((x_train, y_train), (x_test, y_test))``.

    Args:
        path: the file, relative to ``~/.pydl/datasets`` (or an absolute path).
        num_words, skip_top, maxlen, start_char, oov_char, index_from: as
            `pydl.datasets.imdb.load_data`.
        test_split: the fraction of the (shuffled) sequences put last, as test data.
        seed: seed of the shuffle.

    Returns:
        x arrays: 1-D object arrays of lists of ints; y arrays: int64 topic indices.
    """
    _sequences.check_arguments(num_words, skip_top, maxlen, start_char, oov_char, index_from)
    _tabular.check_test_split(test_split)
    location = _files.get_file(path, ORIGIN + "reuters.npz", SHA256)
    arrays = load_npz(location)
    if "x" not in arrays or "y" not in arrays:
        raise ValueError(f"{location}: expected the arrays x and y, found {sorted(arrays)}")
    xs, labels = _sequences.shuffled(np.random.RandomState(seed), arrays["x"], arrays["y"])
    xs = _sequences.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = _sequences.shorter_than(maxlen, xs, labels)
    xs = _sequences.limit_vocabulary(xs, num_words, skip_top, oov_char)
    idx = int(len(xs) * (1 - test_split))
    return ((_sequences.object_array(xs[:idx]), np.array(labels[:idx])),
            (_sequences.object_array(xs[idx:]), np.array(labels[idx:])))


def get_word_index(path: str = "reuters_word_index.json") -> dict:
    """The dict word -> index (before `index_from` is added), as Keras 3."""
    location = _files.get_file(path, ORIGIN + "reuters_word_index.json", WORD_INDEX_MD5)
    with open(location, encoding="utf-8") as f:
        return json.load(f)


def get_label_names() -> tuple:
    """The 46 topic names, in label order."""
    return _LABELS
