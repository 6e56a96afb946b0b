#!/usr/bin/env bash
# Builds pydl with its thread pool switched off (PYDL_THREADS=OFF: the serial
# core, no threads library at all) and runs the suite against it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pydl-serial.XXXXXX")
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
"$python" -m venv "$work/env"
"$work/env/bin/python" -m pip install -q "$repo[test]" -Ccmake.define.PYDL_THREADS=OFF
# The tests, and what some of them run: the benchmark harness and the examples.
for dir in tests benchmarks examples; do cp -r "$repo/$dir" "$work/$dir"; done
cp "$repo/pyproject.toml" "$work/pyproject.toml"
cd "$work"
"$work/env/bin/python" -c "import pydl; c = pydl.show_config(); assert c['threading'] == 'serial' and c['threads'] == 1 and c['openmp'] is False, c"
"$work/env/bin/python" -m pytest -q -p no:cacheprovider tests "$@"
