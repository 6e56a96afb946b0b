"""The names of api.md's "Data in" section that this package layer provides, and the
py.typed marker that tells type checkers pydl ships its own hints."""

from __future__ import annotations

import importlib.resources
import inspect

import pydl

OPS = ["one_hot", "argmax", "argmin", "array", "convert_to_tensor", "shape", "zeros", "ones",
       "where", "maximum", "minimum", "equal", "log_softmax", "tensordot", "broadcast_to"]
RANDOM = ["normal", "uniform", "truncated_normal", "dropout", "shuffle", "categorical",
          "randint", "SeedGenerator"]
DATASETS = ["imdb", "reuters", "boston_housing", "california_housing", "fashion_mnist",
            "cifar10"]


def test_every_name_exists():
    for name in OPS:
        assert callable(getattr(pydl.ops, name)) and name in pydl.ops.__all__
    for name in RANDOM:
        assert callable(getattr(pydl.random, name)) and name in pydl.random.__all__
    for name in DATASETS:
        assert callable(getattr(pydl.datasets, name).load_data)
    for name in ("imdb", "reuters"):
        assert callable(getattr(pydl.datasets, name).get_word_index)
    assert callable(pydl.callbacks.LambdaCallback)
    assert callable(pydl.utils.pad_sequences) and callable(pydl.utils.clear_session)
    assert callable(pydl.backend.clear_session)


def test_keras_3_signatures():
    def params(fn):
        return [(p.name, p.default) for p in inspect.signature(fn).parameters.values()
                if p.kind is not inspect.Parameter.VAR_KEYWORD]

    empty = inspect.Parameter.empty
    assert params(pydl.Variable)[:5] == [("initializer", None), ("shape", None),
                                         ("dtype", None), ("trainable", True), ("name", None)]
    assert params(pydl.datasets.imdb.load_data) == [
        ("path", "imdb.npz"), ("num_words", None), ("skip_top", 0), ("maxlen", None),
        ("seed", 113), ("start_char", 1), ("oov_char", 2), ("index_from", 3)]
    assert params(pydl.datasets.boston_housing.load_data) == [
        ("path", "boston_housing.npz"), ("test_split", 0.2), ("seed", 113)]
    assert params(pydl.datasets.california_housing.load_data)[0] == ("version", "large")
    assert params(pydl.ops.one_hot) == [("x", empty), ("num_classes", empty), ("axis", -1),
                                        ("dtype", None), ("sparse", False)]
    assert params(pydl.ops.tensordot) == [("x1", empty), ("x2", empty), ("axes", 2)]
    assert params(pydl.random.categorical) == [("logits", empty), ("num_samples", empty),
                                               ("dtype", "int32"), ("seed", None)]
    assert params(pydl.utils.pad_sequences) == [
        ("sequences", empty), ("maxlen", None), ("dtype", "int32"), ("padding", "pre"),
        ("truncating", "pre"), ("value", 0.0)]
    assert [n for n, _ in params(pydl.callbacks.LambdaCallback)] == [
        "on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
        "on_train_batch_begin", "on_train_batch_end"]


def test_the_package_is_marked_typed():
    assert importlib.resources.files("pydl").joinpath("py.typed").is_file()
