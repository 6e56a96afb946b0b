"""pydl.distribution's functions: a world of one without MPI, the collectives and
threads on 2 processes, argument checks, the missing-mpi4py error, the schedule."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest

import pydl
from pydl import distribution as dist
from pydl.distribution import launcher
from pydl.distribution.shards import Shards

from launch_ranks import results

_LAUNCHER_VARS = ("PMI_", "MPI_LOCAL", "OMPI_", "SLURM_", "MV2_")


def _python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs ``code`` in a fresh interpreter outside any launcher, in an empty working
    directory (a source checkout there would shadow the installed package)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(_LAUNCHER_VARS)}
    environment.update(env or {})
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=environment,
                              capture_output=True, text=True, timeout=120, cwd=cwd)


def test_a_world_of_one_needs_no_mpi():
    done = _python("""
        import sys
        import numpy as np
        import pydl
        from pydl import distribution as dist

        def fit(parallel):
            pydl.utils.set_random_seed(0)
            m = pydl.Sequential([pydl.Input((3,)), pydl.layers.Dense(2)])
            m.compile(optimizer="adam", loss="mse")
            dist.set_distribution(dist.DataParallel() if parallel else None)
            m.fit(np.ones((10, 3), "float32"), np.zeros((10, 2), "float32"), batch_size=4,
                  epochs=2, verbose=0)
            dist.set_distribution(None)
            return [w.value for w in m.weights]

        dist.initialize()
        same = all(np.array_equal(a, b) for a, b in zip(fit(True), fit(False)))
        x = np.arange(4.0)
        assert dist.allreduce(x, op="mean").tolist() == x.tolist()
        assert dist.broadcast(x).tolist() == x.tolist()
        dist.barrier()
        print(dist.rank(), dist.size(), dist.is_chief(), same, "mpi4py" in sys.modules,
              pydl.show_config(print_it=False)["processes"])
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0", "1", "True", "True", "False", "1"]


def test_missing_mpi4py_names_the_extra():
    done = _python("""
        import sys
        sys.modules["mpi4py"] = None  # as if it were not installed
        from pydl import distribution as dist
        for make in (dist.initialize, dist.DataParallel):
            try:
                make()
            except ImportError as exc:
                print("ImportError:", exc)
    """, env={"PMI_SIZE": "2", "PMI_RANK": "0"})  # as mpiexec -n 2 sets them
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    for line in lines:
        assert "started by an MPI launcher with 2 processes (PMI_SIZE=2)" in line
        assert "pip install 'pydl[mpi]'" in line


def test_a_launcher_whose_processes_mpi_does_not_join_is_warned_about():
    pytest.importorskip("mpi4py")
    done = _python("""
        import warnings
        from pydl import distribution as dist
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dist.initialize()
        print(dist.size(), "|".join(str(w.message) for w in caught))
    """, env={"SLURM_STEP_NUM_TASKS": "3"})  # srun -n 3 without MPI support, say
    assert done.returncode == 0, done.stderr
    size, message = done.stdout.strip().split(" ", 1)
    assert size == "1"
    assert "started 3 processes (SLURM_STEP_NUM_TASKS), but MPI sees a world of 1" in message
    assert "srun --mpi=pmi2" in message


def test_collectives_threads_and_replica_checks_on_two_processes(tmp_path):
    values, _, _ = results("helpers", tmp_path)
    assert [v["rank"] for v in values] == [0, 1]
    assert [v["chief"] for v in values] == [True, False]
    for v in values:
        assert v["size"] == 2
        assert v["sum_int"] == [3, 6]
        assert v["mean_float"] == 1.5
        assert v["sum_bool"] == [2, 1]
        assert v["broadcast"] == [10.0, 11.0, 12.0]  # rank 1's
        assert v["config"]["processes"] == 2 and v["config"]["processes_on_node"] == 2
        assert v["config"]["threads"] == 1 and v["config"]["mpi"].startswith("MPICH")
        assert v["warnings"] == []
        assert "trainable weight 'dense_2/kernel'" in v["tamper_error"]
        assert "differs between rank 0 and ranks [1]" in v["tamper_error"]
    for key in ("weights_digest", "slots_digest", "iterations", "bn_digest"):
        assert values[0][key] == values[1][key], key  # rank 0's weights and optimizer state


def test_threads_per_process_default_to_the_cores_shared(tmp_path):
    values, _, _ = results("threads", tmp_path, env={"PYDL_NUM_THREADS": None,
                                                     "OMP_NUM_THREADS": None})
    for v in values:
        cores = v["config"]["cores"]
        assert v["config"]["threads"] == max(1, cores // 2)
        assert len(v["warnings"]) == (0 if cores >= 2 else 1)  # 2 processes on 1 core: warned


@pytest.mark.skipif(pydl.show_config(print_it=False)["threading"] == "serial",
                    reason="a serial build runs one thread whatever PYDL_NUM_THREADS says")
def test_oversubscribed_processes_are_warned_about(tmp_path):
    cores = launcher.usable_cores()
    values, _, _ = results("threads", tmp_path, env={"PYDL_NUM_THREADS": str(cores)})
    for v in values:
        assert v["config"]["threads"] == cores
        assert len(v["warnings"]) == 1
        assert f"2 processes on this node x {cores} threads each" in v["warnings"][0]
        fix = f"PYDL_NUM_THREADS={cores // 2}" if cores >= 2 else "at most 1 processes per node"
        assert fix in v["warnings"][0]


@pytest.mark.parametrize("make, match", [
    (lambda: dist.DataParallel(devices=["cpu:0"]), "devices is not used by pydl"),
    (lambda: dist.DataParallel(device_mesh="mesh"), "device_mesh is not used by pydl"),
    (lambda: dist.DataParallel(auto_shard_dataset="yes"), "auto_shard_dataset must be True"),
    (lambda: dist.allreduce([1.0], op="max"), "op: expected 'sum' or 'mean'"),
    (lambda: dist.broadcast([1.0], root=1), r"root: expected a rank in \[0, 1\)"),
    (lambda: dist.initialize(job_addresses="10.0.0.1:1234"), "job_addresses is not used"),
    (lambda: dist.initialize(num_processes=2), "num_processes=2, but the launcher started 1"),
    (lambda: pydl.metrics.Mean().add_variable((), "zeros", aggregation="max"),
     "aggregation must be one of"),
])
def test_bad_arguments_are_named(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_set_distribution_takes_a_data_parallel_or_none():
    with pytest.raises(TypeError, match="expected a pydl.distribution.DataParallel or None"):
        dist.set_distribution("data_parallel")
    parallel = dist.DataParallel()
    with parallel.scope():
        assert dist.distribution() is parallel
    assert dist.distribution() is None
    assert parallel.num_model_replicas == 1
    assert dist.allreduce(np.array([1, 2], np.int32)).dtype == np.int32
    assert dist.allreduce(np.array([1, 2]), op="mean").dtype == np.float64


@pytest.mark.parametrize("counts, batch, auto", [
    ([25, 25], 8, True), ([26, 26], 8, True), ([7, 7, 7], 2, True), ([9, 9], 16, True),
    ([15, 8], 8, False), ([1, 30, 4], 5, False), ([10, 10], 3, False),
])
def test_every_sample_once_per_epoch_in_global_batches(counts, batch, auto):
    total = counts[0] if auto else sum(counts)
    steps = -(-total // batch)
    per_rank = [Shards(counts, batch, steps, r, auto) for r in range(len(counts))]
    schedule = per_rank[0]
    assert schedule.global_sizes.sum() == total
    assert np.array_equal(schedule.sizes_by_rank.sum(axis=0), schedule.global_sizes)
    if auto:
        assert (schedule.global_sizes[:-1] == batch).all()
        positions = np.concatenate([s.positions() for s in per_rank])
        assert np.array_equal(np.sort(positions), np.arange(total))  # no padding, no drop
        # each rank's rows of step k: a contiguous slice of the global batch, in rank order
        for k in range(steps):
            starts = [s.data_ranges()[k] for s in per_rank]
            flat = [i for start, size in starts for i in range(start, start + size)]
            assert flat == list(range(k * batch, k * batch + schedule.global_sizes[k]))
    else:
        assert (np.abs(schedule.global_sizes - batch)[:-1] < len(counts)).all()
        for r, s in enumerate(per_rank):
            assert s.local_rows == counts[r]
            assert s.data_ranges()[-1][0] + s.data_ranges()[-1][1] == counts[r]


def test_launcher_variables():
    env = {"SLURM_STEP_TASKS_PER_NODE": "2(x3),1", "SLURM_NODEID": "3",
           "SLURM_STEP_NUM_TASKS": "7"}
    old = {k: os.environ.get(k) for k in list(env) + ["SLURM_CPUS_PER_TASK"]}
    try:
        os.environ.update(env)
        os.environ.pop("SLURM_CPUS_PER_TASK", None)
        assert launcher.world_size_from_env() == (7, "SLURM_STEP_NUM_TASKS")
        assert launcher._slurm_tasks_on_node() == 1
        os.environ["SLURM_CPUS_PER_TASK"] = "3"
        assert launcher.threads_from_launcher() == 3
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    assert launcher.default_threads(2, cores=16) == 8
    assert launcher.default_threads(3, cores=2) == 1
