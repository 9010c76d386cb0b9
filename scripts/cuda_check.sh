#!/usr/bin/env bash
# The CUDA checks, on a machine with an NVIDIA GPU and a CUDA build of LibTorch (by default the
# one inside the pip torch that `python3` imports): builds attn against it in build-cuda/, then
#   1. the hidden [cuda] tests (tests/test_cuda.cpp: SDPA and reference attention, models and
#      AdamW on CUDA against the CPU, a CUDA run resumed and evaluated on the CPU);
#   2. the training and evaluation benchmarks on the GPU;
#   3. the whole test suite (ctest) on that LibTorch.
# CI never runs this (it has no GPU); the Debian build is scripts/test.sh.
#
#   bash scripts/cuda_check.sh [REPORT_DIR]          logs go to REPORT_DIR (default build-cuda/report)
# Environment:
#   ATTN_TORCH_PREFIX  LibTorch's CMake prefix (default: torch.utils.cmake_prefix_path)
#   ATTN_DEPS_PREFIX   a prefix holding what the system lacks: CLI11, spdlog + fmt, nlohmann_json,
#                      Catch2 2.x, sentencepiece, zlib, gloo headers (gloo-include/), pkg-config
#                      (bin/) and run-time libraries (rt/); laid out as under /usr
#   ATTN_SKIP_BENCH=1, ATTN_SKIP_CTEST=1  skip step 2, step 3
set -uo pipefail
cd "$(dirname "$0")/.."
report=${1:-build-cuda/report}
mkdir -p "$report"
report=$(cd "$report" && pwd)
log() { echo "== $(date +%T) $*"; }

torch_prefix=${ATTN_TORCH_PREFIX:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
[ -d "$torch_prefix" ] || { echo "cuda_check: no LibTorch CMake prefix at '$torch_prefix' (set ATTN_TORCH_PREFIX)" >&2; exit 2; }
torch_root=$(cd "$torch_prefix/../.." && pwd)  # .../site-packages/torch
prefix_path="$torch_prefix"
cxx_flags=""
prepend=""
if [ -n "${ATTN_DEPS_PREFIX:-}" ]; then
  deps=$(cd "$ATTN_DEPS_PREFIX" && pwd)
  prefix_path="$prefix_path;$deps"
  export PATH="$deps/bin:$PATH" LD_LIBRARY_PATH="$deps/rt:${LD_LIBRARY_PATH:-}" ZLIB_ROOT="$deps"
  mkdir -p build-cuda/pkgconfig
  for pc in "$deps"/lib/x86_64-linux-gnu/pkgconfig/*.pc; do
    sed "s|^prefix=.*|prefix=$deps|" "$pc" >"build-cuda/pkgconfig/$(basename "$pc")"
  done
  export PKG_CONFIG_PATH="$PWD/build-cuda/pkgconfig"
  # ProcessGroupGloo.hpp needs gloo's headers; pip's torch may not ship them.
  [ -d "$torch_root/include/gloo" ] || cxx_flags="-isystem $deps/gloo-include"
  # spdlog's fmt (9) before the fmt (12) inside pip's LibTorch include directory
  prepend="$deps/include"
fi
[ -d /usr/local/cuda/bin ] && export PATH="/usr/local/cuda/bin:$PATH"

log "LibTorch at $torch_root; $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -1)"
log "configure"
cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DATTN_USE_CCACHE=OFF \
  -DCMAKE_PREFIX_PATH="$prefix_path" -DCMAKE_CXX_FLAGS="$cxx_flags" -DATTN_PREPEND_INCLUDES="$prepend" >"$report/configure.log" 2>&1 \
  || { tail -40 "$report/configure.log"; exit 1; }
grep -E "attn: LibTorch|CUDA|Caffe2" "$report/configure.log" | head -8
log "build"
start=$(date +%s)
if ! cmake --build build-cuda -j "$(nproc)" -- -k 0 >"$report/build.log" 2>&1; then
  grep -E "^FAILED" "$report/build.log"; grep -E -A3 "error" "$report/build.log" | head -60
  exit 1
fi
log "built in $(($(date +%s) - start)) s"
build-cuda/src/attn --version

status=0
log "1. [cuda] tests"
build-cuda/tests/attn_tests "[cuda]" --durations yes 2>&1 | tee "$report/cuda_tests.log" | tail -40
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

if [ "${ATTN_SKIP_BENCH:-0}" != 1 ]; then
  log "2. benchmarks on the GPU"
  for cfg in imdb_notebook imdb multi30k_de_en; do
    for what in train eval; do
      build-cuda/src/attn bench $what --config configs/$cfg.json --device cuda --steps 30 --json 2>&1 \
        | tee -a "$report/bench.log" | tail -1
    done
  done
fi

if [ "${ATTN_SKIP_CTEST:-0}" != 1 ]; then
  log "3. the whole suite (ctest)"
  ctest --test-dir build-cuda -j "$(nproc)" --timeout 600 --output-on-failure >"$report/ctest.log" 2>&1 || status=1
  grep -E "tests passed|tests failed|\*\*\*Failed|Timeout|Not Run" "$report/ctest.log" | head -40
fi
log "done, status $status"
exit $status
