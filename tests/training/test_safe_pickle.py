"""The restricted pickle reader of the datasets: plain data and NumPy arrays in every pickle
protocol (and Python 2's format), nothing else -- no import, no call, no side effect."""

from __future__ import annotations

import io
import os
import pickle
import zipfile

import numpy as np
import pytest

from pydl.datasets import _safe_pickle as sp

from . import dataset_fixtures as fx


def object_array(items):
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


@pytest.mark.parametrize("protocol", [0, 1, 2, 3, 4, 5])
def test_plain_data_and_arrays_in_every_protocol(protocol):
    value = {
        b"data": np.arange(24, dtype=np.uint8).reshape(4, 6),
        "floats": np.linspace(0, 1, 6, dtype=">f8").reshape(2, 3).T,  # big-endian, Fortran
        "ints": np.array([-(2**40), 3], dtype=np.int64),
        "flags": np.array([True, False]),
        "ragged": object_array([[1, 2, 3], [70000], []]),
        "nested": [1, -2, 2**70, 1.5, None, True, "text", b"raw", (1, (2,)), {"k": [3]}],
    }
    got = sp.loads(pickle.dumps(value, protocol=protocol))
    assert got.keys() == value.keys()
    for key in (b"data", "floats", "ints", "flags"):
        assert got[key].dtype == value[key].dtype.newbyteorder("=") and got[key].dtype.isnative
        np.testing.assert_array_equal(got[key], value[key])
    assert got["ragged"].dtype == object and got["ragged"].shape == (3,)
    assert [list(x) for x in got["ragged"]] == [[1, 2, 3], [70000], []]
    assert got["nested"] == value["nested"]


def test_python2_cifar_batches():
    data = np.random.default_rng(0).integers(0, 256, (2, 3072), dtype=np.uint8)
    raw = fx.py2_batch_pickle(data, [3, 9], label=b"training batch 1 of 5")
    got = sp.loads(raw)
    assert got[b"batch_label"] == b"training batch 1 of 5" and got[b"labels"] == [3, 9]
    np.testing.assert_array_equal(got[b"data"], data)
    # the same bytes as pickle itself reads them with Keras' settings
    reference = pickle.loads(raw, encoding="bytes")
    np.testing.assert_array_equal(reference[b"data"], got[b"data"])


class _Payload:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


class _Custom:
    pass


@pytest.mark.parametrize("make", ["os.system", "eval", "custom class", "bytes dtype", "newobj",
                                  "truncated", "not a pickle", "fake ndarray", "fields dtype"])
def test_anything_else_is_refused_without_side_effects(make, tmp_path):
    marker = tmp_path / "ran"
    raw = {
        "os.system": lambda: pickle.dumps([1, _Payload(marker)], protocol=2),
        "eval": lambda: b"cbuiltins\neval\n(S'__import__(\"os\")'\ntR.",
        "custom class": lambda: pickle.dumps(_Custom(), protocol=4),
        "bytes dtype": lambda: pickle.dumps(np.array([b"ab"]), protocol=2),
        "newobj": lambda: b"\x80\x02cnumpy\ndtype\n)\x81.",
        "truncated": lambda: pickle.dumps(np.zeros(5), protocol=3)[:-7],
        "not a pickle": lambda: b"hello world",
        "fake ndarray": lambda: b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\ndtype\n"
                                b"K\x00\x85U\x01b\x87R.",
        "fields dtype": lambda: pickle.dumps(np.zeros(2, dtype=[("a", "f4")]), protocol=2),
    }[make]()
    with pytest.raises(sp.UnsafePickleError):
        sp.loads(raw)
    assert not marker.exists()


def test_array_data_must_match_the_shape():
    good = pickle.dumps(np.arange(6, dtype=np.int32), protocol=2)
    tampered = good.replace(b"K\x06\x85", b"K\x07\x85")  # claims 7 elements, carries 6
    assert tampered != good
    with pytest.raises(sp.UnsafePickleError, match="needs 28 bytes, found 24"):
        sp.loads(tampered)


def test_npz_members_numeric_without_pickle_and_object_arrays_restricted(tmp_path):
    path = tmp_path / "mixed.npz"
    np.savez(path, x=object_array([[1, 2], [3]]), y=np.arange(3))
    arrays = sp.load_npz(str(path))
    assert [list(v) for v in arrays["x"]] == [[1, 2], [3]]
    np.testing.assert_array_equal(arrays["y"], np.arange(3))
    evil = tmp_path / "evil.npz"
    buffer = io.BytesIO()
    np.save(buffer, object_array([_Payload(tmp_path / "ran")]), allow_pickle=True)
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("x.npy", buffer.getvalue())
    with pytest.raises(sp.UnsafePickleError, match=r"evil\.npz: refusing to load"):
        sp.load_npz(str(evil))
    assert not (tmp_path / "ran").exists()
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match=r"junk\.npz: not a \.npz file"):
        sp.load_npz(str(tmp_path / "junk.npz"))
