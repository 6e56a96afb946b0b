"""The default thread count respects the CPUs the process may use (pydl/_cpus.py):
the affinity mask (taskset, os.sched_setaffinity) and cgroup CPU quotas (v2
cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us), read from a fake /proc and /sys
tree here; PYDL_NUM_THREADS and OMP_NUM_THREADS still override it."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import textwrap

import pytest

from pydl import _core, _cpus

SERIAL = _core.build_info()["threading"] == "serial"

V2_MOUNT = "30 25 0:26 / /sys/fs/cgroup rw,nosuid,nodev - cgroup2 cgroup2 rw,nsdelegate\n"
V1_MOUNTS = ("31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755\n"
             "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
             "33 31 0:30 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n")


def fake_tree(tmp_path, mountinfo: str, cgroup: str, files: dict[str, str]) -> str:
    """A root holding proc/self/{mountinfo,cgroup} and the given files; returns it."""
    for rel, text in {"proc/self/mountinfo": mountinfo, "proc/self/cgroup": cgroup,
                      **files}.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return str(tmp_path)


def expected_usable(quota: float | None) -> int:
    affinity = _cpus.affinity_cpus() or os.cpu_count() or 1
    return affinity if quota is None else max(1, min(affinity, math.ceil(quota)))


def test_v2_quota_of_the_process_cgroup(tmp_path):
    root = fake_tree(tmp_path, V2_MOUNT, "0::/slurm/job_7/step_0\n",
                     {"sys/fs/cgroup/slurm/job_7/step_0/cpu.max": "150000 100000\n",
                      "sys/fs/cgroup/slurm/cpu.max": "max 100000\n"})
    limit, where = _cpus.cgroup_cpu_limit(root)
    assert limit == pytest.approx(1.5)
    assert where == "/sys/fs/cgroup/slurm/job_7/step_0/cpu.max"
    assert _cpus.usable_cpus(root)[0] == expected_usable(1.5)


def test_v2_a_parent_limit_binds_its_children(tmp_path):
    root = fake_tree(tmp_path, V2_MOUNT, "0::/user.slice/app\n",
                     {"sys/fs/cgroup/user.slice/app/cpu.max": "max 100000\n",
                      "sys/fs/cgroup/user.slice/cpu.max": "50000 100000\n"})
    assert _cpus.cgroup_cpu_limit(root)[0] == pytest.approx(0.5)
    usable, source = _cpus.usable_cpus(root)
    assert usable == 1
    if expected_usable(None) > 1:
        assert "cgroup CPU quota" in source and "user.slice/cpu.max" in source


def test_v2_container_sees_its_cgroup_as_the_mount_root(tmp_path):
    mount = "40 35 0:30 /docker/abc /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n"
    root = fake_tree(tmp_path, mount, "0::/docker/abc\n",
                     {"sys/fs/cgroup/cpu.max": "200000 100000\n"})
    assert _cpus.cgroup_cpu_limit(root)[0] == pytest.approx(2.0)


def test_v1_cfs_quota(tmp_path):
    cgroup = "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n"
    folder = "sys/fs/cgroup/cpu,cpuacct/docker/abc"
    root = fake_tree(tmp_path, V1_MOUNTS, cgroup,
                     {f"{folder}/cpu.cfs_quota_us": "100000\n",
                      f"{folder}/cpu.cfs_period_us": "100000\n"})
    limit, where = _cpus.cgroup_cpu_limit(root)
    assert limit == pytest.approx(1.0)
    assert where.endswith("docker/abc/cpu.cfs_quota_us")
    assert _cpus.usable_cpus(root)[0] == 1


def test_no_quota_means_no_limit(tmp_path):
    v1 = fake_tree(tmp_path / "v1", V1_MOUNTS, "4:cpu,cpuacct:/\n",
                   {"sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                    "sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    v2 = fake_tree(tmp_path / "v2", V2_MOUNT, "0::/\n", {"sys/fs/cgroup/cpu.max": "max 100000\n"})
    for root in (v1, v2):
        assert _cpus.cgroup_cpu_limit(root) == (None, "")
        assert _cpus.usable_cpus(root) == (expected_usable(None), "affinity mask")


@pytest.mark.parametrize("text", ["", "garbage", "100000", "abc 100000", "0 100000", "-5 100"])
def test_unreadable_quota_files_are_ignored(tmp_path, text):
    root = fake_tree(tmp_path, V2_MOUNT, "0::/a\n", {"sys/fs/cgroup/a/cpu.max": text})
    assert _cpus.cgroup_cpu_limit(root) == (None, "")


def test_missing_proc_files_mean_no_limit(tmp_path):
    assert _cpus.cgroup_cpu_limit(str(tmp_path)) == (None, "")


def run_python(code: str, tmp_path, **env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("PYDL_NUM_THREADS", "OMP_NUM_THREADS")}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, cwd=tmp_path, env={**clean, **env}, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_affinity_mask_sets_the_default_threads(tmp_path):
    code = """
        import os
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
        import pydl
        c = pydl.show_config(print_it=False)
        print(c["threads"], c["usable_cpus"], c["usable_cpus_source"], c["threads_source"], sep="|")
    """
    threads, usable, source, threads_source = run_python(code, tmp_path).split("|")
    assert (threads, usable) == ("1", "1")
    assert source == "affinity mask"
    if SERIAL:
        assert threads_source == "serial build"
        return
    assert threads_source == "usable CPUs"
    code_override = code.replace("import pydl", "os.environ['PYDL_NUM_THREADS'] = '3'\n"
                                               "        import pydl")
    threads, usable, _, threads_source = run_python(code_override, tmp_path).split("|")
    assert (threads, usable, threads_source) == ("3", "1", "PYDL_NUM_THREADS")


def test_cgroup_quota_sets_the_default_threads(tmp_path):
    """The import-time default goes through the same reader (ROOT pointed at a fake tree)."""
    root = fake_tree(tmp_path / "tree", V2_MOUNT, "0::/job\n",
                     {"sys/fs/cgroup/job/cpu.max": "100000 100000\n"})
    code = f"""
        import pydl
        from pydl import _config, _cpus
        _cpus.ROOT = {root!r}
        print(*_config.default_threads(), sep="|")
        print(pydl.show_config(print_it=False)["usable_cpus"])
    """
    first, second = run_python(code, tmp_path).splitlines()
    assert first == "1|usable CPUs" and second == "1"
    override = run_python(code, tmp_path, OMP_NUM_THREADS="2").splitlines()
    assert override == ["2|OMP_NUM_THREADS", "1"]
