"""examples/distributed_digits.py: 2 processes reach the test accuracy of 1 process."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from launch_ranks import TIMEOUT, launch

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples",
                       "distributed_digits.py")


def _accuracy(text: str, processes: int) -> float:
    found = re.findall(rf"digits on {processes} process\(es\): test loss [\d.]+, "
                       r"test accuracy ([\d.]+)", text)
    assert len(found) == 1, text  # printed by rank 0 only
    return float(found[0])


@pytest.mark.slow
def test_two_processes_reach_the_accuracy_of_one(tmp_path):
    pytest.importorskip("sklearn")
    env = dict(os.environ, PYDL_NUM_THREADS="1")
    single = subprocess.run([sys.executable, EXAMPLE, "--epochs", "15", "--verbose", "0"],
                            env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert single.returncode == 0, single.stderr
    done = launch("example", tmp_path)
    assert done.returncode == 0, done.stderr
    one, two = _accuracy(single.stdout, 1), _accuracy(done.stdout, 2)
    assert one >= 0.96
    assert abs(two - one) <= 1 / 359 + 1e-9  # at most one of the 359 test digits apart
