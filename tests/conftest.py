"""Fixtures shared by the whole suite."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

import pydl
from pydl import _core

ISA_ORDER = ("generic", "avx2", "avx512")


def supported_isas() -> list[str]:
    """SIMD paths both compiled in and supported by this CPU, lowest first."""
    compiled = set(_core.build_info()["simd_compiled"])
    best = ISA_ORDER.index(_core.detected_isa())
    return [isa for isa in ISA_ORDER[: best + 1] if isa in compiled]


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
