"""Helpers shared by the workloads: optional competitors, peaks, checks."""

from __future__ import annotations

import numpy as np

from .. import torch_side
from ..results import Run


def torch_or_none(run: Run, what: str):
    """The torch module when enabled and importable; else None (and says why once)."""
    if not run.settings.use_torch:
        return None
    torch, reason = torch_side.import_torch()
    if torch is None:
        run.say_unavailable(f"PyTorch columns ({what})", reason)
    return torch


def peak_gflops(run: Run, threads: int) -> float:
    """The CPU's estimated float32 peak at this many cores (see machine.py)."""
    return run.machine["peak"]["gflops_per_core"] * threads


def close(result: np.ndarray, reference: np.ndarray, rtol: float = 1e-3) -> bool:
    """float32 results agree with a float64 reference: relative Frobenius error <= rtol.

    A norm-wise test, because a relu mask legitimately flips on the few entries whose
    pre-activation rounds across zero in float32.
    """
    scale = float(np.linalg.norm(reference)) or 1.0
    return bool(np.linalg.norm(result - reference) <= rtol * scale)


def shape_label(m: int, k: int, n: int) -> str:
    return f"{m}x{k} . {k}x{n}"


def settle(run: Run, threads: int) -> float:
    """The pause before each timed sample: only worker threads need to fall asleep."""
    return run.settings.settle_s if threads > 1 else 0.0
