"""Build facts, SIMD dispatch and thread control (issue 2)."""

import os
import subprocess
import sys

import pytest

import pydl
from pydl import _core

from conftest import FLOAT_ISAS, ISA_ORDER, bf16_supported, float_path, supported_isas


def run_python(code, env, tmp_path, check=True):
    """Runs `code` in a fresh interpreter. The working directory is a temporary
    one, so that a source checkout in the current directory cannot shadow the
    installed package."""
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=check, cwd=tmp_path)


def test_show_config_keys_and_types(capsys):
    config = pydl.show_config()
    printed = capsys.readouterr().out
    for key in ("version", "compiler", "simd", "simd_compiled", "openmp", "threading", "threads",
                "threads_source", "usable_cpus", "usable_cpus_source", "max_threads", "spin_us"):
        assert key in config
        assert key in printed
    assert config["version"] == pydl.__version__
    assert config["simd"] in FLOAT_ISAS
    assert config["bf16"] is (_core.active_isa() == "avx512_bf16") is _core.bf16_kernels()
    assert config["bf16_detected"] is bf16_supported()
    assert "generic" in config["simd_compiled"]
    assert isinstance(config["openmp"], bool)
    assert config["threading"] in ("pool", "serial")
    assert config["threads"] == pydl.get_num_threads() >= 1
    assert 1 <= config["usable_cpus"] <= (os.cpu_count() or 1)
    assert config["spin_us"] == _core.get_spin_us() >= 0


def test_show_config_silent(capsys):
    pydl.show_config(print_it=False)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("cap", ISA_ORDER)
def test_isa_cap_from_environment(cap, tmp_path):
    """PYDL_ISA caps the path, never raises it, and show_config reports it: the float
    kernels' path, and bf16 only when the cap is avx512_bf16 on a CPU that has it."""
    code = ("import pydl; c = pydl.show_config(print_it=False); "
            "print(c['simd'], c['bf16'], c['bf16_detected'])")
    env = dict(os.environ, PYDL_ISA=cap)
    simd, bf16, bf16_detected = run_python(code, env, tmp_path).stdout.split()
    detected = _core.detected_isa()
    expected = cap if ISA_ORDER.index(cap) <= ISA_ORDER.index(detected) else detected
    assert simd == float_path(expected)
    assert bf16 == str(expected == "avx512_bf16")
    assert bf16_detected == str(bf16_supported())


def test_bad_isa_cap_warns_and_is_ignored(tmp_path):
    code = "import pydl; print(pydl.show_config(print_it=False)['simd'])"
    env = dict(os.environ, PYDL_ISA="sse9")
    proc = run_python(code, env, tmp_path)
    assert proc.stdout.strip() == float_path(_core.detected_isa())
    assert "PYDL_ISA" in proc.stderr


def test_select_isa_runtime_roundtrip():
    previous = _core.active_isa()
    try:
        for isa in supported_isas():
            assert _core.select_isa(isa) == isa
            assert _core.active_isa() == isa
    finally:
        _core.select_isa(previous)
    with pytest.raises(ValueError, match="cap"):
        _core.select_isa("mmx")


@pytest.mark.parametrize("var", ["PYDL_NUM_THREADS", "OMP_NUM_THREADS"])
def test_thread_count_from_environment(var, tmp_path):
    code = ("import pydl; c = pydl.show_config(print_it=False); "
            "print(pydl.get_num_threads(), c['threads_source'])")
    env = {k: v for k, v in os.environ.items() if k not in ("PYDL_NUM_THREADS", "OMP_NUM_THREADS")}
    env[var] = "1"
    out = run_python(code, env, tmp_path).stdout.split()
    assert out[0] == "1"
    if _core.build_info()["threading"] == "pool":
        assert out[1] == var


def test_spin_from_environment(tmp_path):
    code = "import pydl; print(pydl.show_config(print_it=False)['spin_us'])"
    env = dict(os.environ, PYDL_SPIN_US="7")
    assert run_python(code, env, tmp_path).stdout.strip() == "7"
    env["PYDL_SPIN_US"] = "-3"
    proc = run_python(code, env, tmp_path)
    assert int(proc.stdout.strip()) >= 0  # ignored (the default), with a warning
    assert "PYDL_SPIN_US" in proc.stderr


def test_set_num_threads_roundtrip():
    previous = pydl.get_num_threads()
    try:
        pydl.set_num_threads(1)
        assert pydl.get_num_threads() == 1
        config = pydl.show_config(print_it=False)
        if config["threading"] == "pool":
            assert config["threads_source"] == "set_num_threads"
            pydl.set_num_threads(2)
            assert pydl.get_num_threads() == 2
    finally:
        pydl.set_num_threads(previous)


@pytest.mark.parametrize("bad", [0, -3])
def test_set_num_threads_rejects_values(bad):
    with pytest.raises(ValueError, match=r"n: expected an int >= 1, received"):
        pydl.set_num_threads(bad)


@pytest.mark.parametrize("bad", [1.5, "2", None, True])
def test_set_num_threads_rejects_types(bad):
    with pytest.raises(TypeError, match=r"n: expected an int"):
        pydl.set_num_threads(bad)
