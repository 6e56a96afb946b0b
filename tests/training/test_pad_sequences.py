"""`pydl.utils.pad_sequences`, as keras.utils.pad_sequences."""

from __future__ import annotations

import numpy as np
import pytest

from pydl.utils import pad_sequences

SEQUENCES = [[1], [2, 3], [4, 5, 6]]


def test_the_keras_docstring_examples():
    np.testing.assert_array_equal(pad_sequences(SEQUENCES), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQUENCES, value=-1),
                                  [[-1, -1, 1], [-1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQUENCES, padding="post"),
                                  [[1, 0, 0], [2, 3, 0], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(SEQUENCES, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    assert pad_sequences(SEQUENCES).dtype == np.int32


def test_truncating_post_dtype_empty_and_item_shapes():
    got = pad_sequences([[1, 2, 3, 4], [], [5]], maxlen=3, truncating="post", padding="post",
                        dtype="float32", value=0.5)
    np.testing.assert_array_equal(got, [[1, 2, 3], [0.5, 0.5, 0.5], [5, 0.5, 0.5]])
    assert got.dtype == np.float32
    vectors = pad_sequences([np.ones((2, 3)), np.full((1, 3), 2.0)], dtype="float64")
    assert vectors.shape == (2, 2, 3)
    np.testing.assert_array_equal(vectors[1], [[0, 0, 0], [2, 2, 2]])
    assert pad_sequences([]).shape == (0, 0)
    assert pad_sequences(SEQUENCES, maxlen=0).shape == (3, 0)
    words = pad_sequences([["a"], ["b", "c"]], dtype=object, value="")
    assert words.tolist() == [["", "a"], ["b", "c"]]
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [7, 8, 9], [1]
    np.testing.assert_array_equal(pad_sequences(ragged, maxlen=2), [[8, 9], [0, 1]])


@pytest.mark.slow  # importing Keras takes seconds
def test_matches_keras_when_installed(monkeypatch):
    import os

    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "numpy"))
    sequence_utils = pytest.importorskip("keras.src.utils.sequence_utils")
    rng = np.random.default_rng(0)
    sequences = [list(rng.integers(1, 50, rng.integers(0, 9))) for _ in range(20)]
    for kwargs in ({}, {"maxlen": 5}, {"maxlen": 5, "padding": "post", "truncating": "post"},
                   {"maxlen": 12, "value": 7, "dtype": "int64"}):
        np.testing.assert_array_equal(pad_sequences(sequences, **kwargs),
                                      sequence_utils.pad_sequences(sequences, **kwargs))


@pytest.mark.parametrize("kwargs,message", [
    ({"padding": "middle"}, "padding: expected 'pre' or 'post', received padding='middle'"),
    ({"truncating": "end"}, "truncating: expected 'pre' or 'post'"),
    ({"maxlen": -1}, "maxlen: expected None or an int >= 0, received maxlen=-1"),
    ({"value": "x"}, "value: a string padding value needs dtype=object"),
])
def test_bad_arguments_name_themselves(kwargs, message):
    with pytest.raises(ValueError, match=message):
        pad_sequences(SEQUENCES, **kwargs)


def test_items_that_are_not_sequences_are_named():
    with pytest.raises(ValueError, match="sequences: item 1 is not a sequence, received 5"):
        pad_sequences([[1], 5])
    with pytest.raises(ValueError, match="sequences: the items of sequence 1 have shape"):
        pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
