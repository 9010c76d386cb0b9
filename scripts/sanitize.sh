#!/usr/bin/env bash
# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (gcc), in build-sanitize/.
#   bash scripts/sanitize.sh [ctest arguments...]
# Tests that load the sentencepiece plugin are left out: the plugin needs dlopen(RTLD_DEEPBIND)
# (see README), which the sanitizer runtime refuses. LibTorch itself is not instrumented, so
# this checks attn's code, and LibTorch's leaks are not reported (detect_leaks=0).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
build=${SANITIZE_BUILD_DIR:-build-sanitize}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DATTN_SANITIZE=address,undefined >/dev/null
start=$(date +%s)
cmake --build "$build" -j "$(nproc)"
echo "[sanitize] build took $(( $(date +%s) - start )) s"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
start=$(date +%s)
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" -E "sentencepiece" "$@"
echo "[sanitize] tests took $(( $(date +%s) - start )) s"
