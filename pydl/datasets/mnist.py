"""MNIST: 60,000 + 10,000 handwritten digits, 28x28 uint8 images and uint8 labels.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.mnist.load_data()

Reads a Keras-style ``mnist.npz`` or the four standard IDX files (gzipped or
not). Without `path`, looks in ``~/.pydl/datasets`` (``$PYDL_HOME/datasets``)
and else downloads the ``.npz`` there, checking its SHA-256 before moving it
into place (pydl/datasets/_files.py).
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from . import _files

URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
NPZ_NAME = "mnist.npz"
IDX_FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def cache_dir() -> str:
    """Where downloaded datasets live: ``$PYDL_HOME/datasets`` or ``~/.pydl/datasets``."""
    return _files.datasets_dir()


def read_idx(path: str) -> np.ndarray:
    """Reads one IDX file (``.gz`` or plain): magic 0x0000TTNN (type TT, NN dimensions), big-endian sizes."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(f"{path}: not an IDX file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: IDX header truncated (expected {header} bytes, file has {len(data)})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(_IDX_DTYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(data) - header != expected:
        raise ValueError(
            f"{path}: IDX payload of {len(data) - header} bytes, expected {expected} for shape {shape}"
        )
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(directory: str, stem: str) -> str | None:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _load_npz(path: str):
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {key: f[key] for key in IDX_FILES}
    except KeyError as e:
        raise ValueError(f"{path}: expected arrays {sorted(IDX_FILES)} in the .npz, missing {e}") from None
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: not a readable .npz file ({e})") from None
    return arrays


def _load_directory(directory: str):
    """Arrays from `directory`: mnist.npz if present, else the four IDX files; None if neither."""
    npz = os.path.join(directory, NPZ_NAME)
    if os.path.isfile(npz):
        return _load_npz(npz)
    found = {key: _find_idx(directory, stem) for key, stem in IDX_FILES.items()}
    if all(found.values()):
        return {key: read_idx(p) for key, p in found.items()}
    return None


def _fetch_into_cache(directory: str) -> str:
    """mnist.npz downloaded into `directory`, verified (the shared helper, _files.py)."""
    try:
        return _files.get_file(os.path.join(directory, NPZ_NAME), URL, SHA256)
    except OSError as e:
        raise OSError(
            f"{e}. MNIST can also be read offline from the four IDX files "
            f"({', '.join(IDX_FILES.values())}, gzipped or not) in {directory}, or from a folder "
            "passed as load_data(path=...)."
        ) from e


def _check_arrays(arrays: dict, source: str):
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise ValueError(
                f"{source}: expected x_{split} (N, rows, cols) and y_{split} (N,), received {x.shape} and {y.shape}"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_data(path=None):
    """Loads MNIST as Keras does: ``((x_train, y_train), (x_test, y_test))``.

    Args:
        path: a folder holding ``mnist.npz`` or the four IDX files (``.gz`` or not), or the path of
            a Keras-style ``.npz``. None: ``~/.pydl/datasets`` (or ``$PYDL_HOME/datasets``),
            downloading there when missing.

    Returns:
        x arrays uint8 of shape (N, 28, 28) and y arrays uint8 of shape (N,) (as stored).
    """
    if path is not None:
        path = os.fspath(path)
        if os.path.isdir(path):
            arrays = _load_directory(path)
            if arrays is None:
                raise FileNotFoundError(
                    f"path: {path} holds neither {NPZ_NAME} nor the IDX files {list(IDX_FILES.values())}"
                )
        elif os.path.isfile(path):
            arrays = _load_npz(path)
        else:
            raise FileNotFoundError(f"path: no such file or folder: {path}")
        return _check_arrays(arrays, path)
    directory = cache_dir()
    arrays = _load_directory(directory) if os.path.isdir(directory) else None
    if arrays is None:
        arrays = _load_npz(_fetch_into_cache(directory))
    return _check_arrays(arrays, directory)
