"""Damaged, foreign and hostile .keras / .weights.h5 files raise ValueError naming the file;
loading never runs code, never crashes, and never allocates much beyond the file's size."""

from __future__ import annotations

import io
import json
import resource
import warnings
import zipfile

import numpy as np
import pytest

import pydl
from pydl import layers
from pydl.saving import hdf5

h5py = pytest.importorskip("h5py")
FUZZED_FILES = 200


def small_model():
    pydl.utils.set_random_seed(0)
    model = pydl.Sequential([pydl.Input(shape=(5,)), layers.Dense(6, activation="relu"),
                             layers.Dropout(0.2), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(np.ones((8, 5), np.float32), np.arange(8) % 3, epochs=1, verbose=0)
    return model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    small_model().save(path)
    return path.read_bytes()


def members(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def rezip(path, entries: dict) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)


def expect_value_error(path, match=None):
    with pytest.raises(ValueError, match=match) as info:
        pydl.models.load_model(path)
    assert path.name in str(info.value), f"the message does not name the file: {info.value}"
    return info.value


def test_mutated_files_raise_only_value_error(tmp_path, saved):
    """Random bytes changed anywhere, and inside the weights (HDF5) member, 200 files."""
    rng = np.random.default_rng(0)
    weights = members(saved)["model.weights.h5"]
    start = saved.find(weights)
    assert start > 0
    outcomes = {"loaded": 0, "value_error": 0}
    for i in range(FUZZED_FILES):
        data = bytearray(saved)
        low, high = (0, len(data)) if i % 2 else (start, start + len(weights))
        for _ in range(int(rng.integers(1, 12))):
            data[int(rng.integers(low, high))] = int(rng.integers(0, 256))
        path = tmp_path / f"mutant_{i}.keras"
        path.write_bytes(bytes(data))
        try:
            with warnings.catch_warnings():  # a damaged optimizer state may only be skipped
                warnings.simplefilter("ignore", UserWarning)
                pydl.models.load_model(path)
            outcomes["loaded"] += 1  # a change in slack or unused bytes can leave it valid
        except ValueError as exc:
            assert path.name in str(exc), str(exc)
            outcomes["value_error"] += 1
        path.unlink()
    assert outcomes["value_error"] > FUZZED_FILES // 4, outcomes


def test_mutated_weights_files_raise_only_value_error(tmp_path):
    model = small_model()
    model.save_weights(tmp_path / "w.weights.h5")
    original = (tmp_path / "w.weights.h5").read_bytes()
    rng = np.random.default_rng(1)
    failures = 0
    for i in range(100):
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 8))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        path = tmp_path / f"mutant_{i}.weights.h5"
        path.write_bytes(bytes(data))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                model.load_weights(path)
        except ValueError as exc:
            assert path.name in str(exc)
            failures += 1
    assert failures > 10


def test_truncated_and_foreign_files(tmp_path, saved):
    for cut in (0, 10, len(saved) // 2, len(saved) - 1):
        path = tmp_path / f"truncated_{cut}.keras"
        path.write_bytes(saved[:cut])
        expect_value_error(path)
    path = tmp_path / "foreign.keras"
    rezip(path, {"hello.txt": "not a model"})
    expect_value_error(path, "config.json")
    path = tmp_path / "npz_weights.keras"
    entries = members(saved)
    entries["model.weights.npz"] = entries.pop("model.weights.h5")
    rezip(path, entries)
    expect_value_error(path, "npz")
    path = tmp_path / "list.keras"
    rezip(path, {"config.json": "[1, 2]", "model.weights.h5": b""})
    expect_value_error(path)


def test_huge_architecture_is_refused_before_allocating(tmp_path, saved):
    """A config declaring a 4 GB kernel in a file of a few KB: refused by the weight budget
    before any weight is allocated (the process's peak memory does not grow)."""
    entries = members(saved)
    config = json.loads(entries["config.json"])
    config["config"]["layers"][1]["config"]["units"] = 10**9
    entries["config.json"] = json.dumps(config)
    path = tmp_path / "huge.keras"
    rezip(path, entries)
    peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    expect_value_error(path, "larger than the file can hold")
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before
    assert grown_kb < 200_000, f"peak memory grew by {grown_kb} KB"


def test_member_declaring_more_than_the_file_is_refused(tmp_path, saved):
    entries = members(saved)
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", entries["config.json"])
        archive.writestr("metadata.json", entries["metadata.json"])
        archive.writestr("model.weights.h5", b"\0" * (64 * 2**20))  # deflates to ~64 KB
    expect_value_error(path, "declares")


def hostile_weights(tmp_path, saved, build):
    """A .keras file whose weights member is the HDF5 file ``build(h5py.File)`` writes."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build(f)
    entries = members(saved)
    entries["model.weights.h5"] = buffer.getvalue()
    path = tmp_path / "hostile.keras"
    rezip(path, entries)
    return path


def copy_weights(f, saved, skip=()):
    reference = hdf5.File(members(saved)["model.weights.h5"])
    for path in ("layers/dense/vars", "layers/dense_1/vars", "layers/dropout/vars", "vars"):
        group = f.create_group(path)
        for key in reference.root[path].keys():
            if f"{path}/{key}" not in skip:
                group[key] = reference.root[f"{path}/{key}"].read()


@pytest.mark.parametrize("kind, match", [
    ("external_link", "soft or external"), ("soft_link", "soft or external"),
    ("compressed", "filtered"), ("chunked", "chunked"), ("wrong_shape", "shape"),
    ("string", "string"), ("int_kernel", "dtype"), ("extra", "variables"),
    ("bfloat16_marker", "bfloat16"),
])
def test_hostile_hdf5_contents(tmp_path, saved, kind, match):
    kernel = "layers/dense/vars/0"

    def build(f):
        copy_weights(f, saved, skip=(kernel,))
        group = f["layers/dense/vars"]
        if kind == "external_link":
            group["0"] = h5py.ExternalLink("/etc/passwd", "/x")
        elif kind == "soft_link":
            group["0"] = h5py.SoftLink("/layers/dense_1/vars/0")
        elif kind == "compressed":
            group.create_dataset("0", data=np.zeros((5, 6), np.float32), compression="gzip")
        elif kind == "chunked":
            group.create_dataset("0", data=np.zeros((5, 6), np.float32), chunks=(1, 6))
        elif kind == "wrong_shape":
            group["0"] = np.zeros((6, 5), np.float32)
        elif kind == "string":
            group["0"] = np.array([b"abc"] * 30).reshape(5, 6)
        elif kind == "int_kernel":
            group["0"] = np.zeros((5, 6), np.int32)
        elif kind == "extra":
            group["0"] = np.zeros((5, 6), np.float32)
            group["2"] = np.zeros((5,), np.float32)
        elif kind == "bfloat16_marker":
            group["0"] = np.zeros((5, 6), np.float32)
            group["0"].attrs["dtype"] = "bfloat16"

    expect_value_error(hostile_weights(tmp_path, saved, build), match)


def test_pickles_and_code_are_never_run(tmp_path, saved, monkeypatch):
    """A config naming Python callables or modules gets nothing imported or called."""
    monkeypatch.chdir(tmp_path)
    entries = members(saved)
    config = json.loads(entries["config.json"])
    dense = config["config"]["layers"][1]
    dense["module"] = "os"
    dense["class_name"] = "system"
    dense["config"] = {"command": "touch PWNED"}
    entries["config.json"] = json.dumps(config)
    path = tmp_path / "code.keras"
    rezip(path, entries)
    expect_value_error(path, "system")
    entries = members(saved)
    config = json.loads(entries["config.json"])
    config["config"]["layers"][1]["config"]["activation"] = {
        "module": "builtins", "class_name": "function", "config": "exec", "registered_name": None}
    entries["config.json"] = json.dumps(config)
    rezip(path, entries)
    expect_value_error(path, "exec")
    assert not (tmp_path / "PWNED").exists()


def test_hdf5_reader_loops_and_bounds(tmp_path):
    """Cycles and out-of-range offsets in the HDF5 structures end in HDF5Error."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f["a/b/c"] = np.arange(4, dtype=np.float32)
    data = bytearray(buffer.getvalue())
    reader = hdf5.File(bytes(data))
    np.testing.assert_array_equal(reader.root["a/b/c"].read(), np.arange(4, dtype=np.float32))
    with pytest.raises(hdf5.HDF5Error):
        hdf5.File(bytes(data[:100]))
    with pytest.raises(hdf5.HDF5Error, match="signature"):
        hdf5.File(b"not hdf5" * 100)
    # every single-byte change in the structure: either still readable or HDF5Error
    rng = np.random.default_rng(0)
    for position in rng.integers(0, len(data), size=300):
        mutated = bytearray(data)
        mutated[int(position)] ^= 0xFF
        try:
            hdf5.File(bytes(mutated)).root["a/b/c"].read()
        except (hdf5.HDF5Error, KeyError):
            pass
