"""The one download helper (pydl/datasets/_files.py): where files go, hash checks, atomic
writes, nothing left behind on failure, and an offline error that says what to do."""

from __future__ import annotations

import hashlib
import os

import pytest

from pydl.datasets import _files

URL = "https://example.invalid/data/file.npz"
PAYLOAD = b"some dataset bytes" * 100
SHA = hashlib.sha256(PAYLOAD).hexdigest()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PYDL_HOME", str(tmp_path / "home"))
    return tmp_path / "home" / "datasets"


def serve(monkeypatch, payload=PAYLOAD, fail_after=None):
    calls = []

    def fake(url, destination):
        calls.append((url, destination))
        with open(destination, "wb") as f:
            f.write(payload[: fail_after or len(payload)])
        if fail_after is not None:
            raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(_files, "_download", fake)
    return calls


def test_datasets_dir_follows_pydl_home_else_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PYDL_HOME", str(tmp_path / "h"))
    assert _files.datasets_dir() == str(tmp_path / "h" / "datasets")
    monkeypatch.delenv("PYDL_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert _files.datasets_dir() == str(tmp_path / ".pydl" / "datasets")


def test_a_download_is_verified_then_renamed_into_place(home, monkeypatch):
    calls = serve(monkeypatch)
    path = _files.get_file("file.npz", URL, SHA)
    assert path == str(home / "file.npz") and (home / "file.npz").read_bytes() == PAYLOAD
    url, temporary = calls[0]
    assert url == URL and os.path.dirname(temporary) == str(home)  # same folder: atomic rename
    assert temporary != path
    assert os.listdir(home) == ["file.npz"]
    # In place now: used (and checked) without downloading again.
    monkeypatch.setattr(_files, "_download", lambda u, d: pytest.fail("downloaded twice"))
    assert _files.get_file("file.npz", URL, SHA) == path


def test_subdirectories_and_absolute_paths(home, tmp_path, monkeypatch):
    serve(monkeypatch)
    assert _files.get_file("f.bin", URL, SHA, subdir="fashion") == str(home / "fashion" / "f.bin")
    target = tmp_path / "mine" / "copy.bin"
    assert _files.get_file(str(target), URL, SHA) == str(target) and target.exists()


@pytest.mark.parametrize("how", ["mismatch", "interrupted"])
def test_a_failed_download_leaves_nothing_behind(home, monkeypatch, how):
    if how == "mismatch":
        serve(monkeypatch, payload=b"something else")
        with pytest.raises(ValueError, match=f"{URL}: the downloaded file has SHA-256 .* expected "
                                             f"{SHA}; it was not kept"):
            _files.get_file("file.npz", URL, SHA)
    else:
        serve(monkeypatch, fail_after=10)
        with pytest.raises(OSError, match="connection reset"):
            _files.get_file("file.npz", URL, SHA)
    assert os.listdir(home) == []


def test_offline_error_names_the_url_and_the_exact_path(home, monkeypatch):
    def offline(url, destination):
        raise OSError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(_files, "_download", offline)
    with pytest.raises(OSError) as info:
        _files.get_file("file.npz", URL, SHA, subdir="sub")
    message = str(info.value)
    assert URL in message and str(home / "sub" / "file.npz") in message
    assert "offline" in message and "name resolution" in message
    assert os.listdir(home / "sub") == []


def test_a_file_placed_by_hand_is_checked(home, monkeypatch):
    monkeypatch.setattr(_files, "_download", lambda u, d: pytest.fail("must not download"))
    home.mkdir(parents=True)
    (home / "file.npz").write_bytes(PAYLOAD)
    assert _files.get_file("file.npz", URL, SHA) == str(home / "file.npz")
    (home / "file.npz").write_bytes(b"tampered")
    with pytest.raises(ValueError, match=r"file\.npz: this file has SHA-256 .* delete it"):
        _files.get_file("file.npz", URL, SHA)
    assert (home / "file.npz").read_bytes() == b"tampered"  # reported, never deleted


def test_md5_only_where_no_sha256_is_published(home, monkeypatch):
    serve(monkeypatch)
    md5 = hashlib.md5(PAYLOAD).hexdigest()
    assert _files.get_file("index.json", URL, md5) == str(home / "index.json")
    assert (home / "index.json").read_bytes() == PAYLOAD
    with pytest.raises(ValueError, match="MD5"):
        _files.get_file("index.json", URL, "0" * 32)
