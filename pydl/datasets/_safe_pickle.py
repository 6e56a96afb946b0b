"""A restricted pickle reader for dataset files: it builds data, and runs no code from them.

Two datasets pydl reads ship as Python pickles: the CIFAR-10 batches (a dict of
lists, strings and a uint8 NumPy array) and the ragged sequences of imdb.npz /
reuters.npz (NumPy object arrays, which `.npy` stores as a pickle). A plain
``pickle.load`` runs whatever callable a file names, so a tampered download
could execute code; pydl never does that. `loads` drives Python's unpickler
(its C opcode parser, which by itself only builds containers and scalars)
with every way to reach code closed:

- every global the stream names goes through `find_class`, which imports
  nothing: the five names NumPy's own pickles use (`numpy.ndarray`,
  `numpy.dtype`, `multiarray._reconstruct`, `numeric._frombuffer`,
  `_codecs.encode`) map to small builders written here; any other name
  (`os.system`, `builtins.eval`, a class, ...) raises `UnsafePickleError`;
- the builders accept only plain numeric dtypes (bool, ints, floats) and
  object arrays, check every shape against the bytes given, and return
  placeholders whose `__setstate__` (the BUILD opcode) is equally checked --
  no real NumPy object is ever handed to the stream;
- persistent ids and out-of-band buffers are refused;
- the result is walked once more: placeholders become arrays, and anything
  but lists, tuples, dicts, str, bytes, numbers, None and arrays is refused.

So a damaged or hostile file raises an error and has no side effect. Python 2
8-bit strings come back as bytes (``encoding="bytes"``), as Keras reads them.
"""

from __future__ import annotations

import io
import pickle

import numpy as np


class UnsafePickleError(ValueError):
    """The pickle holds something other than plain data (or is damaged)."""


_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")
_NUMERIC = ("numpy.core.numeric", "numpy._core.numeric")
_PLAIN = (str, bytes, int, float, bool, type(None))


def _text(value, what: str) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    if isinstance(value, str):
        return value
    raise UnsafePickleError(f"{what}: expected a string, found {type(value).__name__}")


def _plain_dtype(typestr, order: str = "|") -> np.dtype:
    text = _text(typestr, "dtype")
    try:
        dtype = np.dtype(text)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "biufO" or dtype.fields is not None \
            or dtype.subdtype is not None:
        raise UnsafePickleError(f"unsupported dtype {text!r} in a dataset pickle")
    if dtype.kind != "O" and order in ("<", ">"):
        dtype = dtype.newbyteorder(order)
    return dtype


def _shape(value) -> tuple:
    if not isinstance(value, tuple) or not all(type(n) is int and n >= 0 for n in value):
        raise UnsafePickleError(f"expected an array shape (ints >= 0), found {value!r}")
    return value


def _array(shape: tuple, dtype: np.dtype, fortran: bool, data) -> np.ndarray:
    count = 1
    for n in shape:
        count *= n
    order = "F" if fortran else "C"
    if dtype.kind == "O":
        if not isinstance(data, list) or len(data) != count:
            raise UnsafePickleError(f"an object array of shape {shape} needs a list of {count} "
                                    "items")
        out = np.empty(count, dtype=object)
        for i, item in enumerate(data):  # one by one: NumPy would merge equal-length lists
            out[i] = item
        return out.reshape(shape, order=order)
    if isinstance(data, str):
        data = data.encode("latin-1")  # how Python 2 pickles carry raw bytes
    if not isinstance(data, (bytes, bytearray)):
        raise UnsafePickleError(f"array data must be bytes, found {type(data).__name__}")
    if len(data) != count * dtype.itemsize:
        raise UnsafePickleError(f"an array of shape {shape} and dtype {dtype} needs "
                                f"{count * dtype.itemsize} bytes, found {len(data)}")
    flat = np.frombuffer(bytes(data), dtype=dtype).astype(dtype.newbyteorder("="))
    return flat.reshape(shape, order=order)


class _Marker:
    """`numpy.ndarray` as named by a stream: only usable as _reconstruct's first argument."""

    def __reduce__(self):
        raise UnsafePickleError("not picklable")


class _Dtype:
    """`numpy.dtype(typestr, ...)`; BUILD then gives the byte order."""

    def __init__(self, typestr, align=False, copy=False):
        self.dtype = _plain_dtype(typestr)
        self._typestr = typestr

    def __setstate__(self, state):
        if not isinstance(state, tuple) or len(state) < 2:
            raise UnsafePickleError("dtype state: expected a tuple")
        self.dtype = _plain_dtype(self._typestr, _text(state[1], "byte order"))


class _Pending:
    """`_reconstruct(ndarray, ...)`; BUILD then gives shape, dtype and data."""

    def __init__(self, cls, shape, typecode):
        if not isinstance(cls, _Marker):
            raise UnsafePickleError("_reconstruct: only numpy.ndarray can be rebuilt")
        self.array = None

    def __setstate__(self, state):
        if self.array is not None or not isinstance(state, tuple) or len(state) != 5:
            raise UnsafePickleError("array state: expected (version, shape, dtype, fortran, data)")
        _, shape, dtype, fortran, data = state
        if not isinstance(dtype, _Dtype):
            raise UnsafePickleError("array state: the dtype is not a NumPy dtype")
        self.array = _array(_shape(shape), dtype.dtype, bool(fortran), data)


class _Built:
    """An array made in one call (`_frombuffer`); it takes no further state."""

    def __init__(self, array: np.ndarray):
        self.array = array

    def __setstate__(self, state):
        raise UnsafePickleError("BUILD on a finished array")


def _frombuffer(buffer, dtype, shape, order):
    if not isinstance(dtype, _Dtype) or dtype.dtype.kind == "O":
        raise UnsafePickleError("_frombuffer: expected a plain numeric dtype")
    if isinstance(buffer, pickle.PickleBuffer):
        buffer = buffer.raw().tobytes()
    return _Built(_array(_shape(shape), dtype.dtype, _text(order, "order") == "F", buffer))


def _encode(text, encoding="utf-8"):
    if not isinstance(text, str) or _text(encoding, "encoding").lower().replace("_", "-") not in (
            "latin1", "latin-1"):
        raise UnsafePickleError("_codecs.encode: expected (str, 'latin1')")
    return text.encode("latin-1")


def _reconstruct(cls, shape, typecode):
    return _Pending(cls, shape, typecode)


def _dtype(typestr, align=False, copy=False):
    return _Dtype(typestr, align, copy)


def _name(module: str, name: str):
    # Functions, never classes: NEWOBJ would make an instance without running its checks.
    if module in _MULTIARRAY and name == "_reconstruct":
        return _reconstruct
    if module in _NUMERIC and name == "_frombuffer":
        return _frombuffer
    if module == "numpy" and name == "ndarray":
        return _Marker()
    if module == "numpy" and name == "dtype":
        return _dtype
    if module == "_codecs" and name == "encode":
        return _encode
    raise UnsafePickleError(f"refusing to load {module}.{name}: dataset pickles may hold only "
                            "NumPy arrays and plain data")


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        return _name(module, name)

    def persistent_load(self, pid):
        raise UnsafePickleError("persistent ids are not plain data")


def _finish(value, depth: int = 0):
    if depth > 100:
        raise UnsafePickleError("data nested more than 100 levels deep")
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, (_Pending, _Built)):
        if value.array is None:
            raise UnsafePickleError("an array without its data")
        array = value.array
        if array.dtype.kind == "O":
            flat = array.reshape(-1, order="A")
            for i in range(flat.size):
                flat[i] = _finish(flat[i], depth + 1)
        return array
    if isinstance(value, _Dtype):
        return value.dtype
    if type(value) is list:
        return [_finish(v, depth + 1) for v in value]
    if type(value) is tuple:
        return tuple(_finish(v, depth + 1) for v in value)
    if type(value) is dict:
        return {_finish(k, depth + 1): _finish(v, depth + 1) for k, v in value.items()}
    raise UnsafePickleError(f"a {type(value).__name__} is not plain data")


def loads(data: bytes):
    """The plain-data value of the pickle `data`; `UnsafePickleError` for anything else."""
    try:
        value = _Unpickler(io.BytesIO(data), encoding="bytes").load()
    except UnsafePickleError:
        raise
    except (pickle.UnpicklingError, EOFError, TypeError, ValueError, AttributeError, KeyError,
            IndexError, RecursionError, MemoryError, OverflowError) as e:
        raise UnsafePickleError(f"not a readable data pickle ({type(e).__name__}: {e})") from None
    return _finish(value)


def load_npy(raw: bytes, name: str) -> np.ndarray:
    """One `.npy` stream: numeric arrays by NumPy's reader with pickles disabled, object
    arrays through `loads`."""
    stream = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(stream)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, _, dtype = read_header(stream)
    except ValueError as e:
        raise ValueError(f"{name}: not a .npy array ({e})") from None
    if dtype.kind != "O":
        stream.seek(0)
        try:
            return np.lib.format.read_array(stream, allow_pickle=False)
        except ValueError as e:
            raise ValueError(f"{name}: damaged .npy array ({e})") from None
    value = loads(raw[stream.tell():])
    if not isinstance(value, np.ndarray) or value.shape != tuple(shape):
        raise UnsafePickleError(f"{name}: the pickled object array does not match the shape "
                                f"{tuple(shape)} of its header")
    return value


def load_npz(path: str) -> dict:
    """Every array of the `.npz` file at `path` (object arrays through `loads`)."""
    import zipfile

    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".npy"):
                    arrays[member[:-4]] = load_npy(archive.read(member), f"{path}:{member}")
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path}: not a .npz file ({e})") from None
    except UnsafePickleError as e:
        raise UnsafePickleError(f"{path}: {e}") from None
    return arrays
