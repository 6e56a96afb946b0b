"""Helpers of the callbacks that watch a metric: which way it improves, the mode argument."""

from __future__ import annotations

import warnings

import numpy as np


# --------------------------------------------------------------------------- monitoring helpers
def _metric_direction(monitor: str, model) -> str | None:
    """"up", "down" or None: which way `monitor` improves, from the model's metrics or known names."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "down"
    found = []
    for m in list(getattr(model, "metrics", None) or []):
        found.extend(getattr(m, "metrics", None) or [m])
    for m in found:
        if getattr(m, "name", None) == name and getattr(m, "_direction", None) in ("up", "down"):
            return m._direction
    from .. import metrics as metrics_module

    cls = metrics_module._BY_NAME.get(name)
    if cls is not None and cls._direction is not None:
        return cls._direction
    if "acc" in name or name.startswith(("auc", "precision", "recall", "fmeasure")):
        return "up"
    if name.startswith(("mse", "mae", "mean_squared_error", "mean_absolute_error")):
        return "down"
    return None


def _check_mode(mode: str, owner: str) -> str:
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{owner} mode {mode} is unknown, fallback to auto mode.", stacklevel=3)
        return "auto"
    return mode


def _scalar(value) -> float:
    return float(np.asarray(value))
