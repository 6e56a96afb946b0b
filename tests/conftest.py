"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import numpy as np
import pytest

import pydl
from pydl import _core, dtype_policies

# The repository's `benchmarks` package is tested too. Its root is appended, not
# prepended: the root also holds the `pydl/` source folder, which must not shadow the
# installed package, here or in worker processes that inherit this path (joblib's loky
# workers in the scikit-learn tests do).
REPOSITORY = str(Path(__file__).resolve().parents[1])
if REPOSITORY not in sys.path:
    sys.path.append(REPOSITORY)

ISA_ORDER = ("generic", "avx2", "avx512", "avx512_bf16")
FLOAT_ISAS = ISA_ORDER[:3]  # avx512_bf16 runs the avx512 float kernels (plus bfloat16 ones)


def float_path(isa: str) -> str:
    """The float kernels' path of a SIMD level (show_config's "simd")."""
    return "avx512" if isa == "avx512_bf16" else isa


def supported_isas() -> list[str]:
    """Float SIMD paths both compiled in and supported by this CPU, lowest first."""
    compiled = set(_core.build_info()["simd_compiled"])
    best = FLOAT_ISAS.index(float_path(_core.detected_isa()))
    return [isa for isa in FLOAT_ISAS[: best + 1] if isa in compiled]


def bf16_supported() -> bool:
    """Whether this CPU and build run the bfloat16 kernels (when PYDL_ISA allows them)."""
    return _core.detected_isa() == "avx512_bf16"


@contextlib.contextmanager
def forced_isa(isa: str):
    """Installs the kernels of `isa` (a cap, as PYDL_ISA does) for the duration."""
    previous = _core.active_isa()
    _core.select_isa(isa)
    try:
        yield
    finally:
        _core.select_isa(previous)


@contextlib.contextmanager
def num_threads(n: int):
    previous = pydl.get_num_threads()
    pydl.set_num_threads(n)
    try:
        yield
    finally:
        pydl.set_num_threads(previous)


@pytest.fixture(params=supported_isas())
def isa(request):
    """Runs a test once per SIMD path this machine can execute."""
    with forced_isa(request.param):
        yield request.param


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def mixed_precision():
    """For tests that use mixed_bfloat16. Where the bfloat16 kernels do not run (no
    AVX512_BF16, or PYDL_ISA below avx512_bf16) the one-time fallback warning is reset
    and asserted (raised exactly once during the test); where they run, no warning may
    come (the suite turns warnings into errors). The global dtype policy is restored
    afterwards."""
    dtype_policies._warned["fallback"] = False
    try:
        if _core.bf16_kernels():
            yield
        else:
            with pytest.warns(RuntimeWarning, match="mixed_bfloat16") as record:
                yield
            assert sum("mixed_bfloat16" in str(w.message) for w in record) == 1
    finally:
        dtype_policies.reset_global_policy()
