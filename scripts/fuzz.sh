#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, AddressSanitizer + UndefinedBehaviorSanitizer) and runs
# each for SECONDS (default 600), two at a time, from the seed corpora in tests/fuzz/corpus.
#   bash scripts/fuzz.sh [SECONDS] [HARNESS ...]     # harnesses: config labelled imdb parallel
#                                                    #            tokenizer checkpoint state_dict (default: all)
# Findings (crash-*, leak-*, timeout-*) and the grown corpora go to runs/fuzz/<harness>/; the
# summary (executions per harness) to runs/fuzz/summary.txt. Exit 1 if any harness found something.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-600}
shift || true
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(config labelled imdb parallel tokenizer checkpoint state_dict)

ATTN_SETUP_EXTRA="${ATTN_SETUP_EXTRA:-} clang libclang-rt-14-dev" bash scripts/setup.sh
build=${FUZZ_BUILD_DIR:-build-fuzz}
# -O1 and line tables only, as OSS-Fuzz builds: stack traces name file and line, and the build
# takes a third less time than -O2 -g.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
  -DATTN_FUZZ=ON -DATTN_SANITIZE=address,undefined -DATTN_BUILD_TESTS=OFF >/dev/null
# The checkpoint harness first: its file (LibTorch's headers, without the library's precompiled
# header) is the longest to compile, and named first ninja starts it beside the library's files
# rather than alone at the end (151 -> ~135 s on 2 cores).
targets=()
for n in "${names[@]}"; do [ "$n" = checkpoint ] && targets=("fuzz_$n" "${targets[@]}") || targets+=("fuzz_$n"); done
# The checkpoint harness's seeds are checkpoints attn trains: the main build's attn where there is
# one (scripts/test.sh made it before CI gets here), else this build's.
seed_attn=${BUILD_DIR:-build}/src/attn
if [[ " ${names[*]} " == *" checkpoint "* && ! -x $seed_attn ]]; then
  targets+=(attn)
  seed_attn=$build/src/attn
fi
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}"

out=runs/fuzz
mkdir -p "$out"
# The checkpoint harness starts from real checkpoints (a v3 file, and the same archive without
# its checksum trailer, as formats 1-2 were): trained here in a second rather than committed.
if [[ " ${names[*]} " == *" checkpoint "* ]]; then
  seed=$out/checkpoint-seed
  rm -rf "$seed" && mkdir -p "$seed"
  cat >"$seed/tiny.json" <<'EOF'
{"data": {"kind": "majority", "set_size": 4, "symbols": 3, "train_size": 64, "valid_size": 16, "test_size": 16},
 "model": {"d_model": 4, "heads": 1, "ffn_hidden": 4, "layers": 1, "pooling": "mean"},
 "train": {"epochs": 1, "batch_size": 32}, "threads": 1}
EOF
  ASAN_OPTIONS=detect_leaks=0 "$seed_attn" train "$seed/tiny.json" --out "$seed/run" >/dev/null 2>&1
  mkdir -p "$out/checkpoint"
  cp "$seed/run/checkpoints/best.pt" "$out/checkpoint/v3.pt"
  head -c -20 "$seed/run/checkpoints/best.pt" >"$out/checkpoint/no_trailer.pt"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
# LibTorch's zip reader leaks its state when it refuses an archive: suppressed by its frames only
# (tests/fuzz/lsan.supp says which).
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
root=$PWD
build_abs=$(cd "$build" && pwd)  # FUZZ_BUILD_DIR may be relative or absolute
run_one() {
  local n=$1 dir=$out/$1
  mkdir -p "$dir/corpus"
  # The checkpoint harness reaches LibTorch's zip reader, whose leak lsan.supp names by frames
  # that only the full unwinder walks (LibTorch has no frame pointers): 2.5x fewer executions.
  local asan=$ASAN_OPTIONS
  [ "$n" = checkpoint ] && asan="$asan:fast_unwind_on_malloc=0"
  (cd "$dir" && ASAN_OPTIONS=$asan "$build_abs/tests/fuzz/fuzz_$n" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=8192 \
     -print_final_stats=1 corpus "$root/tests/fuzz/corpus/$n" $( [ "$n" = checkpoint ] && echo . ) \
     >"log.txt" 2>&1) && echo ok >"$dir/result" || echo FAILED >"$dir/result"
}
pids=()
for n in "${names[@]}"; do
  echo "[fuzz] $n for ${seconds}s"
  run_one "$n" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait

status=0
for n in "${names[@]}"; do  # (not inside the pipe below: a subshell's status would be lost)
  [ "$(cat "$out/$n/result" 2>/dev/null)" = ok ] || status=1
done
{
  printf "%-11s %8s %14s %8s  %s\n" harness seconds executions corpus result
  for n in "${names[@]}"; do
    log=$out/$n/log.txt
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1 || true)
    files=$(ls "$out/$n/corpus" 2>/dev/null | wc -l)
    result=$(cat "$out/$n/result" 2>/dev/null || echo missing)
    printf "%-11s %8s %14s %8s  %s\n" "$n" "$seconds" "${execs:-?}" "$files" "$result"
  done
} | tee "$out/summary.txt"
if [ $status -ne 0 ]; then
  echo "[fuzz] findings: see runs/fuzz/<harness>/log.txt and the crash-* / leak-* files next to it" >&2
fi
exit $status
