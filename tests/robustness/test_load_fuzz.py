"""Damaged, foreign and malicious model files raise ValueError naming the file;
loading never executes anything from the file."""

from __future__ import annotations

import io
import json
import pickle
import zipfile

import numpy as np
import pytest

import pydl

from helpers import small_model

FUZZED_FILES = 300


@pytest.fixture(scope="module")
def saved_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.pydl"
    small_model().save(path)
    return path.read_bytes()


def load_expecting_value_error(path):
    with pytest.raises(ValueError) as info:
        pydl.models.load_model(path)
    assert path.name in str(info.value), f"message does not name the file: {info.value}"
    return info.value


def test_truncated_files(tmp_path, saved_bytes):
    for cut in (0, 1, 10, len(saved_bytes) // 2, len(saved_bytes) - 1):
        path = tmp_path / f"truncated_{cut}.pydl"
        path.write_bytes(saved_bytes[:cut])
        load_expecting_value_error(path)


def test_foreign_files(tmp_path):
    foreign_zip = tmp_path / "foreign.pydl"
    with zipfile.ZipFile(foreign_zip, "w") as z:
        z.writestr("hello.txt", "not a model")
    load_expecting_value_error(foreign_zip)
    npz = tmp_path / "arrays.npz"
    np.savez(npz, a=np.zeros(3))
    load_expecting_value_error(npz)
    text = tmp_path / "text.pydl"
    text.write_text("{}")
    load_expecting_value_error(text)


class Boom:
    def __reduce__(self):
        return (exec, ("open('PWNED','w').write('x')",))


def test_pickled_arrays_are_never_loaded(tmp_path, saved_bytes, monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = zipfile.ZipFile(io.BytesIO(saved_bytes))
    path = tmp_path / "pickled.pydl"
    with zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            if name.endswith(".npy"):
                buf = io.BytesIO()
                np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
                dst.writestr(name, buf.getvalue())
            else:
                dst.writestr(name, src.read(name))
    load_expecting_value_error(path)
    assert not (tmp_path / "PWNED").exists()


def test_unknown_layer_class_refused(tmp_path, saved_bytes):
    src = zipfile.ZipFile(io.BytesIO(saved_bytes))
    config_name = next(n for n in src.namelist() if n.endswith(".json"))
    config = src.read(config_name).decode()
    path = tmp_path / "unknown.pydl"
    with zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == config_name:
                data = config.replace('"Dense"', '"EvilLayer"').encode()
            dst.writestr(name, data)
    error = load_expecting_value_error(path)
    assert "EvilLayer" in str(error)


def test_mutated_files_raise_only_value_error(tmp_path, saved_bytes):
    rng = np.random.default_rng(0)
    outcomes = {"loaded": 0, "value_error": 0}
    for i in range(FUZZED_FILES):
        data = bytearray(saved_bytes)
        for _ in range(int(rng.integers(1, 8))):
            pos = int(rng.integers(0, len(data)))
            data[pos] = int(rng.integers(0, 256))
        path = tmp_path / f"mutant_{i}.pydl"
        path.write_bytes(bytes(data))
        try:
            pydl.models.load_model(path)
            outcomes["loaded"] += 1  # a mutation in slack bytes can leave the file valid
        except ValueError as e:
            assert path.name in str(e)
            outcomes["value_error"] += 1
        path.unlink()
    assert outcomes["value_error"] > FUZZED_FILES // 2, outcomes


def replace_entries(saved_bytes, path, transform):
    """Writes a copy of the archive with each .npy entry passed through transform."""
    src = zipfile.ZipFile(io.BytesIO(saved_bytes))
    with zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, transform(data) if name.endswith(".npy") else data)


def test_oversized_array_header(tmp_path, saved_bytes):
    def huge(data):
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 10**6)})
        return buf.getvalue()

    path = tmp_path / "huge.pydl"
    replace_entries(saved_bytes, path, huge)
    load_expecting_value_error(path)


def test_oversized_header_length(tmp_path, saved_bytes):
    def long_header(data):
        # A version-2 header claiming 100 MB of header text.
        return b"\x93NUMPY\x02\x00" + (100 * 2**20).to_bytes(4, "little") + b"{" * 64

    path = tmp_path / "longheader.pydl"
    replace_entries(saved_bytes, path, long_header)
    load_expecting_value_error(path)


def test_mutated_weight_files_raise_only_value_error(tmp_path):
    model = small_model()
    path = tmp_path / "w.weights.npz"
    model.save_weights(path)
    original = path.read_bytes()
    expected = model.get_weights()
    rng = np.random.default_rng(1)
    errors = 0
    for i in range(100):
        data = bytearray(original)
        for _ in range(int(rng.integers(1, 6))):
            data[int(rng.integers(0, len(data)))] = int(rng.integers(0, 256))
        mutant = tmp_path / f"mutant_{i}.weights.npz"
        mutant.write_bytes(bytes(data))
        try:
            model.load_weights(mutant)
        except ValueError as e:
            assert mutant.name in str(e)
            errors += 1
            # A refused file leaves the model as it was.
            for a, b in zip(model.get_weights(), expected):
                np.testing.assert_array_equal(a, b)
        model.set_weights(expected)
    assert errors > 50
