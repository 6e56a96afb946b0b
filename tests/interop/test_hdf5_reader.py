"""pydl's pure-Python HDF5 reader against h5py on the files h5py writes."""

from __future__ import annotations

import io

import numpy as np
import pytest

from pydl.saving import hdf5

h5py = pytest.importorskip("h5py")
DTYPES = ["<f4", ">f8", "<f8", "<f2", "<i4", ">i2", "<i8", "u1", "<u4"]


def random_file(rng, libver="earliest", members=60, groups=30) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", libver=libver) as f:
        vars_group = f.create_group("optimizer/vars")
        vars_group.attrs["name"] = "adam"
        for i in range(members):
            dtype = DTYPES[int(rng.integers(len(DTYPES)))]
            shape = tuple(int(d) for d in rng.integers(0, 5, size=int(rng.integers(0, 4))))
            data = (rng.standard_normal(shape) * 50).astype(dtype)
            dataset = vars_group.create_dataset(str(i), data=data)
            for a in range(i % 3):
                dataset.attrs[f"attribute_{a}"] = "x" * a
        for j in range(groups):
            f.create_group(f"layers/layer_{j}/vars")
    return buffer.getvalue()


def assert_same(data: bytes):
    mine = hdf5.File(data)
    with h5py.File(io.BytesIO(data), "r") as reference:
        def visit(name, node):
            other = mine.root[name]
            if isinstance(node, h5py.Dataset):
                assert isinstance(other, hdf5.Dataset)
                array = other.read()
                assert other.shape == node.shape
                assert array.dtype == node.dtype.newbyteorder("=")
                np.testing.assert_array_equal(array, node[()])
                assert sorted(other.attribute_names) == sorted(node.attrs)
            else:
                assert isinstance(other, hdf5.Group)
                assert other.keys() == sorted(node.keys())
        reference.visititems(visit)


@pytest.mark.parametrize("seed", range(4))
def test_matches_h5py_on_old_style_files(seed):
    # up to 300 members in a group: symbol tables over several B-tree nodes and levels
    rng = np.random.default_rng(seed)
    assert_same(random_file(rng, members=int(rng.integers(1, 300)),
                            groups=int(rng.integers(1, 60))))


def test_matches_h5py_on_new_style_compact_files():
    rng = np.random.default_rng(9)
    assert_same(random_file(rng, libver="latest", members=7, groups=6))


def test_dense_link_storage_is_refused():
    rng = np.random.default_rng(10)
    data = random_file(rng, libver="latest", members=20, groups=2)
    with pytest.raises(hdf5.HDF5Error, match="dense link storage"):
        hdf5.File(data).root["optimizer/vars"].keys()


def test_compact_and_scalar_datasets():
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        plist.set_layout(h5py.h5d.COMPACT)
        compact = h5py.h5d.create(f.id, b"compact", h5py.h5t.IEEE_F32LE,
                                  h5py.h5s.create_simple((2, 3)), dcpl=plist)
        compact.write(h5py.h5s.ALL, h5py.h5s.ALL, np.arange(6, dtype=np.float32).reshape(2, 3))
        f["scalar"] = np.int64(-7)
        f["empty"] = np.zeros((0, 4), np.float32)
    reader = hdf5.File(buffer.getvalue())
    np.testing.assert_array_equal(reader.root["compact"].read(),
                                  np.arange(6, dtype=np.float32).reshape(2, 3))
    assert reader.root["scalar"].read() == -7 and reader.root["scalar"].shape == ()
    assert reader.root["empty"].read().shape == (0, 4)
    assert "scalar" in reader.root and "missing" not in reader.root
    with pytest.raises(KeyError, match="missing"):
        reader.root["missing"]
    with pytest.raises(KeyError, match="dataset"):
        reader.root["scalar/deeper"]


def test_user_block_offset_superblock():
    buffer = io.BytesIO()
    with h5py.File(buffer, "w", userblock_size=512) as f:
        f["x"] = np.ones(3, np.float32)
    np.testing.assert_array_equal(hdf5.File(buffer.getvalue()).root["x"].read(), np.ones(3))
