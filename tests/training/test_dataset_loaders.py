"""imdb, reuters, boston_housing, california_housing, fashion_mnist, cifar10 from tiny files
in the real formats under $PYDL_HOME/datasets; the network is never used."""

from __future__ import annotations

import numpy as np
import pytest

from pydl.datasets import (_files, boston_housing, california_housing, cifar10, fashion_mnist,
                           imdb, reuters)

from . import dataset_fixtures as fx


@pytest.fixture
def home(tmp_path, monkeypatch):
    """$PYDL_HOME in tmp_path, and a network that fails the test if it is used."""
    monkeypatch.setenv("PYDL_HOME", str(tmp_path / "pydl-home"))
    monkeypatch.setattr(_files, "_download",
                        lambda url, dest: pytest.fail(f"tried to download {url}"))
    folder = tmp_path / "pydl-home" / "datasets"
    folder.mkdir(parents=True)
    return folder


def trust(monkeypatch, module, attribute, path):
    """Makes `module.attribute` the SHA-256 of the fixture at `path`."""
    monkeypatch.setattr(module, attribute, _files.file_hash(str(path)))


# -- imdb -------------------------------------------------------------------------------
def reference_imdb(arrays, num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
                   oov_char=2, index_from=3):
    """The loader's rules written out plainly (Keras 3's imdb.load_data)."""
    rng = np.random.RandomState(seed)
    splits = []
    for key in ("train", "test"):
        order = np.arange(len(arrays[f"x_{key}"]))
        rng.shuffle(order)
        xs = [list(arrays[f"x_{key}"][i]) for i in order]
        ys = [arrays[f"y_{key}"][i] for i in order]
        xs = [([start_char] if start_char is not None else []) + [w + index_from for w in x]
              for x in xs]
        if maxlen:
            kept = [i for i, x in enumerate(xs) if len(x) < maxlen]
            xs, ys = [xs[i] for i in kept], [ys[i] for i in kept]
        splits.append((xs, ys))
    everything = splits[0][0] + splits[1][0]
    top = num_words or max(max(x) for x in everything)
    fix = (lambda x: [w if skip_top <= w < top else oov_char for w in x]) if oov_char is not None \
        else (lambda x: [w for w in x if skip_top <= w < top])
    return [([fix(x) for x in xs], ys) for xs, ys in splits]


@pytest.mark.parametrize("kwargs", [
    {}, {"num_words": 1000, "skip_top": 5}, {"maxlen": 15, "seed": 7},
    {"start_char": None, "oov_char": None, "index_from": 0, "num_words": 20000},
])
def test_imdb_matches_keras_rules(home, rng, monkeypatch, kwargs):
    arrays = fx.write_imdb(home, rng)
    trust(monkeypatch, imdb, "SHA256", home / "imdb.npz")
    (x_train, y_train), (x_test, y_test) = imdb.load_data(**kwargs)
    want = reference_imdb(arrays, **kwargs)
    for (x, y), (want_x, want_y) in zip([(x_train, y_train), (x_test, y_test)], want):
        assert x.dtype == object and x.ndim == 1 and y.dtype == np.int64
        assert [list(s) for s in x] == want_x
        np.testing.assert_array_equal(y, want_y)


def test_imdb_path_argument_and_arguments_checked(home, rng, monkeypatch, tmp_path):
    fx.write_imdb(tmp_path, rng)
    trust(monkeypatch, imdb, "SHA256", tmp_path / "imdb.npz")
    (x_train, _), _ = imdb.load_data(path=str(tmp_path / "imdb.npz"))  # an absolute path
    assert len(x_train) == 40
    with pytest.raises(ValueError, match="num_words: expected None or an int >= 1"):
        imdb.load_data(path=str(tmp_path / "imdb.npz"), num_words=0)
    with pytest.raises(ValueError, match="skip_top: expected an int >= 0, received -1"):
        imdb.load_data(path=str(tmp_path / "imdb.npz"), skip_top=-1)
    with pytest.raises(ValueError, match="maxlen: no sequence is shorter than maxlen=1"):
        imdb.load_data(path=str(tmp_path / "imdb.npz"), maxlen=1)


def test_word_index_is_checked_by_its_md5(home, monkeypatch):
    (home / "imdb_word_index.json").write_text('{"the": 1, "and": 2}')
    with pytest.raises(ValueError, match="MD5"):
        imdb.get_word_index()
    trust_md5 = _files.file_hash(str(home / "imdb_word_index.json"), "md5")
    monkeypatch.setattr(imdb, "WORD_INDEX_MD5", trust_md5)
    assert imdb.get_word_index() == {"the": 1, "and": 2}
    (home / "reuters_word_index.json").write_text('{"said": 3}')
    monkeypatch.setattr(reuters, "WORD_INDEX_MD5",
                        _files.file_hash(str(home / "reuters_word_index.json"), "md5"))
    assert reuters.get_word_index() == {"said": 3}


# -- reuters ----------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"test_split": 0.5, "num_words": 500, "seed": 3},
                                    {"maxlen": 20}])
def test_reuters_shuffles_then_splits(home, rng, monkeypatch, kwargs):
    arrays = fx.write_reuters(home, rng)
    trust(monkeypatch, reuters, "SHA256", home / "reuters.npz")
    (x_train, y_train), (x_test, y_test) = reuters.load_data(**kwargs)
    order = np.arange(60)
    np.random.RandomState(kwargs.get("seed", 113)).shuffle(order)
    xs = [[1] + [w + 3 for w in arrays["x"][i]] for i in order]
    ys = list(arrays["y"][order])
    if "maxlen" in kwargs:
        kept = [i for i, x in enumerate(xs) if len(x) < kwargs["maxlen"]]
        xs, ys = [xs[i] for i in kept], [ys[i] for i in kept]
    top = kwargs.get("num_words") or max(max(x) for x in xs)
    xs = [[w if w < top else 2 for w in x] for x in xs]
    cut = int(len(xs) * (1 - kwargs.get("test_split", 0.2)))
    assert [list(s) for s in x_train] == xs[:cut] and [list(s) for s in x_test] == xs[cut:]
    np.testing.assert_array_equal(y_train, ys[:cut])
    np.testing.assert_array_equal(y_test, ys[cut:])
    assert len(reuters.get_label_names()) == 46
    with pytest.raises(ValueError, match="test_split: expected a fraction in"):
        reuters.load_data(test_split=1.0)


# -- housing ----------------------------------------------------------------------------
def test_boston_housing_shuffle_and_split(home, rng, monkeypatch):
    arrays = fx.write_tabular(home, rng, "boston_housing.npz", 50, 13, np.float64)
    trust(monkeypatch, boston_housing, "SHA256", home / "boston_housing.npz")
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data(test_split=0.3, seed=5)
    order = np.arange(50)
    np.random.RandomState(5).shuffle(order)
    np.testing.assert_array_equal(x_train, arrays["x"][order][:35])
    np.testing.assert_array_equal(y_test, arrays["y"][order][35:])
    assert x_train.dtype == np.float64 and x_test.shape == (15, 13)
    with pytest.raises(ValueError, match="test_split"):
        boston_housing.load_data(test_split=-0.1)


def test_california_housing_versions(home, rng, monkeypatch):
    arrays = fx.write_tabular(home, rng, "california_housing.npz", 700, 8, np.float32)
    trust(monkeypatch, california_housing, "SHA256", home / "california_housing.npz")
    (x_train, y_train), (x_test, _) = california_housing.load_data()
    assert len(x_train) == 560 and len(x_test) == 140 and x_train.dtype == np.float32
    (small, _), (small_test, _) = california_housing.load_data(version="small", test_split=0.5)
    order = np.arange(600)
    np.random.RandomState(113).shuffle(order)
    np.testing.assert_array_equal(small, arrays["x"][:600][order][:300])
    assert len(small_test) == 300
    with pytest.raises(ValueError, match="version: expected 'large' or 'small'"):
        california_housing.load_data(version="medium")


# -- fashion_mnist / cifar10 -------------------------------------------------------------
def test_fashion_mnist_reads_the_four_idx_files(home, rng, monkeypatch):
    arrays = fx.write_fashion(home / "fashion-mnist", rng)
    monkeypatch.setattr(fashion_mnist, "FILES", {
        name: _files.file_hash(str(home / "fashion-mnist" / name)) for name in fx.FASHION_FILES})
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    for got, key in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"),
                     (y_test, "y_test")]:
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


def test_cifar10_reads_pickled_batches_without_running_them(home, rng, monkeypatch):
    batches = fx.write_cifar10(home, rng)
    trust(monkeypatch, cifar10, "SHA256", home / "cifar-10-python.tar.gz")
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (15, 32, 32, 3) and x_train.dtype == np.uint8
    assert y_train.shape == (15, 1) and y_train.dtype == np.uint8
    assert x_test.shape == (3, 32, 32, 3) and y_test.shape == (3, 1)
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    want = np.concatenate([d for d, _ in train]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    np.testing.assert_array_equal(x_train, want)
    np.testing.assert_array_equal(y_train[:, 0], sum((labels for _, labels in train), []))
    np.testing.assert_array_equal(x_test[1, 4, 7], batches["test_batch"][0][1].reshape(3, 32, 32)
                                  [:, 4, 7])
    assert sorted(p.name for p in home.iterdir()) == ["cifar-10-python.tar.gz"]  # no extraction


def test_cifar10_refuses_a_batch_that_would_run_code(home, rng, monkeypatch, tmp_path):
    import io
    import os
    import tarfile

    class Payload:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    import pickle

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            raw = pickle.dumps({b"data": Payload(), b"labels": [1]}, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    (home / "cifar-10-python.tar.gz").write_bytes(buffer.getvalue())
    trust(monkeypatch, cifar10, "SHA256", home / "cifar-10-python.tar.gz")
    with pytest.raises(ValueError, match="refusing to load (posix|nt).system"):
        cifar10.load_data()
    assert not (tmp_path / "pwned").exists()


def test_a_file_in_place_with_the_wrong_hash_is_reported_not_replaced(home, rng):
    fx.write_imdb(home, rng)
    before = (home / "imdb.npz").read_bytes()
    with pytest.raises(ValueError, match=r"imdb\.npz: this file has SHA-256 .* expected "
                                         r"69664113.*delete it to download it again"):
        imdb.load_data()
    assert (home / "imdb.npz").read_bytes() == before
