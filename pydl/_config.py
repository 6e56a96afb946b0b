"""Every knob of pydl in one place: environment variables, build facts, threads.

Environment variables (read once, at import):

- ``PYDL_ISA=generic|avx2|avx512|avx512_bf16`` caps the SIMD path; it never raises
  it above what the CPU supports. ``avx512_bf16`` is AVX-512 with AVX512_BF16 (the
  bfloat16 kernels of ``mixed_bfloat16``); any lower cap turns those off.
- ``PYDL_NUM_THREADS`` (else ``OMP_NUM_THREADS``) sets the default thread count
  of the C++ core; otherwise it is the number of CPUs this process may use (its
  affinity mask, lowered by a cgroup CPU quota: pydl/_cpus.py), divided among the
  processes an MPI launcher (mpiexec, srun) started on this node
  (pydl/distribution/launcher.py).
- ``PYDL_SPIN_US`` sets how long an idle pool thread spins before it sleeps
  (microseconds, default 50; 0 sleeps at once).

Run-time settings (``pydl.backend``): ``floatx()`` / ``set_floatx`` (the default
float dtype of layers, variables, initializers and new arrays), ``epsilon()``
(the fuzz factor of the losses, fixed in the core) and ``image_data_format()``.
"""

from __future__ import annotations

import os
import warnings

from . import _core, _cpus

_ISA_NAMES = ("generic", "avx2", "avx512", "avx512_bf16")


def _isa_cap_from_env() -> str:
    cap = os.environ.get("PYDL_ISA", "").strip().lower()
    if not cap:
        return _ISA_NAMES[-1]
    if cap not in _ISA_NAMES:
        warnings.warn(
            f"PYDL_ISA: expected one of {', '.join(_ISA_NAMES)}, received {cap!r}; ignoring it",
            RuntimeWarning,
            stacklevel=3,
        )
        return _ISA_NAMES[-1]
    return cap


def _threads_from_env() -> tuple[int, str] | None:
    """(threads, the variable that set them), or None."""
    for var in ("PYDL_NUM_THREADS", "OMP_NUM_THREADS"):
        raw = os.environ.get(var, "").strip()
        if not raw:
            continue
        # OMP_NUM_THREADS may be a list ("4,2"); the first level is ours.
        first = raw.split(",")[0]
        try:
            n = int(first)
        except ValueError:
            n = 0
        if n >= 1:
            return n, var
        warnings.warn(f"{var}: expected an int >= 1, received {raw!r}; ignoring it",
                      RuntimeWarning, stacklevel=4)
    return None


def _spin_us_from_env() -> int | None:
    raw = os.environ.get("PYDL_SPIN_US", "").strip()
    if not raw:
        return None
    try:
        us = int(raw)
    except ValueError:
        us = -1
    if 0 <= us <= 1_000_000:
        return us
    warnings.warn(f"PYDL_SPIN_US: expected an int between 0 and 1000000, received {raw!r}; "
                  "ignoring it", RuntimeWarning, stacklevel=3)
    return None


# Whether the thread count was chosen (environment or set_num_threads): then
# pydl.distribution leaves it alone instead of dividing the cores among processes.
_THREADS_CHOSEN = {"value": False}
# Where the thread count and the usable CPUs come from (show_config).
_STATE = {"threads_source": "usable CPUs", "usable_cpus": None, "usable_cpus_source": ""}


def default_threads() -> tuple[int, str]:
    """(threads, source) at import: PYDL_NUM_THREADS, else OMP_NUM_THREADS, else an
    MPI launcher's share of this node, else the CPUs this process may use
    (pydl/_cpus.py). Also refreshes show_config's usable_cpus."""
    from .distribution import launcher

    usable, where = _cpus.usable_cpus()
    _STATE["usable_cpus"], _STATE["usable_cpus_source"] = usable, where
    from_env = _threads_from_env()
    if from_env is not None:
        return from_env
    from_launcher = launcher.threads_from_launcher()
    if from_launcher is not None:
        return from_launcher, "MPI launcher (usable CPUs / processes on this node)"
    return usable, "usable CPUs"


def set_default_threads(n: int, source: str) -> None:
    """Sets the threads when nothing chose them (pydl.distribution's share of the node)."""
    _core.set_num_threads(min(max(1, n), 4096))
    _STATE["threads_source"] = source


def _init() -> None:
    _core.select_isa(_isa_cap_from_env())
    n, source = default_threads()
    _THREADS_CHOSEN["value"] = source in ("PYDL_NUM_THREADS", "OMP_NUM_THREADS")
    set_default_threads(n, source)
    spin = _spin_us_from_env()
    if spin is not None:
        _core.set_spin_us(spin)


def threads_chosen() -> bool:
    """Whether PYDL_NUM_THREADS / OMP_NUM_THREADS or set_num_threads set the threads."""
    return _THREADS_CHOSEN["value"]


_FLOATX = {"value": "float32"}
_FLOATX_CHOICES = ("float32", "float64")
EPSILON = 1e-7  # the core's probability clip (csrc/nn/loss_rows.h kEpsilon): not settable


def floatx() -> str:
    """The default float dtype: "float32" unless `set_floatx` changed it."""
    return _FLOATX["value"]


def set_floatx(value: str) -> None:
    """Sets the default float dtype of new layers, variables, initializers and arrays.

    Args:
        value: "float32" (the fast path) or "float64" (slower; for checks in
            double precision). pydl computes in no other float type.
    """
    import numpy as np

    try:
        name = None if value is None else np.dtype(value).name
    except TypeError:
        name = None
    if name not in _FLOATX_CHOICES:
        raise ValueError(f"set_floatx: value must be one of {', '.join(_FLOATX_CHOICES)}, "
                         f"received value={value!r}")
    _FLOATX["value"] = name


def set_num_threads(n: int) -> None:
    """Sets the number of threads the C++ core uses (an int >= 1)."""
    if isinstance(n, bool) or not isinstance(n, int):
        try:
            import numpy as np

            if isinstance(n, np.integer):
                n = int(n)
        except ImportError:  # pragma: no cover
            pass
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n: expected an int >= 1, received {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n: expected an int >= 1, received {n}")
    _core.set_num_threads(n)
    _THREADS_CHOSEN["value"] = True
    _STATE["threads_source"] = "set_num_threads"


def get_num_threads() -> int:
    """Returns the number of threads the C++ core uses."""
    return _core.get_num_threads()


def _float_path(isa: str) -> str:
    # avx512_bf16 is avx512's float kernels plus the bfloat16 ones.
    return "avx512" if isa == "avx512_bf16" else isa


def show_config(print_it: bool = True) -> dict:
    """Prints and returns how this pydl was built and what it runs.

    Returns:
        A dict with keys ``version``, ``compiler``, ``simd`` (the float kernels'
        path chosen at run time: generic, avx2 or avx512), ``simd_detected`` (the
        best such path the CPU supports), ``bf16`` (True when ``mixed_bfloat16``
        runs bfloat16 kernels: the CPU has AVX512_BF16 and ``PYDL_ISA`` allows
        ``avx512_bf16``; else it runs the float32 ones), ``bf16_detected``
        (whether the CPU has AVX512_BF16, whatever the cap),
        ``simd_compiled``, ``openmp`` (False: the core's threads are its own pool),
        ``threading`` ("pool" or "serial"), ``threads`` (what the core uses),
        ``threads_source`` (``PYDL_NUM_THREADS``, ``OMP_NUM_THREADS``, ``usable
        CPUs``, the MPI launcher's or world's share, or ``set_num_threads``),
        ``usable_cpus`` (the affinity mask lowered by a cgroup CPU quota),
        ``usable_cpus_source``, ``max_threads`` (online CPUs), ``spin_us`` (how
        long idle threads spin before sleeping), ``cores`` (the cores this process
        may use), ``processes`` (of the MPI world, or that the launcher started),
        ``processes_on_node`` (which share these cores: the default ``threads`` is
        ``cores // processes_on_node``) and ``mpi`` (the MPI library once
        ``pydl.distribution`` joined a world of several processes, else None).
    """
    from . import __version__
    from .distribution import world

    info = dict(_core.build_info())
    config = {
        "version": __version__,
        "compiler": info["compiler"],
        "simd": _float_path(_core.active_isa()),
        "simd_detected": _float_path(_core.detected_isa()),
        "bf16": bool(_core.bf16_kernels()),
        "bf16_detected": _core.detected_isa() == "avx512_bf16",
        "simd_compiled": list(info["simd_compiled"]),
        "openmp": bool(info["openmp"]),
        "threading": str(info["threading"]),
        "threads": _core.get_num_threads(),
        "threads_source": _STATE["threads_source"] if info["threading"] != "serial"
        else "serial build",
        "usable_cpus": _STATE["usable_cpus"],
        "usable_cpus_source": _STATE["usable_cpus_source"],
        "max_threads": int(info["max_threads"]),
        "spin_us": _core.get_spin_us(),
    }
    config.update(world.describe())
    if print_it:
        width = max(len(k) for k in config)
        for key, value in config.items():
            print(f"{key:<{width}}  {value}")
    return config
