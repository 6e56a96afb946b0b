"""A process killed in the middle of model.save leaves the previous file loadable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np

import pydl

from helpers import small_data, small_model

CHILD = textwrap.dedent("""
    import os, sys, time, zipfile
    import numpy as np
    import pydl
    path = sys.argv[1]
    model = pydl.Sequential([pydl.Input(shape=(8,)), pydl.layers.Dense(2000),
                             pydl.layers.Dense(2000)])
    model.compile(optimizer="adam", loss="mse")
    # Slow every archive write down so the parent can kill us mid-save.
    original = zipfile.ZipFile.writestr
    def slow_writestr(self, *args, **kwargs):
        print("writing", flush=True)
        time.sleep(0.5)
        return original(self, *args, **kwargs)
    zipfile.ZipFile.writestr = slow_writestr
    model.save(path)
    print("done", flush=True)
""")


def test_killed_save_leaves_previous_file_intact(tmp_path):
    path = tmp_path / "model.pydl"
    model = small_model()
    x, _ = small_data(32)
    model.save(path)
    before = path.read_bytes()
    expected = model.predict(x, verbose=0)

    with subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                          text=True, cwd=tmp_path) as proc:  # cwd: see test_config.run_python
        try:
            line = proc.stdout.readline()
            assert line.strip() == "writing", f"child did not start writing: {line!r}"
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    assert path.read_bytes() == before
    restored = pydl.models.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), expected)
