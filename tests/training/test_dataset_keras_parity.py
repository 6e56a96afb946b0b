"""The loaders give the arrays Keras 3 gives from the same files (Keras installed; its
`get_file` pointed at the fixtures, so nothing is downloaded)."""

from __future__ import annotations

import os

import numpy as np
import pytest

from pydl.datasets import (_files, boston_housing, california_housing, cifar10, fashion_mnist,
                           imdb, reuters)

from . import dataset_fixtures as fx

pytestmark = pytest.mark.slow  # importing Keras takes seconds


@pytest.fixture(scope="module")
def kds():
    os.environ.setdefault("KERAS_BACKEND", "numpy")
    pytest.importorskip("keras")
    from keras.src.datasets import (boston_housing as kb, california_housing as kc,
                                    cifar10 as k10, fashion_mnist as kf, imdb as ki,
                                    reuters as kr)

    return {"imdb": ki, "reuters": kr, "boston_housing": kb, "california_housing": kc,
            "fashion_mnist": kf, "cifar10": k10}


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PYDL_HOME", str(tmp_path))
    monkeypatch.setattr(_files, "_download",
                        lambda url, dest: pytest.fail(f"tried to download {url}"))
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


def same(ours, theirs):
    for (x, y), (kx, ky) in zip(ours, theirs):
        assert x.shape == kx.shape and x.dtype == kx.dtype
        assert y.shape == ky.shape and y.dtype == ky.dtype
        if x.dtype == object:
            assert [list(s) for s in x] == [list(s) for s in kx]
        else:
            np.testing.assert_array_equal(x, kx)
        np.testing.assert_array_equal(y, ky)


@pytest.mark.parametrize("kwargs", [{}, {"num_words": 800, "skip_top": 3, "maxlen": 20},
                                    {"oov_char": None, "start_char": None, "seed": 1}])
def test_imdb_and_reuters_as_keras(kds, home, rng, monkeypatch, kwargs):
    fx.write_imdb(home, rng)
    fx.write_reuters(home, rng)
    for name, module in (("imdb", imdb), ("reuters", reuters)):
        path = str(home / f"{name}.npz")
        monkeypatch.setattr(module, "SHA256", _files.file_hash(path))
        monkeypatch.setattr(kds[name], "get_file", lambda *a, _p=path, **k: _p)
        same(module.load_data(**kwargs), kds[name].load_data(**kwargs))


def test_housing_as_keras(kds, home, rng, monkeypatch):
    fx.write_tabular(home, rng, "boston_housing.npz", 60, 13, np.float64)
    fx.write_tabular(home, rng, "california_housing.npz", 650, 8, np.float32)
    for name, module in (("boston_housing", boston_housing),
                         ("california_housing", california_housing)):
        path = str(home / f"{name}.npz")
        monkeypatch.setattr(module, "SHA256", _files.file_hash(path))
        monkeypatch.setattr(kds[name], "get_file", lambda *a, _p=path, **k: _p)
        same(module.load_data(test_split=0.25, seed=9), kds[name].load_data(test_split=0.25,
                                                                            seed=9))
    same(california_housing.load_data(version="small"),
         kds["california_housing"].load_data(version="small"))


def test_fashion_mnist_and_cifar10_as_keras(kds, home, rng, monkeypatch, tmp_path):
    import tarfile

    folder = home / "fashion-mnist"
    fx.write_fashion(folder, rng)
    monkeypatch.setattr(fashion_mnist, "FILES", {
        name: _files.file_hash(str(folder / name)) for name in fx.FASHION_FILES})
    monkeypatch.setattr(kds["fashion_mnist"], "get_file",
                        lambda fname, **k: str(folder / fname))
    same(fashion_mnist.load_data(), kds["fashion_mnist"].load_data())

    fx.write_cifar10(home, rng)
    archive = home / "cifar-10-python.tar.gz"
    extracted = tmp_path / "keras-extracted"
    with tarfile.open(archive) as tar:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(extracted, **safe)  # our own fixture
    # Keras' loader sizes its arrays for the real 5 x 10,000 images, so compare batch by
    # batch with its reader (the channels-last assembly is checked in test_dataset_loaders).
    from keras.src.datasets.cifar import load_batch

    raw = cifar10._batches(str(archive))
    # Keras' own reader refuses Python 3 pickles of protocol 2 (bytes via _codecs.encode)
    # and 5 (numpy's _frombuffer): batches 5 and 4 of the fixture, which pydl reads.
    for name in ("data_batch_1", "data_batch_2", "data_batch_3", "test_batch"):
        data = raw[name]
        x, y = cifar10._batch(data, name)
        kx, ky = load_batch(str(extracted / "cifar-10-batches-py" / name))
        assert x.dtype == kx.dtype == np.uint8
        np.testing.assert_array_equal(x, kx)
        np.testing.assert_array_equal(y, ky)
