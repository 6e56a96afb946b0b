"""Where a benchmark's fresh child process runs, so that it measures the pydl this
process measures.

A child started as ``python -m benchmarks.X`` needs the repository on its path for the
``benchmarks`` package. Put there naively (``cwd`` at the repository root, or the root
first on ``PYTHONPATH``), the repository's ``pydl/`` source folder shadows the installed
package, and a non-editable install's child then imports a pydl without its compiled
core. So the child runs in an empty folder, and its path lists the folder this process
imported pydl from ahead of the repository.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child_env(env: dict | None = None) -> dict:
    """``env`` (default: this process's) with a ``PYTHONPATH`` that finds this process's
    pydl first, then the repository's ``benchmarks`` package."""
    env = dict(os.environ if env is None else env)
    spec = importlib.util.find_spec("pydl")
    pydl_home = str(Path(spec.origin).resolve().parents[1]) if spec and spec.origin else None
    entries = [pydl_home, str(ROOT), env.get("PYTHONPATH")]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(p for p in entries if p))
    return env


def run_child(command: list, env: dict | None = None, timeout: float = 600):
    """``subprocess.run(command)`` captured, in a fresh empty folder (nothing in it
    shadows a package) with ``child_env(env)``."""
    with tempfile.TemporaryDirectory(prefix="pydl-bench-") as cwd:
        return subprocess.run(command, capture_output=True, text=True, cwd=cwd,
                              env=child_env(env), timeout=timeout)
