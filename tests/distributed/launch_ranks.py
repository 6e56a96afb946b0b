"""Runs _ranks.py scenarios as `mpiexec -n 2` subprocesses, with a hard timeout (a helper
module of the tests beside it, not a conftest: the suite imports `conftest` by name)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

RANKS = os.path.join(os.path.dirname(__file__), "_ranks.py")
TIMEOUT = 120  # seconds: a hang fails the test instead of the suite


def launch(scenario: str, out, processes: int = 2, env: dict | None = None,
           timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    """`mpiexec -n processes python _ranks.py scenario out`; killed after `timeout`."""
    pytest.importorskip("mpi4py")
    from pydl.distribution.launcher import mpiexec_command

    try:
        command = mpiexec_command(processes)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    environment = {k: v for k, v in os.environ.items()
                   if not k.startswith(("PMI_", "MPI_LOCAL", "OMPI_", "SLURM_"))}
    environment.update(PYDL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    environment.update(env or {})
    environment = {k: v for k, v in environment.items() if v is not None}
    try:
        return subprocess.run(command + [sys.executable, RANKS, scenario, str(out)],
                              env=environment, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{scenario}: the processes did not finish within {timeout} s (a hang); "
                    f"output so far:\n{exc.stdout}\n{exc.stderr}")


def results(scenario: str, out, processes: int = 2, env: dict | None = None):
    """Runs `scenario`; returns (values, arrays) per rank, failing on a non-zero exit."""
    done = launch(scenario, out, processes, env)
    assert done.returncode == 0, f"{scenario} failed:\n{done.stdout}\n{done.stderr}"
    # every persistent Allreduce was freed before MPI_Finalize (MPICH complains otherwise)
    assert "persistent request" not in done.stderr, done.stderr
    values, arrays = [], []
    for r in range(processes):
        with open(os.path.join(out, f"rank{r}.json")) as f:
            values.append(json.load(f))
        path = os.path.join(out, f"rank{r}.npz")
        arrays.append(dict(np.load(path)) if os.path.exists(path) else {})
    return values, arrays, done
