#!/usr/bin/env bash
# Configures and builds quant with Ninja (and ccache when present).
# Usage: scripts/build.sh [build-dir]   (default: build/, or $QUANT_BUILD_DIR)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-${QUANT_BUILD_DIR:-$root/build}}

cmake -G Ninja -S "$root" -B "$build" \
  -DCMAKE_BUILD_TYPE=Release \
  -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
  -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit >/dev/null
cmake --build "$build"
