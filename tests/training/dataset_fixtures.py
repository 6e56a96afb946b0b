"""Tiny dataset files in the real formats (npz with object arrays, gzipped IDX, the CIFAR-10
tar.gz of pickled batches), written into a folder for the loaders to read offline."""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile

import numpy as np


def sequences(rng, n: int, max_index: int = 70000) -> np.ndarray:
    """A 1-D object array of n lists of word indices (lengths 1..29, some indices past 2**16)."""
    out = np.empty(n, dtype=object)
    for i in range(n):
        length = int(rng.integers(1, 30))
        out[i] = [int(w) for w in rng.integers(1, max_index, length)] + [int(rng.integers(1, 9))]
    return out


def write_imdb(folder, rng, n_train: int = 40, n_test: int = 30) -> dict:
    arrays = {"x_train": sequences(rng, n_train), "y_train": rng.integers(0, 2, n_train),
              "x_test": sequences(rng, n_test), "y_test": rng.integers(0, 2, n_test)}
    np.savez(folder / "imdb.npz", **arrays)  # object arrays are pickled, as in the real file
    return arrays


def write_reuters(folder, rng, n: int = 60) -> dict:
    arrays = {"x": sequences(rng, n, max_index=30000), "y": rng.integers(0, 46, n)}
    np.savez(folder / "reuters.npz", **arrays)
    return arrays


def write_tabular(folder, rng, name: str, n: int, features: int, dtype) -> dict:
    arrays = {"x": rng.normal(size=(n, features)).astype(dtype),
              "y": rng.uniform(5, 50, n).astype(dtype)}
    np.savez(folder / name, **arrays)
    return arrays


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(n).to_bytes(4, "big")
                                                         for n in array.shape)
    return header + array.astype(np.uint8).tobytes()


FASHION_FILES = {
    "train-images-idx3-ubyte.gz": "x_train", "train-labels-idx1-ubyte.gz": "y_train",
    "t10k-images-idx3-ubyte.gz": "x_test", "t10k-labels-idx1-ubyte.gz": "y_test",
}


def write_fashion(folder, rng) -> dict:
    arrays = {"x_train": rng.integers(0, 256, (6, 28, 28), dtype=np.uint8),
              "y_train": rng.integers(0, 10, 6, dtype=np.uint8),
              "x_test": rng.integers(0, 256, (4, 28, 28), dtype=np.uint8),
              "y_test": rng.integers(0, 10, 4, dtype=np.uint8)}
    folder.mkdir(parents=True, exist_ok=True)
    for name, key in FASHION_FILES.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(arrays[key])))
    return arrays


def _short(op_short: bytes, op_long: bytes, data: bytes) -> bytes:
    if len(data) < 256:
        return op_short + bytes([len(data)]) + data
    return op_long + struct.pack("<I", len(data)) + data


def _py2_str(data: bytes) -> bytes:
    return _short(b"U", b"T", data)  # SHORT_BINSTRING / BINSTRING: a Python 2 str


def _py2_int(v: int) -> bytes:
    if 0 <= v < 256:
        return b"K" + bytes([v])
    if 0 <= v < 65536:
        return b"M" + struct.pack("<H", v)
    return b"J" + struct.pack("<i", v)


def py2_batch_pickle(data: np.ndarray, labels: list, label: bytes = b"batch") -> bytes:
    """A CIFAR-10 batch as Python 2's cPickle (protocol 2) writes it: str keys, a NumPy
    uint8 array rebuilt by numpy.core.multiarray._reconstruct, a list of int labels."""
    n, width = data.shape
    array = (b"cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02K\x00\x85"
             + _py2_str(b"b") + b"\x87Rq\x03(K\x01" + _py2_int(n) + _py2_int(width) + b"\x86"
             + b"cnumpy\ndtype\nq\x04" + _py2_str(b"u1") + b"K\x00K\x01\x87Rq\x05(K\x03"
             + _py2_str(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
             + _py2_str(data.astype(np.uint8).tobytes()) + b"tb")
    labels_part = b"]q\x06(" + b"".join(_py2_int(v) for v in labels) + b"e"
    names = b"]q\x07(" + b"".join(_py2_str(f"img_{i}.png".encode()) for i in range(n)) + b"e"
    return (b"\x80\x02}q\x00(" + _py2_str(b"batch_label") + _py2_str(label)
            + _py2_str(b"labels") + labels_part + _py2_str(b"data") + array
            + _py2_str(b"filenames") + names + b"u.")


def write_cifar10(folder, rng, per_batch: int = 3) -> dict:
    """cifar-10-python.tar.gz with the six batches: batch 1 and the test batch in Python 2's
    format, the others as Python 3 pickles of protocols 2..5 (bytes keys, as Keras reads)."""
    batches = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, per_batch)]
        batches[name] = (data, labels)
    payload = {}
    for i, (name, (data, labels)) in enumerate(batches.items()):
        if name in ("data_batch_1", "test_batch"):
            payload[name] = py2_batch_pickle(data, labels)
        else:
            batch = {b"batch_label": b"batch", b"labels": labels, b"data": data,
                     b"filenames": [b"x.png"] * len(labels)}
            payload[name] = pickle.dumps(batch, protocol=2 + (i % 4))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, raw in payload.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
        meta = tarfile.TarInfo("cifar-10-batches-py/readme.html")
        meta.size = 5
        archive.addfile(meta, io.BytesIO(b"hello"))
    (folder / "cifar-10-python.tar.gz").write_bytes(buffer.getvalue())
    return batches
