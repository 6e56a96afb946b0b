"""IMDB movie-review sentiment: 25,000 + 25,000 reviews as word-index sequences, labels 0/1.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.imdb.load_data(num_words=10000)
    word_index = pydl.datasets.imdb.get_word_index()

The same arrays as `keras.datasets.imdb` (same file, hash, shuffle and
encoding). The file is downloaded once into ``~/.pydl/datasets`` (or
``$PYDL_HOME/datasets``) and read without running pickle code
(pydl/datasets/_safe_pickle.py).
"""

from __future__ import annotations

import json
from typing import Optional

import numpy as np

from . import _files, _sequences
from ._safe_pickle import load_npz

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"  # Keras publishes only an MD5 for it


def load_data(path: str = "imdb.npz", num_words: Optional[int] = None, skip_top: int = 0,
              maxlen: Optional[int] = None, seed: int = 113, start_char: Optional[int] = 1,
              oov_char: Optional[int] = 2, index_from: int = 3) -> _files.Splits:
    """Loads IMDB as Keras 3 does: ``((x_train, y_train), (x_test, y_test))``.

    Args:
        path: the file, relative to ``~/.pydl/datasets`` (or an absolute path).
        num_words: keep the `num_words` most frequent words (others become
            `oov_char`); None keeps all.
        skip_top: the most frequent words to replace by `oov_char`.
        maxlen: keep only sequences shorter than `maxlen`; None keeps all.
        seed: seed of the shuffle of each split.
        start_char: the index put first in every sequence (None: nothing).
        oov_char: the index of dropped words (None: they are removed).
        index_from: the offset added to every word index.

    Returns:
        x arrays: 1-D object arrays of lists of ints; y arrays: int64 labels.
    """
    _sequences.check_arguments(num_words, skip_top, maxlen, start_char, oov_char, index_from)
    arrays = _arrays(path)
    rng = np.random.RandomState(seed)
    x_train, labels_train = _sequences.shuffled(rng, arrays["x_train"], arrays["y_train"])
    x_test, labels_test = _sequences.shuffled(rng, arrays["x_test"], arrays["y_test"])
    x_train = _sequences.shift(x_train, start_char, index_from)
    x_test = _sequences.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _sequences.shorter_than(maxlen, x_train, labels_train)
        x_test, labels_test = _sequences.shorter_than(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"maxlen: no sequence is shorter than maxlen={maxlen}; increase it")
    xs = _sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([np.asarray(labels_train), np.asarray(labels_test)])
    idx = len(x_train)
    return ((_sequences.object_array(xs[:idx]), labels[:idx]),
            (_sequences.object_array(xs[idx:]), labels[idx:]))


def _arrays(path: str) -> dict:
    location = _files.get_file(path, ORIGIN + "imdb.npz", SHA256)
    arrays = load_npz(location)
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays)
    if missing:
        raise ValueError(f"{location}: expected the arrays x_train, y_train, x_test, y_test; "
                         f"missing {sorted(missing)}")
    return arrays


def get_word_index(path: str = "imdb_word_index.json") -> dict:
    """The dict word -> index (before `index_from` is added), as Keras 3.

    Args:
        path: the file, relative to ``~/.pydl/datasets`` (or an absolute path).
    """
    location = _files.get_file(path, ORIGIN + "imdb_word_index.json", WORD_INDEX_MD5)
    with open(location, encoding="utf-8") as f:
        return json.load(f)
