"""Collectives over every process: sum / mean, broadcast, a model's weights.

Every process must make the same calls in the same order (they are MPI collectives);
in a world of one they return copies at once and import no MPI.
"""

from __future__ import annotations

import numpy as np

from . import world
from .errors import everywhere

_OPS = ("sum", "mean")


def _checked_root(root) -> int:
    size = world.size()
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)) or not 0 <= root < size:
        raise ValueError(f"root: expected a rank in [0, {size}), received root={root!r}")
    return int(root)


def allreduce(array, op="sum") -> np.ndarray:
    """The elementwise sum (or mean) of `array` over every process, on every process.

    ```python
    out = array_0 + array_1 + ... + array_{P-1}      # op="sum"
    out = (array_0 + ... + array_{P-1}) / P          # op="mean"
    ```

    Args:
        array: a number or an array of numbers, of the same shape and dtype on every
            process (left unchanged).
        op: "sum" or "mean".

    Returns:
        A new array of `array`'s shape: its dtype (booleans sum as int64; the mean
        of integers is float64).
    """
    if op not in _OPS:
        raise ValueError(f"op: expected 'sum' or 'mean', received op={op!r}")
    value = np.array(array, copy=True, order="C")
    if value.dtype.kind not in "biuf":
        raise TypeError(f"array: expected numbers, received dtype {value.dtype}")
    dtype = value.dtype
    if dtype.kind == "b" or (op == "mean" and dtype.kind in "iu"):
        dtype = np.dtype(np.int64 if op == "sum" else np.float64)
    wire = np.float32 if dtype == np.float16 else dtype  # MPI has no half precision
    value = value.astype(wire, copy=False)
    comm = world.comm()
    if comm is not None:
        allreduce_in_place(comm, value)
        if op == "mean":
            value /= world.size()
    return value.astype(dtype, copy=False)


def allreduce_in_place(comm, buffer: np.ndarray) -> None:
    """buffer = the sum of every process's buffer (one MPI Allreduce, in place)."""
    from mpi4py import MPI

    comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)


def broadcast(array, root=0) -> np.ndarray:
    """Process `root`'s `array`, on every process.

    Args:
        array: the array to send on `root`; on the other processes it is not read
            (pass the same shaped array, or None).
        root: the rank that sends.

    Returns:
        A new array equal to the root's (its shape and dtype).
    """
    root = _checked_root(root)
    comm = world.comm()
    if comm is None:
        return np.array(array, copy=True, order="C")
    if comm.Get_rank() == root:
        value = np.array(array, copy=True, order="C")
        if value.dtype.kind not in "biufc":
            raise TypeError(f"array: expected numbers, received dtype {value.dtype}")
        spec = comm.bcast((value.shape, value.dtype.str), root=root)
    else:
        spec = comm.bcast(None, root=root)
        value = np.empty(spec[0], np.dtype(spec[1]))
    comm.Bcast(value, root=root)
    return value


def checksum(array: np.ndarray) -> int:
    """The bits of `array` summed as unsigned words (mod 2**64): equal arrays give equal
    sums, and any one changed value changes it."""
    data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    if data.size % 8 == 0:
        return int(data.view(np.uint64).sum(dtype=np.uint64))
    if data.size % 4 == 0:
        return int(data.view(np.uint32).sum(dtype=np.uint64))
    return int(data.sum(dtype=np.uint64))


def differing(comm, arrays: list) -> list[int]:
    """Indices of `arrays` that are not bitwise equal on every process (one allgather
    of their checksums)."""
    sums = [checksum(a) for a in arrays]
    every = comm.allgather(sums)
    return [i for i in range(len(arrays)) if any(s[i] != every[0][i] for s in every)]


def broadcast_in_place(comm, arrays: list, root: int = 0, only_differing: bool = True) -> int:
    """Root's values into `arrays` (same shapes and dtypes everywhere), in place, so that
    any pointer the core holds stays valid; with `only_differing`, the arrays that are
    already equal everywhere are not sent. Returns how many were sent."""
    indices = differing(comm, arrays) if only_differing else range(len(arrays))
    for i in indices:
        comm.Bcast(arrays[i], root=root)
    return len(indices)


def _weight_arrays(model) -> list:
    return [w.value for w in model.weights]


def _optimizer_arrays(model):
    """(the optimizer, its slot arrays) when the model's optimizer is built, else (opt, None)."""
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    if optimizer is None or not getattr(optimizer, "built", False):
        return optimizer, None
    return optimizer, [s for kind in optimizer._slots for s in kind]


def _specs(arrays) -> list:
    return None if arrays is None else [(a.shape, a.dtype.str) for a in arrays]


def broadcast_weights(model, root=0) -> None:
    """Copies process `root`'s weights -- and its optimizer state, when the optimizer is
    built -- into the model of every process, in place.

    Every process must hold the same architecture (the same weight shapes, in order)
    and, when one has a built optimizer, all of them must.

    Args:
        model: a built ``pydl.Model``.
        root: the rank whose values everyone takes.
    """
    root = _checked_root(root)
    comm = world.comm()
    if comm is None:
        return
    weights = _weight_arrays(model)
    optimizer, slots = _optimizer_arrays(model)
    every = comm.allgather((_specs(weights), _specs(slots)))
    for r, (w_specs, s_specs) in enumerate(every):
        if w_specs != every[root][0]:
            raise everywhere(ValueError(
                f"broadcast_weights: the model's weights differ in shape or dtype between rank "
                f"{root} ({len(every[root][0])} weights) and rank {r} ({len(w_specs)} weights); "
                "every process must build the same model"))
        if s_specs != every[root][1]:
            raise everywhere(ValueError(
                f"broadcast_weights: the optimizer is {'built' if every[root][1] else 'not built'}"
                f" on rank {root} but {'built' if s_specs else 'not built'} (or built on other "
                f"variables) on rank {r}; every process must compile and train the same way"))
    broadcast_in_place(comm, weights, root)
    if slots is not None:
        broadcast_in_place(comm, slots, root)
        optimizer.iterations = comm.bcast(optimizer.iterations, root=root)
