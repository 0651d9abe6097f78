#!/usr/bin/env bash
# Sets up, builds and runs every test: the lit suite (check-quant) and the
# GoogleTest unit tests (ctest). Usage: scripts/test.sh [build-dir]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-${QUANT_BUILD_DIR:-$root/build}}

bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$build"

echo "== lit (check-quant) =="
cmake --build "$build" --target check-quant

echo "== GoogleTest (ctest) =="
ctest --test-dir "$build" --output-on-failure
