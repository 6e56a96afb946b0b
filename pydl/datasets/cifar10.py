"""CIFAR-10: 50,000 + 10,000 32x32 colour images in 10 classes.

    (x_train, y_train), (x_test, y_test) = pydl.datasets.cifar10.load_data()

The same arrays as `keras.datasets.cifar10` (channels last). The archive Keras
downloads, ``cifar-10-python.tar.gz``, is fetched once into ``~/.pydl/datasets``
(or ``$PYDL_HOME/datasets``) and checked against its SHA-256; its batches are
read straight from the archive (nothing is extracted to disk). They are Python
pickles: pydl reads them with a restricted reader that builds only lists,
strings and uint8 arrays and runs no code from the file
(pydl/datasets/_safe_pickle.py).
"""

from __future__ import annotations

import tarfile

import numpy as np

from . import _files
from ._safe_pickle import loads

URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
ARCHIVE = "cifar-10-python.tar.gz"
FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")


def _batches(path: str) -> dict:
    """The raw bytes of the six batch files of the archive at `path`."""
    wanted = {f"{FOLDER}/{name}" for name in TRAIN_BATCHES + ("test_batch",)}
    found = {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if member.name in wanted and member.isfile():
                    found[member.name.split("/")[-1]] = archive.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as e:
        raise ValueError(f"{path}: not a readable .tar.gz archive ({e})") from None
    missing = sorted(n.split("/")[-1] for n in wanted if n.split("/")[-1] not in found)
    if missing:
        raise ValueError(f"{path}: the archive lacks {FOLDER}/{', '.join(missing)}")
    return found


def _batch(raw: bytes, name: str):
    """(images (N, 3, 32, 32) uint8, labels (N,) uint8) of one batch file."""
    batch = loads(raw)
    if not isinstance(batch, dict):
        raise ValueError(f"{name}: expected a dict, found a {type(batch).__name__}")
    batch = {k.decode("utf-8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data, labels = batch.get("data"), batch.get("labels")
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
            or data.shape[1] != 3 * 32 * 32 or not isinstance(labels, list) \
            or len(labels) != len(data) or not all(isinstance(v, int) and 0 <= v < 10
                                                   for v in labels):
        raise ValueError(f"{name}: expected 'data' uint8 (N, 3072) and N 'labels' in 0..9")
    return data.reshape(len(data), 3, 32, 32), np.asarray(labels, dtype=np.uint8)


def load_data() -> _files.Splits:
    """Loads CIFAR-10 as Keras 3 does: ``((x_train, y_train), (x_test, y_test))``.

    Returns:
        x arrays uint8 of shape (N, 32, 32, 3); y arrays uint8 of shape (N, 1), labels
        0..9 (`CLASS_NAMES` names them).
    """
    path = _files.get_file(ARCHIVE, URL, SHA256)
    raw = _batches(path)
    train = [_batch(raw[name], f"{path}:{name}") for name in TRAIN_BATCHES]
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train]).reshape(-1, 1)
    x_test, y_test = _batch(raw["test_batch"], f"{path}:test_batch")
    # channels last, as Keras with image_data_format() == "channels_last"
    return ((np.ascontiguousarray(x_train.transpose(0, 2, 3, 1)), y_train),
            (np.ascontiguousarray(x_test.transpose(0, 2, 3, 1)), y_test.reshape(-1, 1)))
