"""What machine and software ran the benchmarks, and the CPU's peak used for "% of peak".

The peak is first *estimated* from public microarchitecture facts, not measured:

    peak GFLOP/s (float32) = cores x clock (GHz) x FLOPs per cycle per core
    FLOPs per cycle        = 2 (an FMA is two FLOPs) x float32 lanes the FMA units
                             retire per cycle, summed over the units

Lanes per cycle by CPU family (the widest SIMD path pydl runs, from /proc/cpuinfo):
- AMD Zen 2/3 (family 0x17 model >= 0x30, 0x19 without AVX-512): two 256-bit FMA pipes:
  16 lanes;
- AMD Zen 4 (family 0x19 with AVX-512): the same two 256-bit pipes (a 512-bit FMA takes
  both halves): 16 lanes;
- AMD Zen 5 (family 0x1A): two 512-bit pipes with AVX-512: 32 lanes;
- AMD Zen 1 (family 0x17, model < 0x30): two 128-bit pipes: 8 lanes;
- Intel with AVX-512: two 512-bit FMA units assumed (server parts; some have one): 32;
- Intel/other with AVX2+FMA: two 256-bit FMA units: 16; otherwise SSE: 8.

The clock is the maximum the system reports (cpufreq's cpuinfo_max_freq, else lscpu's
"CPU max MHz"). Under a hypervisor neither may exist; then only /proc/cpuinfo's
current clock is left, usually the base clock, and boost makes the real peak higher.
So the estimate is checked against the run itself: when a GEMM measured in this run
beats it (per core), the "% of ..." columns switch to the measured best GEMM and say
so (``peak_reference``); a percentage above 100% is never printed as "of peak".
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import io
import os
import platform
import re
import subprocess

from .results import fmt
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


def _max_clock_mhz() -> tuple[float | None, str]:
    """The highest clock the system reports, in MHz, and where it came from."""
    try:
        with open("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq") as f:
            return float(f.read().strip()) / 1000.0, "cpufreq cpuinfo_max_freq"
    except (OSError, ValueError):
        pass
    match = re.search(r"CPU max MHz:\s*([\d.]+)", _lscpu())
    return (float(match.group(1)), "lscpu CPU max MHz") if match else (None, "")


@functools.cache
def _lscpu() -> str:
    try:
        return subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def _cpu_name(info: dict[str, str]) -> str:
    """Model name, family/model numbers (a vague "AMD EPYC" says little) and whether a
    hypervisor sits in between (its clock and cache figures are then the guest's view)."""
    name = info.get("model name", platform.processor() or "unknown")
    if "cpu family" in info and "model" in info:
        name += f" (family 0x{int(info['cpu family']):x} model 0x{int(info['model']):x})"
    match = re.search(r"Hypervisor vendor:\s*(\S+)", _lscpu())
    if match:
        name += f", {match.group(1)} virtual machine"
    elif "hypervisor" in info.get("flags", "").split():
        name += ", virtual machine"
    return name


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
        if avx512:
            return 16, "AMD Zen 4: 2 x 256-bit FMA pipes, a 512-bit FMA takes both"
        return 16, "AMD Zen 2/3: 2 x 256-bit FMA pipes"
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
    max_mhz, clock_source = _max_clock_mhz()
    clock_is_max = max_mhz is not None
    if clock_is_max:
        mhz = max_mhz
    else:
        mhz = float(info.get("cpu MHz", "0") or 0) or 2000.0
        clock_source = ("current clock from /proc/cpuinfo; the system reports no max "
                        "clock, so boost is not counted")
    per_core = mhz / 1000.0 * 2 * lanes
    return {
        "gflops_per_core": per_core,
        "clock_mhz": mhz,
        "clock_is_max": clock_is_max,
        "flops_per_cycle": 2 * lanes,
        "derivation": (f"ESTIMATE {mhz / 1000:.2f} GHz ({clock_source}) x {2 * lanes} "
                       f"float32 FLOP/cycle ({why}) = {per_core:.0f} GFLOP/s per core"),
    }


def peak_reference(estimate: dict, best_gemm_per_core: float | None) -> dict:
    """What the "% of ..." columns divide by: the estimated peak, or the measured best
    GEMM rate per core when a measurement beat the estimate (an estimate below a measured
    rate is no peak). Returns gflops_per_core, source ("estimate" or "measured"),
    label (the column's words) and line (for the machine summary)."""
    per_core = estimate["gflops_per_core"]
    if best_gemm_per_core is None or best_gemm_per_core <= per_core:
        measured = ("" if best_gemm_per_core is None else
                    f"; the best GEMM measured here reached {fmt(best_gemm_per_core)} GFLOP/s "
                    f"per core ({100 * best_gemm_per_core / per_core:.0f}% of it)")
        return {"gflops_per_core": per_core, "source": "estimate", "label": "peak (est.)",
                "line": f"Peak: {estimate['derivation']}{measured}; the \"% of peak (est.)\" "
                        f"columns divide by this estimate"}
    implied_ghz = best_gemm_per_core / estimate["flops_per_cycle"]
    return {"gflops_per_core": best_gemm_per_core, "source": "measured",
            "label": "best GEMM",
            "line": (f"Peak: {estimate['derivation']}. A GEMM in this run reached "
                     f"{fmt(best_gemm_per_core)} GFLOP/s per core (at "
                     f"{estimate['flops_per_cycle']} FLOP/cycle, a clock of at least "
                     f"{implied_ghz:.2f} GHz), above the estimate, so the estimate is no peak: "
                     f"the \"% of best GEMM\" columns divide by that measured rate")}


def _version(module: str) -> str | None:
    """The installed distribution's version, read without importing it (importing JAX
    here would size XLA's thread pool before jax_side can choose it)."""
    from importlib import metadata

    try:
        return metadata.version(module)
    except metadata.PackageNotFoundError:
        return None


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
        "cpu": _cpu_name(info),
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
    threading = cfg.get("threading") or ("OpenMP" if cfg.get("openmp") else "?")
    lines = [
        f"- Machine: {machine['cpu']}, {machine['cores']} cores; pydl SIMD path: {simd}"
        + ({True: " + AVX512_BF16", False: " (bfloat16: float32 kernels)"}.get(cfg.get("bf16"), ""))
        + " "
        f"(compiled: {', '.join(cfg.get('simd_compiled', []))}; threads: {threading}"
        + (f", {cfg['threads']} by default ({cfg.get('threads_source')}); usable CPUs: "
           f"{cfg.get('usable_cpus')} ({cfg.get('usable_cpus_source')})" if "threads" in cfg
           else "") + ")",
        f"- Software: Python {machine['python']}, pydl {cfg.get('version', '?')}, "
        f"NumPy {machine['numpy']} with {machine['blas']}" + (f", {others}" if others else ""),
        f"- {_peak_line(machine)}",
        f"- Date: {machine['date_utc']}; {machine['blas_threads']}",
    ]
    for name, build in machine.get("compared_builds", {}).items():
        env = " ".join(f"{k}={v}" for k, v in build["env"].items())
        config = build.get("config", {})
        lines.append(f"- Compared build {name}: {build['python']}" + (f" with {env}" if env else "")
                     + f" (threads: {config.get('threading') or ('OpenMP' if config.get('openmp') else '?')})")
    return lines + _load_line(machine)


def _peak_line(machine: dict) -> str:
    """The reference the % columns used (set by the GEMM workload), else the estimate."""
    used = machine.get("peak_used")
    return used["line"] if used else f"Peak: {machine['peak']['derivation']}"


def _load_line(machine: dict) -> list[str]:
    load = machine.get("load_average_1min")
    if load is None:
        return []
    busy = load > 0.5 * machine["cores"]
    return [f"- Load average at start: {load} on {machine['cores']} cores"
            + (" (a busy machine: multi-thread numbers suffer most; compare ratios)"
               if busy else "")]
