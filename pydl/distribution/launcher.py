"""What a process knows about its MPI launch before MPI starts: world size, processes on
this node, usable cores, and so the default threads per process.

mpiexec (MPICH's Hydra, Intel MPI), Open MPI's mpirun, MVAPICH and Slurm's srun each
tell every process they start how many there are, in environment variables. Reading
them lets ``import pydl`` pick a thread count that does not oversubscribe the node,
and lets ``pydl.distribution.initialize()`` decide whether to join an MPI world
without importing MPI at all (a plain ``python train.py`` never loads it).

The default threads per process are the usable cores divided by the processes on
this node (at least 1). ``initialize()`` refines the guess made at import with MPI
itself: processes that a launcher bound to disjoint cores (``mpiexec -bind-to core``,
``srun --cpus-per-task``) each use all of their own cores.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import sysconfig

# Per launcher: (world size, processes on this node) variables.
_WORLD_SIZE_VARS = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE",
                    "SLURM_STEP_NUM_TASKS")
_LOCAL_SIZE_VARS = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE",
                    "MV2_COMM_WORLD_LOCAL_SIZE")


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    try:
        value = int(raw)
    except ValueError:
        return None
    return value if value >= 1 else None


def world_size_from_env() -> tuple[int, str | None]:
    """(processes the launcher started, the variable that says so); (1, None) when no
    launcher (or a launcher of one process) started this one."""
    for name in _WORLD_SIZE_VARS:
        value = _env_int(name)
        if value is not None and value > 1:
            return value, name
    return 1, None


def _slurm_tasks_on_node() -> int | None:
    """This node's share of srun's tasks: SLURM_STEP_TASKS_PER_NODE ("2(x3),1") read at
    SLURM_NODEID's position when that is known, else the largest count."""
    raw = os.environ.get("SLURM_STEP_TASKS_PER_NODE", "").strip()
    if not raw:
        return None
    counts = []
    for part in raw.split(","):
        match = re.fullmatch(r"(\d+)(?:\(x(\d+)\))?", part.strip())
        if match is None:
            return None
        counts.extend([int(match.group(1))] * int(match.group(2) or 1))
    node = _env_int("SLURM_NODEID")
    if node is not None and node < len(counts):
        return counts[node]
    return max(counts) if counts else None


def local_size_from_env() -> int:
    """Processes the launcher started on this node (1 when it does not say)."""
    for name in _LOCAL_SIZE_VARS:
        value = _env_int(name)
        if value is not None:
            return value
    return _slurm_tasks_on_node() or 1


def usable_cores() -> int:
    """Cores this process may use: its CPU affinity lowered by a cgroup CPU quota
    (pydl/_cpus.py), else the machine's count."""
    from .. import _cpus

    return _cpus.usable_cpus()[0]


def default_threads(local_size: int, cores: int | None = None) -> int:
    """Threads per process when nothing sets them: usable cores // processes on the node."""
    cores = usable_cores() if cores is None else cores
    return max(1, cores // max(1, local_size))


def threads_from_launcher() -> int | None:
    """The thread count import should start with under a launcher, or None (one process
    on this node: all its cores, the core's own default). ``srun --cpus-per-task=N``
    binds each task to N CPUs and says so in SLURM_CPUS_PER_TASK."""
    per_task = _env_int("SLURM_CPUS_PER_TASK") if _env_int("SLURM_STEP_NUM_TASKS") else None
    if per_task is not None:
        return per_task
    local = local_size_from_env()
    return default_threads(local) if local > 1 else None


def mpiexec_command(processes: int) -> list[str]:
    """``[mpiexec, -n, processes]``: the launcher installed beside this Python (the
    ``mpich`` wheel puts it in the environment's scripts folder), else on PATH.

    Raises:
        FileNotFoundError: when no mpiexec is found.
    """
    folders = [os.path.dirname(sys.executable), sysconfig.get_path("scripts"),
               os.path.join(sys.base_prefix, "bin"), os.path.join(sys.exec_prefix, "bin")]
    for folder in folders:
        candidate = os.path.join(folder, "mpiexec")
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return [candidate, "-n", str(processes)]
    found = shutil.which("mpiexec")
    if found is None:
        raise FileNotFoundError("mpiexec: not found beside this Python nor on PATH; "
                                "pip install 'pydl[mpi]' installs one (the mpich wheel)")
    return [found, "-n", str(processes)]
