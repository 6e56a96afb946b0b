"""Helpers shared by the autodiff tests."""

from __future__ import annotations

import pytest

from pydl import _core


def requires_core(*names: str):
    """Skips a test until the named `_core` kernels are built (they land in other areas)."""
    missing = [n for n in names if not hasattr(_core, n)]
    return pytest.mark.skipif(bool(missing), reason=f"_core lacks {', '.join(missing)}")
