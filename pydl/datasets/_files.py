"""Where dataset files live, and the one way pydl downloads them.

    datasets_dir()   $PYDL_HOME/datasets when PYDL_HOME is set, else ~/.pydl/datasets
    get_file(...)    the path of a verified local copy, downloading it once

A download goes to a temporary file in the target folder, is checked against
its published hash, and only then renamed into place (`os.replace`), so a
failed, interrupted or mismatching download leaves nothing behind. Offline,
the error names the URL and the exact path where the file can be put by hand.
A file already in place is checked against the hash each time it is used.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from typing import Optional, Tuple

import numpy as np

# What every load_data returns: ((x_train, y_train), (x_test, y_test)).
Splits = Tuple[Tuple[np.ndarray, np.ndarray], Tuple[np.ndarray, np.ndarray]]


def datasets_dir() -> str:
    """``$PYDL_HOME/datasets`` if the variable is set, else ``~/.pydl/datasets``."""
    home = os.environ.get("PYDL_HOME", "").strip()
    base = os.path.expanduser(home) if home else os.path.join(os.path.expanduser("~"), ".pydl")
    return os.path.abspath(os.path.join(base, "datasets"))


def _download(url: str, destination: str) -> None:
    """Fetches `url` into the file `destination` (the only network access of pydl)."""
    with urllib.request.urlopen(url, timeout=60) as response, open(destination, "wb") as out:
        while True:
            chunk = response.read(1 << 20)
            if not chunk:
                break
            out.write(chunk)


def file_hash(path: str, algorithm: str = "sha256") -> str:
    """Hex digest of the file at `path`."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _algorithm(expected: str) -> str:
    # Keras publishes SHA-256 for the data files and MD5 only for its word-index JSON files.
    return {64: "sha256", 32: "md5"}[len(expected)]


def _check(path: str, expected: str, url: str, downloaded: bool) -> None:
    algorithm = _algorithm(expected)
    got = file_hash(path, algorithm)
    if got == expected:
        return
    name = "SHA-256" if algorithm == "sha256" else "MD5"
    if downloaded:
        raise ValueError(f"{url}: the downloaded file has {name} {got}, expected {expected}; "
                         "it was not kept (a damaged or changed download)")
    raise ValueError(f"{path}: this file has {name} {got}, expected {expected} (the file "
                     f"published at {url}); delete it to download it again, or replace it with "
                     "that file")


def resolve(fname: str, subdir: Optional[str] = None) -> str:
    """Where `fname` lives: as given when absolute, else under `datasets_dir()` (and `subdir`)."""
    fname = os.fspath(fname)
    if os.path.isabs(fname):
        return fname
    base = datasets_dir() if subdir is None else os.path.join(datasets_dir(), subdir)
    return os.path.join(base, os.path.expanduser(fname))


def get_file(fname: str, url: str, expected_hash: str, subdir: Optional[str] = None) -> str:
    """The path of a verified copy of the file published at `url`.

    Args:
        fname: the file name, relative to `datasets_dir()` (and `subdir`), or an
            absolute path (Keras' `path` argument of the dataset loaders).
        url: where it is published.
        expected_hash: its SHA-256 (64 hex digits) or, where only that is
            published, its MD5 (32 hex digits).
        subdir: a folder under `datasets_dir()`.

    Returns:
        The absolute path of the verified file.

    Raises:
        OSError: offline or the server failed; the message names `url` and the
            path where the file can be placed by hand.
        ValueError: the file (downloaded or in place) does not match the hash.
    """
    target = resolve(fname, subdir)
    if os.path.isfile(target):
        _check(target, expected_hash, url, downloaded=False)
        return target
    folder = os.path.dirname(target) or "."
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".part",
                               dir=folder)
    os.close(fd)
    try:
        try:
            _download(url, tmp)
        except OSError as e:  # urllib's URLError and socket errors are OSErrors
            raise OSError(f"Could not download {url} ({e}). To work offline, download that "
                          f"file elsewhere and put it at {target}") from e
        _check(tmp, expected_hash, url, downloaded=True)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return target
