#!/usr/bin/env bash
# One machine checking what many would: the kernel, model and training tests once for each
# OpenBLAS kernel (OPENBLAS_CORETYPE: Prescott, Haswell, SkylakeX, those this CPU can run) and
# each instruction set of attn's own kernels (ATTN_KERNEL_ISA: avx512, avx2, generic, those this
# CPU has; below avx512 oneDNN too is held to AVX2, so that bfloat16 products are emulated), the
# large float32 products through oneDNN in the widest ISA's runs and through the BLAS in the others. A test that holds for one BLAS kernel's summation order only, or for one ISA, fails
# here on any machine, not just on the machine that has that kernel.
#
#   bash scripts/test_portability.sh          # every pair of BLAS kernel and ISA
#   bash scripts/test_portability.sh --ci     # each BLAS kernel with the widest ISA, and each
#                                             # other ISA with the default kernel (what CI runs)
# Needs a build with the tests (scripts/test.sh or scripts/build.sh); BUILD_DIR selects it.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=all
case "${1:-}" in
  "") ;;
  --ci) mode=ci ;;
  *) echo "test_portability.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
esac
tests=${BUILD_DIR:-build}/tests/attn_tests
[ -x "$tests" ] || { echo "test_portability.sh: no test binary at $tests; build first: bash scripts/build.sh" >&2; exit 1; }

# The test files whose assertions depend on floating-point products and sums: every kernel
# (fused or blocked, attn's own or LibTorch's through them), the modules, the models, decoding
# and the optimizer; then the training loop (test_cli: train, eval, predict, and the bit-exact
# resume; test_checkpoint, test_crash_safety: resumes after kills and damaged files).
kernel_files=(
  test_attention test_multi_head_attention test_fused_attention test_fused_ffn test_fused_add_norm
  test_blocked_linear test_gradient_rows test_row_loops test_dropout test_embedding_lookup
  test_set_max_pool test_fused_adamw test_parallel_guided test_layers test_models test_decoding
  test_few_rows_linear test_bf16
)
training_files=(test_cli test_checkpoint test_crash_safety test_compat)
# Of those, the cases tagged [errors], [help] or [safety] check messages, exit codes and files on
# disk, and those tagged [data] how files are read: not numbers, which no BLAS kernel or ISA
# changes; the main test pass runs them.
not_numeric='~[errors]~[help]~[safety]~[data]'
selection() { local s; s=$(printf "[#%s]$not_numeric," "$@"); echo "${s%,}"; }

flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
has() { for f in "$@"; do [[ $flags == *" $f "* ]] || return 1; done; }
cores=(Prescott)
isas=()
if has avx2 fma; then cores+=(Haswell); fi
if has avx512f avx512cd avx512bw avx512dq avx512vl; then cores+=(SkylakeX); isas+=(avx512); fi
if has avx2 fma; then isas+=(avx2); fi
isas+=(generic)

# Each run: "CORE ISA FILES", FILES "training" or "kernels"; the training runs (the long ones)
# first, so that the short ones fill the cores at the end.
runs=()
if [ "$mode" = all ]; then
  for c in "${cores[@]}"; do for i in "${isas[@]}"; do runs+=("$c $i training"); done; done
  for c in "${cores[@]}"; do for i in "${isas[@]}"; do runs+=("$c $i kernels"); done; done
else  # CI: ~1.5 minutes on 2 cores. The ISA changes attn's kernels only; test_checkpoint's and
      # test_crash_safety's resumes run in the main test pass on this machine's own kernel.
  training_files=(test_cli)
  for c in "${cores[@]}"; do runs+=("$c ${isas[0]} training"); done
  for c in "${cores[@]}"; do runs+=("$c ${isas[0]} kernels"); done
  for i in "${isas[@]:1}"; do runs+=("default $i kernels"); done
fi

echo "[portability] BLAS kernels: ${cores[*]} | ISAs: ${isas[*]} | ${#runs[@]} runs"
# Two runs at a time: in the training cases most of the time is attn processes of one thread that
# the test waits for, which leaves a core idle; OMP_WAIT_POLICY=passive so that neither run's
# waiting threads spin on the other's cores (tests/CMakeLists.txt says why). PORTABILITY_JOBS=1:
# one at a time.
jobs=${PORTABILITY_JOBS:-2}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
run_one() {  # the run at index $1: its log, status and seconds into $logs
  local i=$1 core isa which spec start
  read -r core isa which <<<"${runs[$i]}"
  start=$(date +%s)
  local envs=(OMP_WAIT_POLICY=passive ATTN_KERNEL_ISA="$isa")
  # Below AVX-512, oneDNN has no bfloat16 kernels: precision "bf16" is emulated (onednn_gemm.h).
  [ "$isa" != avx512 ] && envs+=(ONEDNN_MAX_CPU_ISA=AVX2)
  # The large float32 products: through oneDNN in the widest ISA's runs, the BLAS in the others,
  # whichever this CPU would pick itself (kernels::onednn_fp32_products).
  if [ "$isa" = "${isas[0]}" ]; then envs+=(ATTN_FP32_PRODUCTS=onednn); else envs+=(ATTN_FP32_PRODUCTS=openblas); fi
  [ "$core" != default ] && envs+=(OPENBLAS_CORETYPE="$core")
  if [ "$which" = training ]; then spec=$(selection "${training_files[@]}")
  else spec=$(selection "${kernel_files[@]}"); fi
  if env "${envs[@]}" "$tests" -# "$spec" --warn NoTests --use-colour no >"$logs/$i.log" 2>&1; then
    echo ok >"$logs/$i.status"
  else
    echo FAILED >"$logs/$i.status"
  fi
  echo $(( $(date +%s) - start )) >"$logs/$i.seconds"
}
running=0
for i in "${!runs[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi  # whichever ends first
  run_one "$i" &
  running=$((running + 1))
done
wait
failed=()
for i in "${!runs[@]}"; do
  read -r core isa which <<<"${runs[$i]}"
  what="OPENBLAS_CORETYPE=$core ATTN_KERNEL_ISA=$isa (float32 products: $([ "$isa" = "${isas[0]}" ] && echo onednn || echo openblas)), $which tests"
  log=$logs/$i.log
  if [ "$(cat "$logs/$i.status" 2>/dev/null)" = ok ]; then
    echo "[portability] $what: ok ($(grep -E '^All tests passed' "$log" | tail -n 1); $(cat "$logs/$i.seconds") s)"
  else
    echo "[portability] $what: FAILED" >&2
    grep -B2 -A12 -E 'FAILED' "$log" | head -n 80 >&2
    tail -n 3 "$log" >&2
    failed+=("$core/$isa")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "[portability] failed for: ${failed[*]}" >&2
  exit 1
fi
echo "[portability] all ${#runs[@]} runs passed"
