#!/usr/bin/env bash
# Install what is missing and build attn (Release) into build/, reusing an existing build folder.
#   bash scripts/build.sh && build/src/attn --version     # everything: attn and the tests
#   bash scripts/build.sh attn                            # the attn binary alone (what run.sh needs)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build=${BUILD_DIR:-build}
targets=()
for t in "$@"; do targets+=(--target "$t"); done
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$(nproc)" "${targets[@]}"
