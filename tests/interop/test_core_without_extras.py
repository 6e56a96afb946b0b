"""The core needs only NumPy: ``import pydl`` and the everyday API work in a process where
every non-standard-library package but NumPy is blocked; each extra's feature then raises
an ImportError naming its extra. Reading a Keras .keras file needs no extra at all."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import pydl
from pydl import layers

SCRIPT = textwrap.dedent('''
    import importlib.abc
    import sys

    ALLOWED = set(sys.stdlib_module_names) | {"numpy", "pydl"}

    class OnlyNumpy(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            top = name.split(".")[0]
            if top in ALLOWED or top.startswith("_"):
                return None
            raise ImportError(f"blocked for this test: {name}")

    sys.meta_path.insert(0, OnlyNumpy())

    import numpy as np
    import pydl

    model = pydl.Sequential([pydl.Input(shape=(4,)), pydl.layers.Dense(3, activation="relu"),
                             pydl.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = np.random.default_rng(0).standard_normal((32, 4)).astype("float32")
    model.fit(x, np.arange(32) % 2, epochs=1, verbose=0)
    model.save(sys.argv[1] + "/m.pydl")
    pydl.models.load_model(sys.argv[1] + "/m.pydl")
    keras_model = pydl.models.load_model(sys.argv[2])          # no h5py needed to read
    assert keras_model.predict(x, verbose=0).shape == (32, 2)
    for what, call in [
            ("pydl[h5]", lambda: model.save(sys.argv[1] + "/m.keras")),
            ("pydl[onnx]", lambda: model.export(sys.argv[1] + "/m.onnx", format="onnx")),
            ("pydl[tensorboard]", lambda: pydl.callbacks.TensorBoard()),
            ("pydl[sklearn]", lambda: pydl.wrappers.SKLearnClassifier(model))]:
        try:
            call()
        except ImportError as exc:
            assert what in str(exc), (what, str(exc))
        else:
            raise AssertionError(f"{what}: no ImportError")
    blocked = [m for m in ("h5py", "onnx", "tensorboardX", "sklearn", "keras", "scipy")
               if m in sys.modules]
    assert not blocked, blocked
    print("core-ok")
''')


def test_core_runs_with_numpy_only(tmp_path):
    pytest.importorskip("h5py")
    model = pydl.Sequential([pydl.Input(shape=(4,)), layers.Dense(2, activation="softmax")])
    model.save(tmp_path / "k.keras")
    script = tmp_path / "only_numpy.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, PYTHONWARNINGS="error")
    result = subprocess.run([sys.executable, str(script), str(tmp_path), str(tmp_path / "k.keras")],
                            capture_output=True, text=True, timeout=120, env=env,
                            cwd=str(tmp_path))
    assert result.returncode == 0 and "core-ok" in result.stdout, result.stderr[-3000:]


def test_no_module_level_import_of_an_extra():
    """Static check: the extras are imported inside functions only, never at module level."""
    import ast
    import pathlib

    extras = {"h5py", "onnx", "onnxruntime", "tensorboardX", "tensorboard", "sklearn", "keras"}
    root = pathlib.Path(pydl.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in tree.body:
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(root)}: {n}" for n in names
                          if n.split(".")[0] in extras]
    assert not offenders, offenders
