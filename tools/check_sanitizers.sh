#!/usr/bin/env bash
# Builds the core with AddressSanitizer + UndefinedBehaviorSanitizer
# (PYDL_SANITIZE=ON) and runs the kernel tests (tests/core, tests/test_config.py
# and the property tests) against it. Python itself is not instrumented, so the
# ASan runtime is preloaded; leak checking is off because CPython keeps
# allocations alive at exit by design.
#
#   bash tools/check_sanitizers.sh [extra pytest args]
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pydl-asan.XXXXXX")
trap 'rm -rf "$work"' EXIT
python=${PYTHON:-python3}
"$python" -m venv "$work/env"
"$work/env/bin/python" -m pip install -q "$repo[test]" -Ccmake.define.PYDL_SANITIZE=ON \
    -Ccmake.build-type=RelWithDebInfo
cp -r "$repo/tests" "$work/tests"
cp "$repo/pyproject.toml" "$work/pyproject.toml"
cd "$work"
libasan=$(g++ -print-file-name=libasan.so)
libubsan=$(g++ -print-file-name=libubsan.so)
targets=(tests/test_config.py)
for t in tests/core tests/property; do [ -e "$t" ] && targets+=("$t"); done
LD_PRELOAD="$libasan:$libubsan" \
ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$work/env/bin/python" -m pytest -q -p no:cacheprovider "${targets[@]}" "$@"
