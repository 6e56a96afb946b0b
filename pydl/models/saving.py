"""Saving and loading: one zip file of JSON and ``.npy`` arrays, never pickle.

``.keras`` models and ``.h5`` weights use Keras 3's format instead (pydl/saving/keras_file.py).
A model file (``model.save(path)``, any other extension, e.g. ``.pydl``) holds

    config.json              format, the architecture (class names + layer
                             configs), compile config, optimizer config,
                             random-generator states of Dropout layers
    weights/00000.npy ...    model.weights, in order
    optimizer/00000.npy ...  optimizer.variables: iterations, then the slots

``save_weights`` writes only ``weight_00000.npy ...``: a plain ``.npz`` that
``np.load`` also reads. Every write goes to a temporary file in the target's
directory, is flushed to disk and then renamed over the target (``os.replace``),
so a failure midway leaves the previous file intact. Reading parses JSON and
``.npy`` headers with ``allow_pickle=False`` and constructs only registered
classes (or those given in ``custom_objects``).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import zipfile
import zlib

import numpy as np

from .. import _random
from ..saving import keras_file
from . import serialization

FORMAT = "pydl.model"
FORMAT_VERSION = 1
_CONFIG = "config.json"
_MAX_CONFIG_BYTES = 64 * 2**20
# What a damaged or hostile archive can make zipfile, zlib and numpy raise while
# reading; each becomes a ValueError naming the file. (A mutated header can ask
# for an unsupported compression method or zip version -- NotImplementedError --
# or declare an array too large to allocate -- MemoryError.)
_READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, OSError, ValueError,
                EOFError, RuntimeError, NotImplementedError, UnicodeDecodeError, MemoryError,
                OverflowError)


# -- writing -----------------------------------------------------------------------
def _check_target(filepath, overwrite: bool) -> str:
    if not isinstance(filepath, (str, os.PathLike)):
        raise TypeError(f"filepath: expected a str or os.PathLike, received {type(filepath).__name__}")
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise ValueError(f"filepath: {path!r} is a directory; expected a file path")
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"filepath: {path!r} exists and overwrite=False")
    return path


@contextlib.contextmanager
def _atomic_zip(path: str):
    """A ZipFile on a temporary file that replaces ``path`` only when all went well."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                yield archive
            handle.flush()
            os.fsync(handle.fileno())
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o644
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_array(archive: zipfile.ZipFile, name: str, array: np.ndarray) -> None:
    with archive.open(name, "w", force_zip64=True) as entry:
        np.lib.format.write_array(entry, np.asarray(array), allow_pickle=False)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot save {type(value).__name__} {value!r} in the JSON config")


def _is_model(layer) -> bool:
    # Models define ``layers`` as a property (a layer may hold a plain ``layers`` list).
    return isinstance(getattr(type(layer), "layers", None), property)


def _all_layers(model) -> list:
    """Every layer under ``model``, depth first, in a fixed order."""
    result = []
    for layer in model.layers:
        result.append(layer)
        if _is_model(layer):
            result.extend(_all_layers(layer))
    return result


def _generator_states(model) -> dict:
    states = {}
    for i, layer in enumerate(_all_layers(model)):
        generator = getattr(layer, "generator", None)
        if isinstance(generator, np.random.Generator):
            states[str(i)] = generator.bit_generator.state
    return states


def save_model(model, filepath, overwrite: bool = True) -> None:
    if keras_file.is_keras_model_path(filepath):
        return keras_file.save_model(model, filepath, overwrite=overwrite)
    path = _check_target(filepath, overwrite)
    model._require_built("save")
    from .. import __version__

    optimizer = model.optimizer if getattr(model, "compiled", False) else None
    weights = model.weights
    optimizer_state = list(optimizer.variables) if optimizer is not None and \
        getattr(optimizer, "built", False) else []
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "pydl_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "build_input_shape": None if model._build_input_shape is None
        else list(model._build_input_shape),
        "weights": [{"name": getattr(w, "path", None) or w.name, "shape": list(w.value.shape),
                     "dtype": w.value.dtype.name} for w in weights],
        "compile_config": None,
        "optimizer": None,
        "optimizer_variables": len(optimizer_state),
        "generator_states": _generator_states(model),
    }
    if optimizer is not None:
        manifest["optimizer"] = serialization.serialize_object(optimizer)
        compile_config = dict(model._compile_config)
        for key in ("loss", "metrics", "weighted_metrics"):
            compile_config[key] = serialization.serialize_object(compile_config[key])
        manifest["compile_config"] = compile_config
    text = json.dumps(manifest, default=_json_default, indent=1)
    with _atomic_zip(path) as archive:
        archive.writestr(_CONFIG, text)
        for i, w in enumerate(weights):
            _write_array(archive, f"weights/{i:05d}.npy", w.value)
        for i, array in enumerate(optimizer_state):
            _write_array(archive, f"optimizer/{i:05d}.npy", array)


def save_weights(model, filepath, overwrite: bool = True) -> None:
    if keras_file.is_keras_weights_path(filepath):
        return keras_file.save_weights(model, filepath, overwrite=overwrite)
    path = _check_target(filepath, overwrite)
    model._require_built("save_weights")
    with _atomic_zip(path) as archive:
        for i, w in enumerate(model.weights):
            _write_array(archive, f"weight_{i:05d}.npy", w.value)


# -- reading -----------------------------------------------------------------------
class _Reader:
    """A zip file opened for reading; every failure becomes a ValueError naming it."""

    def __init__(self, filepath):
        if not isinstance(filepath, (str, os.PathLike)):
            raise TypeError(
                f"filepath: expected a str or os.PathLike, received {type(filepath).__name__}")
        self.path = os.fspath(filepath)
        if not os.path.exists(self.path):
            raise FileNotFoundError(f"No such file: {self.path!r}")
        try:
            self.archive = zipfile.ZipFile(self.path, "r")
        except _READ_ERRORS as exc:
            raise self.error(f"not a pydl file (not a readable zip archive: {exc})") from None
        self.names = set(self.archive.namelist())

    def error(self, problem: str) -> ValueError:
        return ValueError(f"{self.path!r}: {problem}")

    def close(self) -> None:
        self.archive.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def array(self, name: str) -> np.ndarray:
        if name not in self.names:
            raise self.error(f"the entry {name!r} is missing (truncated or damaged file)")
        try:
            with self.archive.open(name) as entry:
                array = np.lib.format.read_array(entry, allow_pickle=False)
        except _READ_ERRORS as exc:
            raise self.error(f"the entry {name!r} is damaged: {exc}") from None
        if array.dtype.kind not in "biuf":
            raise self.error(f"the entry {name!r} holds dtype {array.dtype}, expected numbers")
        return array

    def json(self, name: str):
        """The JSON entry `name`, size-capped (a config, never a payload)."""
        info = self.archive.getinfo(name)
        if info.file_size > _MAX_CONFIG_BYTES:
            raise self.error(f"{name} is {info.file_size} bytes, too large to be a config")
        try:
            return json.loads(self.archive.read(name).decode("utf-8"))
        except _READ_ERRORS as exc:
            raise self.error(f"{name} is damaged: {exc}") from None

    def manifest(self) -> dict:
        if _CONFIG not in self.names:
            raise self.error(f"no {_CONFIG}: not a pydl model file")
        manifest = self.json(_CONFIG)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise self.error(f"{_CONFIG} does not describe a pydl model "
                             f"(expected format {FORMAT!r})")
        version = manifest.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise self.error(f"format_version {version!r} is not supported by this pydl "
                             f"(reads up to {FORMAT_VERSION})")
        for key in ("class_name", "config", "weights"):
            if key not in manifest:
                raise self.error(f"{_CONFIG} lacks the key {key!r}")
        if not isinstance(manifest["weights"], list):
            raise self.error(f"{_CONFIG}: 'weights' must be a list")
        return manifest


def assign_weights(variables, arrays, owner: str) -> None:
    """Copies ``arrays`` into ``variables`` in place, after checking count and shapes."""
    arrays = list(arrays)
    if len(arrays) != len(variables):
        raise ValueError(
            f"set_weights: {owner} expects {len(variables)} arrays "
            f"(shapes {[tuple(v.value.shape) for v in variables]}), received {len(arrays)}"
        )
    checked = []
    for i, (variable, array) in enumerate(zip(variables, arrays)):
        array = np.asarray(array)
        target = variable.value
        if array.shape != target.shape:
            raise ValueError(
                f"set_weights: weight {i} ({getattr(variable, 'name', '?')}) of {owner} has "
                f"shape {tuple(target.shape)}, received an array of shape {tuple(array.shape)}"
            )
        if array.dtype.kind not in "biuf":
            raise TypeError(f"set_weights: weight {i} must be numeric, received dtype {array.dtype}")
        checked.append(array)
    # Only write once every array passed the checks: no half-assigned model.
    for variable, array in zip(variables, checked):
        variable.value[...] = array


def _assign(reader: _Reader, variables, arrays, what: str) -> None:
    try:
        assign_weights(variables, arrays, what)
    except (ValueError, TypeError) as exc:
        raise reader.error(f"the weights do not fit the model: {exc}") from None


def _build_model(reader: _Reader, manifest: dict, custom_objects):
    # Building draws initial weights from pydl's generator; they are overwritten
    # at once, so loading must not consume its stream (resuming stays bitwise).
    generator = _random.generator()
    state = generator.bit_generator.state
    try:
        model = serialization.deserialize_layer(
            {"class_name": manifest["class_name"], "config": manifest["config"]}, custom_objects)
        shape = manifest.get("build_input_shape")
        if not model.built and shape is not None:
            model.build(tuple(shape))
    except ValueError as exc:
        raise reader.error(str(exc)) from None
    except (TypeError, KeyError) as exc:
        raise reader.error(f"the model config is invalid: {exc}") from None
    finally:
        generator.bit_generator.state = state
    if not model.built:
        raise reader.error("the saved model has no input shape to build it from")
    return model


def _restore_generators(reader: _Reader, model, states) -> None:
    if not isinstance(states, dict):
        raise reader.error("'generator_states' must be a dict")
    layers = _all_layers(model)
    for key, state in states.items():
        try:
            generator = layers[int(key)].generator
            generator.bit_generator.state = state
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise reader.error(f"generator state {key!r} is invalid: {exc}") from None


def _compile_from(reader: _Reader, model, manifest: dict, custom_objects) -> None:
    from .. import losses, metrics, optimizers

    config = manifest["compile_config"]
    if not isinstance(config, dict):
        raise reader.error("'compile_config' must be a dict")
    try:
        optimizer = serialization.deserialize_object("optimizer", optimizers,
                                                     manifest.get("optimizer"), custom_objects)
        model.compile(
            optimizer=optimizer if optimizer is not None else "rmsprop",
            loss=serialization.deserialize_object("loss", losses, config.get("loss"),
                                                  custom_objects),
            metrics=serialization.deserialize_object("metric", metrics, config.get("metrics"),
                                                     custom_objects),
            weighted_metrics=serialization.deserialize_object(
                "metric", metrics, config.get("weighted_metrics"), custom_objects),
            loss_weights=config.get("loss_weights"),
            steps_per_execution=config.get("steps_per_execution", 1),
        )
    except ValueError as exc:
        raise reader.error(str(exc)) from None
    except (TypeError, KeyError) as exc:
        raise reader.error(f"the compile config is invalid: {exc}") from None
    count = manifest.get("optimizer_variables", 0)
    if not isinstance(count, int) or count < 0:
        raise reader.error("'optimizer_variables' must be an int >= 0")
    if count:
        state = [reader.array(f"optimizer/{i:05d}.npy") for i in range(count)]
        try:
            model.optimizer.set_variables(state, var_list=model.trainable_weights)
        except (ValueError, TypeError) as exc:
            raise reader.error(f"the optimizer state does not fit the model: {exc}") from None


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model saved by ``model.save(filepath)``: architecture, weights and, when it
    was compiled, optimizer, loss, metrics and optimizer state (training resumes
    exactly where it stopped).

    Args:
        filepath: path of the file.
        custom_objects: ``{class name: class}`` for custom layers, losses, metrics.
        compile: whether to compile the model as it was saved.
        safe_mode: accepted for Keras compatibility; loading never runs code
            from the file whatever its value.

    Raises:
        ValueError: the file is damaged, foreign, or names an unknown class.
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects: expected a dict, received {type(custom_objects).__name__}")
    if keras_file.is_keras_model_path(filepath):
        model = keras_file.load_model(filepath, custom_objects=custom_objects, compile=compile)
        if model is not None:
            return model  # else: a pydl-format file named .keras, read below
    with _Reader(filepath) as reader:
        manifest = reader.manifest()
        model = _build_model(reader, manifest, custom_objects)
        arrays = [reader.array(f"weights/{i:05d}.npy") for i in range(len(manifest["weights"]))]
        _assign(reader, model.weights, arrays, f"model {model.name!r}")
        _restore_generators(reader, model, manifest.get("generator_states") or {})
        if compile and manifest.get("compile_config") is not None:
            _compile_from(reader, model, manifest, custom_objects)
    return model


def load_weights(model, filepath) -> None:
    """Weights from ``save_weights``' ``.npz`` or from a whole model file."""
    if keras_file.is_keras_weights_path(filepath) or keras_file.is_keras_model_path(filepath):
        if keras_file.load_weights(model, filepath):
            return
    with _Reader(filepath) as reader:
        if _CONFIG in reader.names:
            count = len(reader.manifest()["weights"])
            names = [f"weights/{i:05d}.npy" for i in range(count)]
        else:
            count = sum(1 for n in reader.names if n.startswith("weight_") and n.endswith(".npy"))
            if count == 0:
                raise reader.error("no weight_*.npy entries: not a pydl weights file")
            names = [f"weight_{i:05d}.npy" for i in range(count)]
        if not model.built:
            raise reader.error(
                f"the model {model.name!r} is not built yet; build it (or call it on data) "
                f"before load_weights so that its weights exist")
        arrays = [reader.array(name) for name in names]
        _assign(reader, model.weights, arrays, f"model {model.name!r}")
