"""Datasets from tiny files made in tmp_path; never the network."""

import gzip
import hashlib
import io
import os

import numpy as np
import pytest

from pydl.datasets import _files, digits, mnist


def idx_bytes(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(">i4"): 0x0C}[array.dtype]
    header = bytes([0, 0, code, array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.tobytes()


def tiny_mnist(rng):
    return {
        "x_train": rng.integers(0, 256, (5, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, 5, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (3, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, 3, dtype=np.uint8),
    }


def write_idx_folder(folder, arrays, gz):
    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in mnist.IDX_FILES.items():
        data = idx_bytes(arrays[key])
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)


def assert_loaded(result, arrays):
    (x_train, y_train), (x_test, y_test) = result
    for got, key in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")]:
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[key])


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_mnist_from_idx_files(tmp_path, rng, gz):
    arrays = tiny_mnist(rng)
    write_idx_folder(tmp_path / "idx", arrays, gz)
    assert_loaded(mnist.load_data(tmp_path / "idx"), arrays)


def test_mnist_from_npz_file_and_folder(tmp_path, rng):
    arrays = tiny_mnist(rng)
    np.savez(tmp_path / "mnist.npz", **arrays)
    assert_loaded(mnist.load_data(str(tmp_path / "mnist.npz")), arrays)
    assert_loaded(mnist.load_data(tmp_path), arrays)


def test_read_idx_other_dtypes_and_bad_files(tmp_path):
    values = np.arange(6, dtype=">i4").reshape(2, 3)
    (tmp_path / "ints").write_bytes(idx_bytes(values))
    got = mnist.read_idx(str(tmp_path / "ints"))
    np.testing.assert_array_equal(got, values)
    assert got.dtype.isnative
    (tmp_path / "bad").write_bytes(b"\x12\x34\x56\x78")
    with pytest.raises(ValueError, match="not an IDX file"):
        mnist.read_idx(str(tmp_path / "bad"))
    (tmp_path / "short").write_bytes(idx_bytes(np.zeros((2, 2), np.uint8))[:-1])
    with pytest.raises(ValueError, match="expected 4"):
        mnist.read_idx(str(tmp_path / "short"))


def test_mnist_rejects_pickles_and_foreign_npz(tmp_path):
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    buffer = io.BytesIO()
    np.savez(buffer, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1), x_test=np.zeros(1),
             y_test=np.zeros(1))
    (tmp_path / "evil.npz").write_bytes(buffer.getvalue())
    with pytest.raises(ValueError, match="evil.npz"):
        mnist.load_data(tmp_path / "evil.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="missing"):
        mnist.load_data(tmp_path / "other.npz")
    with pytest.raises(FileNotFoundError, match="neither"):
        mnist.load_data(tmp_path / "..")
    with pytest.raises(FileNotFoundError, match="no such file"):
        mnist.load_data(tmp_path / "nothing-here")


@pytest.fixture(autouse=True)
def no_pydl_home(monkeypatch):
    monkeypatch.delenv("PYDL_HOME", raising=False)


def test_mnist_uses_the_cache_folder(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    arrays = tiny_mnist(rng)
    write_idx_folder(tmp_path / ".pydl" / "datasets", arrays, gz=True)
    monkeypatch.setattr(_files, "_download", lambda url, dest: pytest.fail("must not download"))
    assert_loaded(mnist.load_data(), arrays)


def test_mnist_offline_error_says_how_to_get_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))

    def offline(url, destination):
        raise OSError("network is unreachable")

    monkeypatch.setattr(_files, "_download", offline)
    with pytest.raises(OSError, match=r"mnist\.npz.*offline.*train-images-idx3-ubyte.*"
                                      r"load_data\(path=") as info:
        mnist.load_data()
    assert str(tmp_path / ".pydl" / "datasets" / "mnist.npz") in str(info.value)
    assert mnist.URL in str(info.value)
    assert os.listdir(tmp_path / ".pydl" / "datasets") == []  # no partial file left


def test_mnist_download_is_verified_then_moved_into_place(tmp_path, rng, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    arrays = tiny_mnist(rng)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    payload = buffer.getvalue()

    def fake_download(url, destination):
        with open(destination, "wb") as f:
            f.write(payload)

    monkeypatch.setattr(_files, "_download", fake_download)
    cache = tmp_path / ".pydl" / "datasets"
    with pytest.raises(ValueError, match="SHA-256"):
        mnist.load_data()  # the real checksum does not match our tiny file: nothing kept
    assert os.listdir(cache) == []
    monkeypatch.setenv("PYDL_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setattr(mnist, "SHA256", hashlib.sha256(payload).hexdigest())
    assert_loaded(mnist.load_data(), arrays)  # $PYDL_HOME/datasets is used when set
    assert os.listdir(tmp_path / "elsewhere" / "datasets") == ["mnist.npz"]
    monkeypatch.delenv("PYDL_HOME")
    assert os.listdir(cache) == []  # ~/.pydl untouched by that download
    monkeypatch.setattr(mnist, "SHA256", hashlib.sha256(payload).hexdigest())
    assert_loaded(mnist.load_data(), arrays)
    assert os.listdir(cache) == ["mnist.npz"]


def test_digits_split_is_seeded_and_complete():
    pytest.importorskip("sklearn")
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape[1:] == (8, 8) and x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert len(x_train) + len(x_test) == 1797 and len(x_test) == round(1797 * 0.2)
    assert x_train.max() == 16 and set(np.unique(y_train)) == set(range(10))
    (x2, _), _ = digits.load_data()
    np.testing.assert_array_equal(x_train, x2)
    (x3, _), (x3_test, _) = digits.load_data(test_split=0.5, seed=1)
    assert len(x3_test) == 898 or len(x3_test) == 899
    with pytest.raises(ValueError, match="test_split"):
        digits.load_data(test_split=1.5)


def test_digits_without_sklearn_names_the_extra(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match=r"pip install scikit-learn.*pydl\[examples\]"):
        digits.load_data()
