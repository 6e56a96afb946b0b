"""Keras 3 files: ``.keras`` models and ``.h5`` / ``.weights.h5`` weights.

A ``.keras`` file is a zip of three members, as Keras 3 writes it:

    metadata.json       {"keras_version": ..., "date_saved": ...}
    config.json         the architecture and compile config (keras_config.py)
    model.weights.h5    the weights and optimizer state (keras_weights.py)

Writing needs h5py (``pip install 'pydl[h5]'``). Reading does not: the weights are parsed
by pydl's own HDF5 reader (hdf5.py), because h5py crashes on damaged files. A file to be
read can neither run code (JSON and arrays only; classes are looked up among pydl's
built-ins and ``custom_objects``) nor make pydl allocate much beyond its own size:
members and the weights its architecture declares are capped by the file's size before
anything is allocated. Every problem raises ``ValueError`` naming the file.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import tempfile
import zipfile

from .. import _random
from ..layers import weight_budget
from . import keras_config, keras_objects, keras_weights

CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
# The Keras release whose layout these files follow (and whose loader the tests run).
KERAS_VERSION = "3.15.1"
_MAX_CONFIG_BYTES = 16 * 2**20
_MEMBER_EXPANSION = 32       # a member may declare at most this many times the file's size
_WEIGHTS_EXPANSION = 4       # the architecture's weights: at most this times the file's size
_WEIGHTS_SLACK = 64 * 1024


def is_keras_model_path(filepath) -> bool:
    return isinstance(filepath, (str, os.PathLike)) and os.fspath(filepath).endswith(".keras")


def is_keras_weights_path(filepath) -> bool:
    return isinstance(filepath, (str, os.PathLike)) and os.fspath(filepath).endswith(".h5")


def _error(path: str, problem: str) -> ValueError:
    return ValueError(f"{path!r}: {problem}")


# -- writing ---------------------------------------------------------------------------
def save_model(model, filepath, overwrite: bool = True) -> None:
    """Writes ``model`` as a Keras 3 ``.keras`` file, atomically."""
    from ..models import saving

    path = saving._check_target(filepath, overwrite)
    model._require_built("save")
    keras_weights.require_h5py()
    config = json.dumps(keras_config.model_to_keras(model), default=saving._json_default)
    weights = io.BytesIO()
    keras_weights.write_h5(model, weights)
    from .. import __version__

    metadata = json.dumps({
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "saved_by": f"pydl {__version__}",
    })
    with saving._atomic_zip(path) as archive:
        archive.writestr(METADATA, metadata)
        archive.writestr(CONFIG, config)
        archive.writestr(WEIGHTS, weights.getvalue())


def save_weights(model, filepath, overwrite: bool = True) -> None:
    """Writes the weights (and optimizer state) in Keras 3's ``.weights.h5`` layout, atomically."""
    from ..models import saving

    path = saving._check_target(filepath, overwrite)
    model._require_built("save_weights")
    keras_weights.require_h5py()
    buffer = io.BytesIO()
    keras_weights.write_h5(model, buffer)
    _atomic_write(path, buffer.getvalue())


def _atomic_write(path: str, data: bytes) -> None:
    """Writes ``data`` to a temporary file beside ``path``, flushed, then renamed over it."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# -- reading ---------------------------------------------------------------------------
class _Archive:
    """A ``.keras`` zip opened for reading, with size-checked member reads."""

    def __init__(self, path: str):
        from ..models.saving import _READ_ERRORS

        self.path = path
        self.errors = _READ_ERRORS
        self.size = os.path.getsize(path)
        try:
            self.zip = zipfile.ZipFile(path, "r")
            self.names = set(self.zip.namelist())
        except _READ_ERRORS as exc:
            raise _error(path, f"not a .keras file (not a readable zip archive: {exc})") from None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zip.close()

    def read(self, name: str, limit: int | None = None) -> bytes:
        if name not in self.names:
            if name == WEIGHTS and "model.weights.npz" in self.names:
                raise _error(self.path, "its weights are in the npz format (Keras' "
                                        "weights_format='npz'); pydl reads model.weights.h5")
            raise _error(self.path, f"the member {name!r} is missing: not a Keras 3 .keras file")
        declared = self.zip.getinfo(name).file_size
        cap = _MEMBER_EXPANSION * self.size if limit is None else min(limit, _MEMBER_EXPANSION * self.size)
        if declared > cap:
            raise _error(self.path, f"the member {name!r} declares {declared} bytes, more than "
                                    f"this {self.size}-byte file can hold")
        try:
            return self.zip.read(name)
        except self.errors as exc:
            raise _error(self.path, f"the member {name!r} is damaged: {exc}") from None

    def config(self) -> dict:
        text = self.read(CONFIG, limit=_MAX_CONFIG_BYTES)
        try:
            config = json.loads(text.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise _error(self.path, f"{CONFIG} is damaged: {exc}"[:500]) from None
        if not isinstance(config, dict):
            raise _error(self.path, f"{CONFIG} is not a JSON object")
        return config


def _is_pydl_format(config: dict) -> bool:
    from ..models.saving import FORMAT

    return config.get("format") == FORMAT


def _build(path: str, size: int, config: dict, custom_objects):
    # Building draws initial weights from pydl's generator; they are overwritten at
    # once, so loading must not consume its stream (as pydl's own loader).
    generator = _random.generator()
    state = generator.bit_generator.state
    try:
        with weight_budget.limit(_WEIGHTS_EXPANSION * size + _WEIGHTS_SLACK, path):
            model = keras_config.model_from_keras(config, custom_objects)
    except ValueError as exc:
        message = str(exc)
        raise (ValueError(message) if message.startswith(repr(path)) else
               _error(path, message)) from None
    except (TypeError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        raise _error(path, f"the model config is invalid: {type(exc).__name__}: {exc}"[:500]) \
            from None
    finally:
        generator.bit_generator.state = state
    if not model.built:
        raise _error(path, "the saved model has no input shape to build it from")
    return model


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model in a Keras 3 ``.keras`` file; None for a pydl-format file named ``.keras``
    (the caller reads it with pydl's own loader)."""
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    with _Archive(path) as archive:
        config = archive.config()
        if _is_pydl_format(config):
            return None
        weights = archive.read(WEIGHTS)
        model = _build(path, archive.size, config, custom_objects)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        try:
            keras_objects.compile_from_keras(model, compile_config, custom_objects)
        except ValueError as exc:
            raise _error(path, str(exc)) from None
        except (TypeError, KeyError, AttributeError) as exc:
            raise _error(path, f"the compile config is invalid: {exc}"[:500]) from None
    keras_weights.read_h5(model, weights, repr(path), load_optimizer=bool(compile))
    return model


def load_weights(model, filepath) -> bool:
    """Loads Keras-layout weights from a ``.h5`` file or a Keras ``.keras`` file into
    ``model``; returns False for a pydl-format ``.keras`` file (the caller reads it)."""
    path = os.fspath(filepath)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    if not model.built:
        raise _error(path, f"the model {model.name!r} is not built yet; build it (or call it on "
                           f"data) before load_weights so that its weights exist")
    if is_keras_model_path(path):
        with _Archive(path) as archive:
            if _is_pydl_format(archive.config()):
                return False
            data = archive.read(WEIGHTS)
    else:
        with open(path, "rb") as handle:
            data = handle.read()
    keras_weights.read_h5(model, data, repr(path), load_optimizer=True)
    return True
