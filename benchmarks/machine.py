"""What machine and software ran the benchmarks, and an estimate of the CPU's peak.

The peak is an *estimate*, derived from public microarchitecture facts, not measured:

    peak GFLOP/s (float32) = cores x clock (GHz) x FLOPs per cycle per core
    FLOPs per cycle        = 2 (an FMA is two FLOPs) x float32 lanes the FMA units
                             retire per cycle, summed over the units

Lanes per cycle by CPU family (the widest SIMD path pydl runs, from /proc/cpuinfo):
- AMD Zen 2/3/4 (family 0x17 model >= 0x30, 0x19): two 256-bit FMA pipes: 16 lanes,
  whether the code is AVX2 or AVX-512 (Zen 4 splits a 512-bit op in two halves);
- AMD Zen 5 (family 0x1A): two 512-bit pipes with AVX-512: 32 lanes;
- AMD Zen 1 (family 0x17, model < 0x30): two 128-bit pipes: 8 lanes;
- Intel with AVX-512: two 512-bit FMA units assumed (server parts; some have one): 32;
- Intel/other with AVX2+FMA: two 256-bit FMA units: 16; otherwise SSE: 8.
The clock is lscpu's "CPU max MHz" when the OS reports it, else /proc/cpuinfo's
current "cpu MHz" (under a hypervisor usually the base clock; turbo can be higher,
so measured GFLOP/s above 100% of this estimate are possible).
"""

from __future__ import annotations

import contextlib
import datetime
import io
import os
import platform
import re
import subprocess

from .threads import all_cores, blas_control_note


def _cpuinfo() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break  # the first processor is enough
                key, _, value = line.partition(":")
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def _lscpu_max_mhz() -> float | None:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"CPU max MHz:\s*([\d.]+)", out)
    return float(match.group(1)) if match else None


def _pydl_config() -> dict:
    try:
        import pydl

        with contextlib.redirect_stdout(io.StringIO()):
            return dict(pydl.show_config())
    except Exception as exc:  # pydl missing or broken: the numbers still mean something
        return {"error": f"{type(exc).__name__}: {exc}"}


def _lanes_per_cycle(vendor: str, family: int, model: int, flags: set[str]) -> tuple[int, str]:
    avx512 = "avx512f" in flags
    avx2_fma = "avx2" in flags and "fma" in flags
    if vendor == "AuthenticAMD" and family >= 0x17:
        if family == 0x17 and model < 0x30:
            return 8, "AMD Zen 1: 2 x 128-bit FMA pipes"
        if family >= 0x1A and avx512:
            return 32, "AMD Zen 5: 2 x 512-bit FMA pipes"
        return 16, "AMD Zen 2-4: 2 x 256-bit FMA pipes (AVX-512 split in halves on Zen 4)"
    if avx512:
        return 32, "AVX-512: 2 x 512-bit FMA units assumed"
    if avx2_fma:
        return 16, "AVX2: 2 x 256-bit FMA units"
    return 8, "SSE: 2 x 128-bit units (no FMA)"


def peak_estimate() -> dict:
    """Estimated float32 peak per core and the reasoning behind it."""
    info = _cpuinfo()
    flags = set(info.get("flags", "").split())
    vendor = info.get("vendor_id", "")
    family = int(info.get("cpu family", "0") or 0)
    model = int(info.get("model", "0") or 0)
    lanes, why = _lanes_per_cycle(vendor, family, model, flags)
    max_mhz = _lscpu_max_mhz()
    if max_mhz:
        mhz, clock_source = max_mhz, "lscpu CPU max MHz"
    else:
        mhz = float(info.get("cpu MHz", "0") or 0) or 2000.0
        clock_source = "/proc/cpuinfo cpu MHz (current clock; no max reported)"
    per_core = mhz / 1000.0 * 2 * lanes
    return {
        "gflops_per_core": per_core,
        "clock_mhz": mhz,
        "flops_per_cycle": 2 * lanes,
        "derivation": (f"ESTIMATE: {mhz / 1000:.2f} GHz ({clock_source}) x {2 * lanes} "
                       f"float32 FLOP/cycle ({why}) = {per_core:.0f} GFLOP/s per core"),
    }


def _version(module: str) -> str | None:
    try:
        mod = __import__(module)
    except Exception:
        return None
    return getattr(mod, "__version__", "?")


def _blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        import numpy  # noqa: F401  (loads the BLAS so threadpoolctl can see it)

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return (f"{pool.get('internal_api')} {pool.get('version')} "
                        f"({pool.get('architecture')})")
    except ImportError:
        pass
    return "unknown (threadpoolctl not installed)"


def _load_average() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def describe(with_torch: bool, with_jax: bool) -> dict:
    info = _cpuinfo()
    return {
        "cpu": info.get("model name", platform.processor() or "unknown"),
        "cores": all_cores(),
        "load_average_1min": _load_average(),
        "pydl": _pydl_config(),
        "peak": peak_estimate(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": _version("numpy"),
        "blas": _blas(),
        "blas_threads": blas_control_note(),
        "torch": _version("torch") if with_torch else None,
        "jax": _version("jax") if with_jax else None,
    }


def summary_lines(machine: dict) -> list[str]:
    cfg = machine["pydl"]
    simd = cfg.get("simd", cfg.get("error", "?"))
    others = ", ".join(f"{k} {machine[k]}" for k in ("torch", "jax") if machine.get(k))
    return [
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; pydl SIMD path: {simd} "
        f"(compiled: {', '.join(cfg.get('simd_compiled', []))}; OpenMP: {cfg.get('openmp')})",
        f"- Software: Python {machine['python']}, pydl {cfg.get('version', '?')}, "
        f"NumPy {machine['numpy']} with {machine['blas']}" + (f", {others}" if others else ""),
        f"- Peak: {machine['peak']['derivation']}",
        f"- Date: {machine['date_utc']}; {machine['blas_threads']}",
    ] + _load_line(machine)


def _load_line(machine: dict) -> list[str]:
    load = machine.get("load_average_1min")
    if load is None:
        return []
    busy = load > 0.5 * machine["cores"]
    return [f"- Load average at start: {load} on {machine['cores']} cores"
            + (" (a busy machine: multi-thread numbers suffer most; compare ratios)"
               if busy else "")]
