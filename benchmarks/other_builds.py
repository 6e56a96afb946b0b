"""Other pydl builds as competitors: ``--compare "LABEL=PYTHON [VAR=VALUE ...]"``.

Each spec names an interpreter with another pydl installed (main's venv, say) and,
optionally, environment variables for it (``OMP_WAIT_POLICY=passive``). Its pydl
runs in a child process (benchmarks/build_worker.py) that the driver asks for one
timed sample at a time, so that it is interleaved with every other competitor
under the same load. The child times itself; pipe overhead stays out.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent  # the benchmarks package


def _boot(worker: str) -> str:
    """The child's program: benchmarks.<worker>.main(). The child loads the `benchmarks`
    package from this checkout by its path, and takes `pydl` from its own interpreter's
    packages (an editable or a regular install): the checkout is never put on sys.path,
    where its pydl/ sources would shadow that build."""
    return ("import importlib.util, sys; "
            "spec = importlib.util.spec_from_file_location('benchmarks', "
            f"{str(ROOT / '__init__.py')!r}, submodule_search_locations=[{str(ROOT)!r}]); "
            "module = importlib.util.module_from_spec(spec); sys.modules['benchmarks'] = module; "
            "spec.loader.exec_module(module); "
            f"from benchmarks.{worker} import main; main()")


@dataclass
class BuildSpec:
    label: str
    python: str
    env: dict = field(default_factory=dict)


def parse_spec(text: str) -> BuildSpec:
    """"LABEL=PYTHON [VAR=VALUE ...]" or just "PYTHON" (labelled by its venv folder)."""
    words = shlex.split(text)
    if not words:
        raise ValueError(f"--compare: expected 'LABEL=PYTHON [VAR=VALUE ...]', received {text!r}")
    first, rest = words[0], words[1:]
    label, sep, python = first.partition("=")
    if not sep:
        python = first
        parts = Path(python).parts
        label = parts[-3] if len(parts) >= 3 and parts[-2] == "bin" else Path(python).name
    env = {}
    for word in rest:
        var, sep, value = word.partition("=")
        if not sep or not var:
            raise ValueError(f"--compare: expected VAR=VALUE after the interpreter, received "
                             f"{word!r} in {text!r}")
        env[var] = value
    if not Path(python).exists():
        raise ValueError(f"--compare: no interpreter at {python!r} (in {text!r})")
    return BuildSpec(label, python, env)


class OtherBuild:
    """A pydl build in a child interpreter, driven one request at a time.

    worker, name: another worker module of this package speaking the same protocol
    (benchmarks/keras_tf_worker.py: Keras on TensorFlow) and its competitor name."""

    def __init__(self, spec: BuildSpec, worker: str = "build_worker", name: str | None = None):
        self.spec = spec
        self.name = name or f"pydl@{spec.label}"
        self._cwd = tempfile.mkdtemp(prefix="pydl-bench-")  # nothing to shadow packages
        env = dict(os.environ, **spec.env)
        self._proc = subprocess.Popen([spec.python, "-c", _boot(worker)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, text=True, cwd=self._cwd, env=env)

    def request(self, **request) -> dict:
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name}: the worker exited (code {self._proc.poll()})")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(f"{self.name}: {reply['error']}")
        return reply

    def config(self) -> dict:
        return self.request(op="config")["config"]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if not stream.closed:
                stream.close()
        shutil.rmtree(self._cwd, ignore_errors=True)


class RemoteCompetitor:
    """One subject of another build, as a competitor of timing.interleaved: calling
    it runs one call there; `sample(calls)` times `calls` calls there (seconds per
    call), so pipe overhead stays out of the numbers."""

    def __init__(self, build: OtherBuild, request: dict):
        self.build = build
        self.setup = build.request(**request)  # builds the subject and warms it up

    def __call__(self):
        return self.build.request(op="sample", calls=1)["result"]

    def sample(self, calls: int) -> float:
        return self.build.request(op="sample", calls=calls)["seconds"]


def remote_makers(run, request: dict) -> dict:
    """name -> maker of a RemoteCompetitor for every other build of the run."""
    return {build.name: (lambda build=build: RemoteCompetitor(build, request))
            for build in getattr(run, "others", [])}


def other_names(run) -> list:
    return [build.name for build in getattr(run, "others", [])]
