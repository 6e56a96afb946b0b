"""How many CPUs this process may use: its affinity mask and its cgroup's CPU quota.

A container (``docker run --cpus 2``), a Slurm job, a systemd slice or ``taskset``
often gives a process fewer CPUs than the machine has. Threads beyond them only
wait for each other, so pydl's default thread count is

    usable_cpus = min(CPUs in the affinity mask, ceil(cgroup quota / period))

The quota is read along the process's cgroup path, every ancestor included (a limit
set on a parent binds its children): cgroup v2 ``cpu.max`` ("max 100000" or
"150000 100000"), cgroup v1 ``cpu.cfs_quota_us`` (-1: none) and
``cpu.cfs_period_us``. Mount points come from /proc/self/mountinfo, the process's
cgroups from /proc/self/cgroup. A fractional quota is rounded up: 1.5 CPUs of
quota run 2 threads at 75% each, faster than 1 thread at 100%.
"""

from __future__ import annotations

import math
import os
import re

# Where /proc and /sys are (tests point this at a fake tree).
ROOT = "/"


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _unescape(field: str) -> str:
    """mountinfo escapes space, tab, newline and backslash as octal (\\040)."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def _under(root: str, path: str) -> str:
    return os.path.join(root, path.lstrip("/"))


def _cgroup_mounts(root: str) -> list[tuple[str, str, str]]:
    """(kind, mount root, mount point) of the cgroup2 mounts and of the cgroup v1
    mounts holding the cpu controller."""
    text = _read(_under(root, "proc/self/mountinfo")) or ""
    mounts = []
    for line in text.splitlines():
        before, sep, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not sep or len(fields) < 5 or len(tail) < 3:
            continue
        fstype, options = tail[0], tail[2].split(",")
        if fstype == "cgroup2":
            mounts.append(("v2", _unescape(fields[3]), _unescape(fields[4])))
        elif fstype == "cgroup" and "cpu" in options:
            mounts.append(("v1", _unescape(fields[3]), _unescape(fields[4])))
    return mounts


def _process_cgroups(root: str) -> dict[str, str]:
    """{"v2": path, "v1": path of the cpu controller} from /proc/self/cgroup."""
    paths = {}
    for line in (_read(_under(root, "proc/self/cgroup")) or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            paths["v2"] = path
        elif "cpu" in controllers.split(","):
            paths["v1"] = path
    return paths


def _limit_in(kind: str, folder: str) -> float | None:
    """CPUs the quota files in one cgroup folder allow, or None (no limit there)."""
    if kind == "v2":
        text = _read(os.path.join(folder, "cpu.max"))
        if text is None:
            return None
        words = text.split()
        if len(words) != 2 or words[0] == "max":
            return None
        quota, period = words
    else:
        quota = _read(os.path.join(folder, "cpu.cfs_quota_us"))
        period = _read(os.path.join(folder, "cpu.cfs_period_us"))
        if quota is None or period is None:
            return None
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def cgroup_cpu_limit(root: str | None = None) -> tuple[float | None, str]:
    """The CPUs the cgroup CPU quota allows this process (None: no quota found), and
    the file it came from."""
    root = ROOT if root is None else root
    cgroups = _process_cgroups(root)
    best: tuple[float | None, str] = (None, "")
    for kind, mount_root, mount_point in _cgroup_mounts(root):
        path = cgroups.get(kind)
        if path is None:
            continue
        # The process's cgroup as seen under this mount (a container sees its own
        # cgroup as the mount's root).
        if mount_root != "/" and (path == mount_root or path.startswith(mount_root + "/")):
            path = path[len(mount_root):]
        elif mount_root != "/":
            path = "/"
        top = _under(root, mount_point)
        folder = os.path.normpath(_under(top, path))
        while True:
            limit = _limit_in(kind, folder)
            if limit is not None and (best[0] is None or limit < best[0]):
                name = "cpu.max" if kind == "v2" else "cpu.cfs_quota_us"
                best = (limit, os.path.join(folder, name)[len(root.rstrip("/")):] or "/")
            if os.path.normpath(folder) == os.path.normpath(top) or len(folder) <= len(top):
                break
            folder = os.path.dirname(folder)
    return best


def affinity_cpus() -> int | None:
    """CPUs in this process's affinity mask (None where the OS cannot say)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def usable_cpus(root: str | None = None) -> tuple[int, str]:
    """(usable CPUs, where the number comes from): the affinity mask (else the CPU
    count), lowered by a cgroup CPU quota."""
    count = affinity_cpus()
    source = "affinity mask"
    if count is None:
        count, source = os.cpu_count() or 1, "cpu_count"
    quota, where = cgroup_cpu_limit(root)
    if quota is not None and math.ceil(quota) < count:
        count = max(1, math.ceil(quota))
        source = f"cgroup CPU quota ({quota:g} CPUs, {where})"
    return count, source
