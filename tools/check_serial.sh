#!/usr/bin/env bash
# Builds pydl with OpenMP switched off (PYDL_OPENMP=OFF: the serial core that a
# compiler without OpenMP gets) and runs the suite against it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pydl-serial.XXXXXX")
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
"$python" -m venv "$work/env"
"$work/env/bin/python" -m pip install -q "$repo[test]" -Ccmake.define.PYDL_OPENMP=OFF
cp -r "$repo/tests" "$work/tests"
cp -r "$repo/benchmarks" "$work/benchmarks"   # the harness tests run it
cp "$repo/pyproject.toml" "$work/pyproject.toml"
cd "$work"
"$work/env/bin/python" -c "import pydl; c = pydl.show_config(); assert c['openmp'] is False, c"
"$work/env/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
