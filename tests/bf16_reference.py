"""NumPy oracles of the bfloat16 GEMM (csrc/gemm/bf16.h): the rounding, and the
pairwise float32 accumulation VDPBF16PS does, bit for bit."""

from __future__ import annotations

import contextlib

import numpy as np

from pydl import _core

from conftest import forced_isa

TINY = np.float32(2.0 ** -126)


def round_bf16(x) -> np.ndarray:
    """float32 -> the float32 value of its bfloat16 rounding: nearest, ties to even;
    NaN stays NaN (quieted), subnormals become signed zeros, overflow gives inf."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    nan = (u & 0x7FFFFFFF) > 0x7F800000
    u = np.where((u & 0x7F800000) == 0, u & 0x80000000, u)
    r = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF
    r = np.where(nan, (u >> 16) | 0x40, r)
    return (r.astype(np.uint32) << 16).view(np.float32).reshape(np.shape(x))


def _flush(x: np.ndarray) -> np.ndarray:
    return np.where(np.abs(x) < TINY, np.copysign(np.float32(0), x), x).astype(np.float32)


def gemm_bf16(a, b, c0=None) -> np.ndarray:
    """C = c0 + a @ b (a (m, k), b (k, n) float32) as the bf16 kernels compute it: both
    operands rounded, k taken in pairs (2q, 2q+1), acc = flush(flush(acc + a1 b1) + a0 b0)
    in float32 (products of bfloat16 values are exact in float32 in the normal range,
    which the callers' data stay in)."""
    a, b = round_bf16(a), round_bf16(b)
    m, k = a.shape
    start = np.float32(0) if c0 is None else _flush(np.asarray(c0, np.float32))
    acc = np.broadcast_to(start, (m, b.shape[1])).astype(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        for p in range(0, k, 2):
            if p + 1 < k:
                acc = _flush(acc + a[:, p + 1, None] * b[None, p + 1, :])
            acc = _flush(acc + a[:, p, None] * b[None, p, :])
    return acc


@contextlib.contextmanager
def bf16_kernels():
    """The avx512_bf16 path installed for the duration (also under PYDL_ISA=avx2: the
    cap is only where the process starts); the caller skips where the CPU lacks it."""
    with forced_isa("avx512_bf16"):
        assert _core.bf16_kernels()
        yield
