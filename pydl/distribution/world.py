"""The processes pydl trains on: an MPI world joined through mpi4py, or a world of one.

``initialize()`` joins MPI only when a launcher (mpiexec, srun) started several
processes; otherwise -- ``python train.py`` -- the world is this one process and MPI
is never imported. Joining:

- duplicates ``MPI.COMM_WORLD`` (pydl's collectives never mix with the user's);
- sets the threads per process, unless PYDL_NUM_THREADS / OMP_NUM_THREADS or
  ``set_num_threads`` chose them: the cores the processes of this node share,
  divided among them (each process's own cores when a launcher bound them to
  disjoint sets), with a warning when processes x threads exceed the cores;
- installs an exception hook: an exception that ends one process's script prints
  its traceback naming the rank, then aborts every process (``MPI_Abort``), instead
  of leaving the others waiting forever in a collective.
"""

from __future__ import annotations

import math
import os
import sys
import time
import warnings

from .. import _config, _core, _cpus
from . import launcher

_MPI_EXTRA = "pip install 'pydl[mpi]' (mpi4py and the mpich MPI library)"

_world = {"joined": False, "comm": None, "rank": 0, "size": 1, "local_size": 1,
          "cores": None, "library": None}


def _import_mpi(reason: str):
    """mpi4py's MPI module, initialized for calls from the main thread only."""
    try:
        import mpi4py
    except ImportError:
        raise ImportError(f"pydl.distribution: {reason}, and joining them needs mpi4py and an "
                          f"MPI library: {_MPI_EXTRA}") from None
    if "mpi4py.MPI" not in sys.modules:
        mpi4py.rc.thread_level = "funneled"  # pydl calls MPI from the Python thread only
    try:
        from mpi4py import MPI
    except ImportError as exc:  # mpi4py without a loadable MPI library
        raise ImportError(f"pydl.distribution: {reason}, but mpi4py cannot load an MPI "
                          f"library ({exc}); {_MPI_EXTRA}") from None
    return MPI


def _mpi_if_already_started():
    """The MPI module when the user's code already initialized MPI, else None."""
    module = sys.modules.get("mpi4py.MPI")
    if module is not None and module.Is_initialized() and not module.Is_finalized():
        return module
    return None


def initialize(job_addresses=None, num_processes=None, process_id=None) -> None:
    """Joins the MPI world when a launcher started several processes; else a world of one.

    Keras 3's name and arguments: the processes find each other through the launcher
    (``mpiexec -n 4 -hosts a,b python train.py``, or Slurm's ``srun``), so
    ``job_addresses`` must be None; ``num_processes`` and ``process_id``, when given,
    are checked against the world MPI reports. Calling it again does nothing; the
    other functions of ``pydl.distribution`` call it when needed.

    Args:
        job_addresses: None (MPI's launcher connects the processes).
        num_processes: the expected number of processes, or None.
        process_id: the expected rank of this process, or None.

    Raises:
        ImportError: started by an MPI launcher with several processes, but mpi4py
            (the ``pydl[mpi]`` extra) is missing.
    """
    if job_addresses is not None:
        raise ValueError(
            "initialize: job_addresses is not used by pydl; MPI's launcher connects the "
            "processes (mpiexec -n N -hosts host1,host2 python train.py, or srun). Received: "
            f"job_addresses={job_addresses!r}")
    _join()
    for name, value, actual in (("num_processes", num_processes, _world["size"]),
                                ("process_id", process_id, _world["rank"])):
        if value is not None and value != actual:
            raise ValueError(
                f"initialize: {name}={value!r}, but the launcher started {_world['size']} "
                f"processes and this one has rank {_world['rank']}; leave {name}=None or "
                "launch with matching arguments (mpiexec -n N)")


def _join() -> dict:
    if _world["joined"]:
        return _world
    size, variable = launcher.world_size_from_env()
    MPI = _mpi_if_already_started()
    if MPI is None and size > 1:
        MPI = _import_mpi(f"this process was started by an MPI launcher with {size} "
                          f"processes ({variable}={os.environ.get(variable)})")
    if MPI is not None and size > 1 and MPI.COMM_WORLD.Get_size() == 1:
        warnings.warn(
            f"pydl.distribution: the launcher started {size} processes ({variable}), but MPI "
            "sees a world of 1: each process trains alone. Under Slurm, let srun start MPI "
            "(srun --mpi=pmi2 or --mpi=pmix); with mpiexec, use the one of the MPI library "
            "mpi4py loads", RuntimeWarning, stacklevel=3)
    if MPI is not None and MPI.COMM_WORLD.Get_size() > 1:
        comm = MPI.COMM_WORLD.Dup()
        _world.update(comm=comm, rank=comm.Get_rank(), size=comm.Get_size(),
                      library=MPI.Get_library_version().splitlines()[0].strip())
        _share_cores(MPI, comm)
        _install_excepthook()
    _world["joined"] = True
    return _world


def _share_cores(MPI, comm) -> None:
    """Threads per process from the cores the processes on this node share (see the
    module docstring); warns when they would oversubscribe them."""
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        mine = frozenset(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            frozenset(range(os.cpu_count() or 1))
        sets = local.allgather(mine)
    finally:
        local.Free()
    union = frozenset().union(*sets)
    disjoint = sum(len(s) for s in sets) == len(union)
    local_size = len(sets)
    cores = len(mine) if disjoint else len(union)
    quota = _cpus.cgroup_cpu_limit()[0]  # a container's CPU quota binds its processes too
    if quota is not None:
        cores = max(1, min(cores, math.ceil(quota)))
    sharing = 1 if disjoint else local_size
    _world.update(local_size=local_size, cores=cores)
    if not _config.threads_chosen():
        _config.set_default_threads(launcher.default_threads(sharing, cores),
                                    f"MPI world ({cores} cores shared by {sharing} processes)")
    threads = _core.get_num_threads()
    if threads * sharing > cores:
        fix = (f"set PYDL_NUM_THREADS={cores // sharing}" if cores >= sharing else
               f"start at most {cores} processes per node")
        warnings.warn(
            f"pydl.distribution: {sharing} processes on this node x {threads} threads each = "
            f"{threads * sharing} threads on {cores} cores: they will slow each other down; "
            f"{fix}", RuntimeWarning, stacklevel=4)


def _install_excepthook() -> None:
    previous = sys.excepthook

    def abort_all(kind, value, traceback):
        previous(kind, value, traceback)
        abort(f"{kind.__name__} ended the script of this process")

    sys.excepthook = abort_all


def abort(reason: str) -> None:
    """Names this rank and `reason` on stderr, then ends every process (MPI_Abort)."""
    comm = _world["comm"]
    message = (f"pydl.distribution: rank {_world['rank']} of {_world['size']} failed: {reason}; "
               "aborting every process (MPI_Abort)\n")
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    sys.stderr.write(message)
    sys.stderr.flush()
    if comm is None:
        raise SystemExit(1)
    comm.Abort(1)


def comm():
    """The communicator of pydl's collectives (None in a world of one)."""
    return _join()["comm"]


def rank() -> int:
    """This process's rank: 0 .. size() - 1 (0 in a world of one)."""
    return _join()["rank"]


def size() -> int:
    """The number of processes (1 when no MPI launcher started several)."""
    return _join()["size"]


def is_chief() -> bool:
    """Whether this is rank 0, the process that writes progress, logs and checkpoints."""
    return _join()["rank"] == 0


def barrier() -> None:
    """Waits until every process has called barrier() (nothing in a world of one)."""
    c = comm()
    if c is not None:
        c.Barrier()


def patient_barrier(what: str, warn_after: float = 60.0) -> None:
    """barrier(), saying on stderr what this process waits for when the others take
    longer than `warn_after` seconds (a rank that never comes would otherwise be
    silent: a ``model.save`` only rank 0 calls, for instance)."""
    c = comm()
    if c is None:
        return
    request = c.Ibarrier()
    start = time.perf_counter()
    pause, warned = 0.0, False
    while not request.Test():
        if pause:
            time.sleep(pause)
        pause = min(0.01, pause * 2 or 1e-5)
        if not warned and time.perf_counter() - start > warn_after:
            warned = True
            sys.stderr.write(
                f"pydl.distribution: rank {_world['rank']} has waited {warn_after:.0f} s for the "
                f"other processes at {what}; under a DataParallel distribution every process "
                "must make this call (only rank 0 writes)\n")
            sys.stderr.flush()


def describe() -> dict:
    """show_config's view of the processes: the world when joined, else the launcher's."""
    if _world["joined"] and _world["comm"] is not None:
        return {"cores": _world["cores"], "processes": _world["size"],
                "processes_on_node": _world["local_size"], "mpi": _world["library"]}
    return {"cores": launcher.usable_cores(), "processes": launcher.world_size_from_env()[0],
            "processes_on_node": launcher.local_size_from_env(), "mpi": None}
