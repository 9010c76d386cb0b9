#!/usr/bin/env bash
# The README's test command: install what is missing, build from scratch (Release), run every test.
#   bash scripts/test.sh            # from the repository root
# Environment: CMAKE_PREFIX_PATH selects another LibTorch; BUILD_DIR (default build) the build folder.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

build=${BUILD_DIR:-build}
jobs=$(nproc)
rm -rf "$build"
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs"
echo "[test] clean build took $(( $(date +%s) - start )) s"
ctest --test-dir "$build" --output-on-failure -j "$jobs"
