#!/usr/bin/env bash
# attn against the lecture notebook re-run in Python (../shared/bench/notebook_baseline.py), on
# this machine, in one invocation:
#   1. training step of the notebook's model (batch 164 x 200, vocabulary 50,002): samples/s
#      of attn and of the Python baseline, same thread count, warm-up excluded, the median of
#      --repeats runs each, and their ratio; and attn again with ATTN_SKIP_ZERO_ROWS=0 (every row
#      through the backward products: how much of the gain is the kernels, how much the rows
#      that max-pooling leaves without a gradient, attn/ops/gradient_rows.h);
#   2. the same for evaluation (the forward pass);
#   1 and 2 run twice: each program at its own default BLAS kernel (OPENBLAS_CORETYPE unset:
#      attn runs the best one this CPU has, Python whatever OpenBLAS picks, which on a CPU newer
#      than OpenBLAS's table is its generic Prescott kernel: what users get), then both on the
#      same kernel (OPENBLAS_CORETYPE=the one attn chose, or --blas-core: the kernels' own share);
#   3. attention alone (multi-head self-attention, projections included), forward + backward,
#      t = 256 ... 32,768, batch 1, d_model 32 / 2 heads and 256 / 8 heads: time, GFLOP/s and
#      peak RSS of the fused kernel and of the reference path (skipped where its t x t tensors
#      would not fit in memory), one process per point so that peak RSS is that point's;
#   4. the machine's float32 matmul rate, against which the GFLOP/s are read;
#   5. the translation model (configs/multi30k_de_en.json, a batch of 64 x 100 -> 100 tokens)
#      against ../shared/bench/seq2seq_baseline.py (nn.Transformer, the same parameters):
#      training step, evaluation, and cached greedy decoding of 16 sentences to 32 and 64 tokens,
#      both on the same BLAS kernel, attn and Python alternated; attn's beam 5 decoding too
#      (the baseline has none). --no-seq2seq leaves them out, --seq2seq-only runs only them.
#      --precision bf16: attn with config.precision "bf16"; the baseline's training step under
#      torch.autocast("cpu", dtype=torch.bfloat16) (its products through the same oneDNN), its
#      evaluation and decoding in float32 (PyTorch 1.13's inference fast path for
#      nn.TransformerEncoder refuses autocast: "expected scalar type BFloat16 but found Float").
# Prints a table and writes everything as JSON (--out).
#
#   bash scripts/bench.sh [--threads 2] [--steps 20] [--repeats 3] [--max-t 32768]
#                         [--imdb DIR] [--out runs/bench.json] [--no-python] [--blas-core NAME]
#                         [--no-seq2seq | --seq2seq-only] [--seq2seq-steps 8] [--precision fp32|bf16]
# Needs a build (scripts/build.sh) and, for the baseline, Debian's python3-torch
# (ATTN_SETUP_EXTRA=python3-torch bash scripts/setup.sh) and the IMDB data (unpacked from
# ../shared/data when --imdb is not given). Takes about 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

threads=2 steps=20 repeats=3 max_t=32768 imdb="" out=runs/bench.json python=1 blas_core="" seq2seq=1 s2s_steps=8 notebook=1 precision=fp32
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --max-t) max_t=$2; shift 2 ;;
    --imdb) imdb=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-python) python=0; shift ;;
    --blas-core) blas_core=$2; shift 2 ;;
    --no-seq2seq) seq2seq=0; shift ;;
    --seq2seq-only) notebook=0; shift ;;
    --seq2seq-steps) s2s_steps=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    *) echo "bench.sh: unknown argument '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done

attn=${ATTN_BIN:-build/src/attn}
[ -x "$attn" ] || { echo "bench.sh: no binary at $attn; build first: bash scripts/build.sh" >&2; exit 1; }
baseline=../shared/bench/notebook_baseline.py
if [ "$python" = 1 ]; then
  /usr/bin/python3 -c 'import torch' 2>/dev/null || {
    echo "bench.sh: the baseline needs Debian's python3-torch: ATTN_SETUP_EXTRA=python3-torch bash scripts/setup.sh" >&2
    echo "          (or --no-python to time attn alone)" >&2; exit 1; }
  [ -f "$baseline" ] || { echo "bench.sh: $baseline is missing (../shared next to the repository)" >&2; exit 1; }
  if [ -z "$imdb" ] && [ "$notebook" = 1 ]; then
    imdb=/tmp/attn-data/aclImdb
    if [ ! -d "$imdb/train" ]; then
      echo "[bench] unpacking IMDB to /tmp/attn-data"
      mkdir -p /tmp/attn-data && tar -xzf ../shared/data/aclImdb_labeled.tar.gz -C /tmp/attn-data
    fi
  fi
fi
mkdir -p "$(dirname "$out")"
raw=$(mktemp -d)
trap 'rm -rf "$raw"' EXIT
# Both programs run with OpenMP's defaults, as users run them (the runs never overlap, so idle
# threads spinning between parallel regions disturb no one). OMP_WAIT_POLICY=PASSIVE, which this
# script once set, put them to sleep between regions: ~1.3 ms per training step for attn (dozens
# of parallel regions a step), nothing measurable for the Python run.
unset OMP_WAIT_POLICY

unset OPENBLAS_CORETYPE
echo "[bench] matmul rate"
"$attn" bench matmul --threads "$threads" --json | tail -n 1 >"$raw/matmul.json"
[ -n "$blas_core" ] || blas_core=$(/usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["blas_core"])' <"$raw/matmul.json")

# Pass "default": each program's own BLAS kernel; pass "same": both on $blas_core.
if [ "$notebook" = 1 ]; then  # the notebook's step (1, 2)
for pass in default same; do
  if [ "$pass" = same ]; then
    [ -n "$blas_core" ] || { echo "[bench] not OpenBLAS: no second pass on a forced kernel"; break; }
    export OPENBLAS_CORETYPE=$blas_core
  fi
  if [ "$python" = 1 ]; then  # the kernel the Python process runs (OpenBLAS under Debian's python3-torch)
    /usr/bin/python3 -c 'import torch, ctypes
f = ctypes.CDLL("libopenblas.so.0").openblas_get_corename; f.restype = ctypes.c_char_p; print(f().decode())' \
      >"$raw/python_blas_$pass.txt" 2>/dev/null || echo "unknown" >"$raw/python_blas_$pass.txt"
  fi
  for mode in train eval; do
    for r in $(seq "$repeats"); do
      echo "[bench] $mode ($pass BLAS kernel), run $r of $repeats: attn"
      "$attn" bench "$mode" --config configs/imdb_notebook.json --steps "$steps" --threads "$threads" --json |
        tail -n 1 >>"$raw/attn_${mode}_$pass.jsonl"
      if [ "$mode" = train ] && [ "$pass" = default ]; then  # the same with every row through the backward products
        echo "[bench] $mode, run $r of $repeats: attn, every row (ATTN_SKIP_ZERO_ROWS=0)"
        ATTN_SKIP_ZERO_ROWS=0 "$attn" bench train --config configs/imdb_notebook.json --steps "$steps" \
          --threads "$threads" --json | tail -n 1 >>"$raw/attn_train_every_row_$pass.jsonl"
      fi
      if [ "$python" = 1 ]; then
        echo "[bench] $mode ($pass BLAS kernel), run $r of $repeats: notebook_baseline.py"
        /usr/bin/python3 "$baseline" --imdb "$imdb" --steps "$steps" --threads "$threads" --mode "$mode" |
          tail -n 1 >>"$raw/python_${mode}_$pass.jsonl"
      fi
    done
  done
done
fi
unset OPENBLAS_CORETYPE

if [ "$seq2seq" = 1 ]; then  # the translation model, both programs on the same BLAS kernel
  [ -n "$blas_core" ] && export OPENBLAS_CORETYPE=$blas_core
  s2s_config=configs/multi30k_de_en.json s2s_baseline=../shared/bench/seq2seq_baseline.py
  s2s_set=(--set "precision=$precision") s2s_python=(/usr/bin/python3 "$s2s_baseline") s2s_train=("${s2s_python[@]}")
  if [ "$precision" = bf16 ]; then  # the baseline's training step as it is, under autocast to bfloat16
    s2s_train=(/usr/bin/python3 -c 'import runpy, sys, torch
sys.argv = sys.argv[1:]
with torch.autocast("cpu", dtype=torch.bfloat16):
    runpy.run_path(sys.argv[0], run_name="__main__")' "$s2s_baseline")
  fi
  for r in $(seq "$repeats"); do
    for mode in train eval; do
      echo "[bench] seq2seq $mode, run $r of $repeats: attn"
      "$attn" bench "$mode" --config "$s2s_config" "${s2s_set[@]}" --steps "$s2s_steps" --warmup 2 --threads "$threads" --json |
        tail -n 1 >>"$raw/s2s_attn_$mode.jsonl"
      if [ "$python" = 1 ]; then
        echo "[bench] seq2seq $mode, run $r of $repeats: seq2seq_baseline.py"
        py=("${s2s_python[@]}"); [ "$mode" = train ] && py=("${s2s_train[@]}")
        "${py[@]}" --config "$s2s_config" --mode "$mode" --steps "$s2s_steps" --warmup 2 \
          --threads "$threads" --json | tail -n 1 >>"$raw/s2s_python_$mode.jsonl"
      fi
    done
    echo "[bench] seq2seq cached greedy decoding, run $r of $repeats: attn"
    "$attn" bench decode --config "$s2s_config" "${s2s_set[@]}" --lengths 32,64 --batch 16 --repeats 3 --threads "$threads" \
      --cached-only --json | tail -n 1 >>"$raw/s2s_attn_decode.jsonl"
    if [ "$python" = 1 ]; then
      echo "[bench] seq2seq cached greedy decoding, run $r of $repeats: seq2seq_baseline.py"
      "${s2s_python[@]}" --config "$s2s_config" --mode decode --decode-variant cached --lengths 32,64 \
        --batch 16 --repeats 3 --threads "$threads" --json >>"$raw/s2s_python_decode.jsonl"
    fi
  done
  echo "[bench] seq2seq beam 5 decoding: attn"
  "$attn" bench decode --config "$s2s_config" "${s2s_set[@]}" --lengths 32,64 --batch 16 --beam 5 --repeats 3 --threads "$threads" \
    --cached-only --json | tail -n 1 >>"$raw/s2s_attn_beam.jsonl"
  unset OPENBLAS_CORETYPE
fi

if [ "$notebook" = 1 ]; then  # the attention sweep
mem_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
for shape in "32 2" "256 8"; do
  read -r d h <<<"$shape"
  t=256
  while [ "$t" -le "$max_t" ]; do
    reps=3 warm=1
    [ "$t" -ge 8192 ] && reps=1 warm=0
    for kernel in fused reference; do
      if [ "$kernel" = reference ]; then
        # The reference keeps about four (h, t, t) float tensors for backward.
        need_kb=$(( 4 * h * t * t * 4 / 1024 ))
        if [ "$need_kb" -gt $(( mem_kb * 3 / 4 )) ]; then
          echo "{\"length\": $t, \"d_model\": $d, \"heads\": $h, \"kernel\": \"reference\", \"skipped\": \"needs ~$(( need_kb / 1048576 )) GiB\"}" >>"$raw/attention.jsonl"
          continue
        fi
      fi
      echo "[bench] attention t=$t d_model $d heads $h: $kernel"
      "$attn" bench attention --length "$t" --d-model "$d" --heads "$h" --kernel "$kernel" --threads "$threads" \
        --repeats "$reps" --warmup "$warm" --json | tail -n 1 >>"$raw/attention.jsonl"
    done
    t=$(( t * 2 ))
  done
done
fi

/usr/bin/python3 - "$raw" "$out" "$threads" "$steps" "$repeats" "$precision" <<'EOF'
import json, os, statistics, sys, time, platform
raw, out, threads, steps, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
precision = sys.argv[6]
def lines(name):
    p = os.path.join(raw, name)
    return [json.loads(l) for l in open(p) if l.strip()] if os.path.exists(p) else []
mm = lines("matmul.json")[0]
report = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.processor() or platform.machine(),
          "threads": threads, "steps": steps, "repeats": repeats, "matmul_gflops": mm["gflops"], "steps_table": []}
report["blas"] = mm.get("blas", "")
report["precision"] = precision
print(f"\nattn vs notebook_baseline.py, {threads} threads, {steps} steps per run after 3 warm-up, median of {repeats} runs")
print(f"BLAS: attn's default {mm.get('blas', '?')}")
print(f"{'mode':15} {'BLAS attn / python':24} {'attn s/step':>12} {'attn samples/s':>15} {'python s/step':>14} {'python samples/s':>17} {'ratio':>7}")
for p_ in ("default", "same"):
    for mode in ("train", "train_every_row", "eval"):
        a = lines(f"attn_{mode}_{p_}.jsonl"); p = lines(f"python_{mode.split('_')[0]}_{p_}.jsonl")
        if not a: continue
        a_sec = statistics.median(r["sec_per_step_mean"] for r in a)   # mean per step of each run, as the baseline
        a_core = a[0]["blas"].split(" (")[0].split(" ")[-1]
        pf = os.path.join(raw, f"python_blas_{p_}.txt")
        p_core = open(pf).read().strip() if os.path.exists(pf) else "-"
        kernel = f"{a_core} / {p_core}" if p_ == "default" else f"both {a_core}"
        row = {"mode": mode, "blas_pass": p_, "attn_blas": a[0]["blas"], "python_blas": p_core, "attn_sec_per_step": a_sec,
               "attn_samples_per_sec": a[0]["batch"] / a_sec, "attn_runs": a, "isa": a[0]["isa"]}
        if p:
            p_sec = statistics.median(r["sec_per_step"] for r in p)
            row.update(python_sec_per_step=p_sec, python_samples_per_sec=p[0]["batch"] / p_sec,
                       ratio=p_sec / a_sec, python_runs=p)
        report["steps_table"].append(row)
        print(f"{mode:15} {kernel:24} {a_sec:12.4f} {row['attn_samples_per_sec']:15.1f} "
              + (f"{row['python_sec_per_step']:14.4f} {row['python_samples_per_sec']:17.1f} {row['ratio']:6.1f}x" if p else "  (no Python run)"))
att = lines("attention.jsonl")
report["attention"] = att
if att:
    print(f"\nattention forward + backward (batch 1; matmul rate {mm['gflops']:.0f} GFLOP/s on {threads} threads)")
    print(f"{'t':>6} {'d':>4} {'h':>2} | {'fused s':>9} {'GFLOP/s':>8} {'% mm':>5} {'RSS MB':>7} | {'reference s':>11} {'GFLOP/s':>8} {'RSS MB':>7}")
keys = sorted({(r["d_model"], r["heads"], r["length"]) for r in att})
for d, h, t in keys:
    f = next((r for r in att if (r["d_model"], r["heads"], r["length"], r["kernel"]) == (d, h, t, "fused")), None)
    g = next((r for r in att if (r["d_model"], r["heads"], r["length"], r["kernel"]) == (d, h, t, "reference")), None)
    fs = f"{f['sec']:9.4f} {f['gflops']:8.1f} {100 * f['gflops'] / mm['gflops']:4.0f}% {f['peak_rss_mb']:7.0f}" if f else " " * 33
    gs = ("skipped: " + g["skipped"]) if g and "skipped" in g else (f"{g['sec']:11.4f} {g['gflops']:8.1f} {g['peak_rss_mb']:7.0f}" if g else "")
    print(f"{t:6d} {d:4d} {h:2d} | {fs} | {gs}")
s2s = {m: (lines(f"s2s_attn_{m}.jsonl"), lines(f"s2s_python_{m}.jsonl")) for m in ("train", "eval", "decode", "beam")}
if s2s["train"][0]:
    # The training step's arithmetic, counted for this model and batch (docs/speed.md): ~331 GFLOP.
    print(f"\ntranslation model (configs/multi30k_de_en.json), both on one BLAS kernel, {threads} threads, median of {repeats}, precision {precision}")
    print(f"{'':28} {'attn s':>9} {'python s':>9} {'ratio':>7}")
    report["seq2seq"] = []
    for m in ("train", "eval"):
        a, p = s2s[m]
        a_sec = statistics.median(r["sec_per_step"] for r in a)
        p_sec = statistics.median(r["sec_per_step"] for r in p) if p else None
        report["seq2seq"].append({"mode": m, "attn_sec": a_sec, "python_sec": p_sec, "attn_runs": a, "python_runs": p})
        print(f"{m + ' step (64 x 100)':28} {a_sec:9.3f} " + (f"{p_sec:9.3f} {p_sec / a_sec:6.2f}x" if p_sec else ""))
    a, p = s2s["decode"]
    for length in (32, 64):
        a_sec = min(row["cached_sec"] for r in a for row in r["rows"] if row["length"] == length)
        p_sec = min((r["seconds"] for r in p if r.get("length") == length), default=None)
        report["seq2seq"].append({"mode": f"greedy_{length}", "attn_sec": a_sec, "python_sec": p_sec})
        print(f"{f'cached greedy, 16 x {length}':28} {a_sec:9.3f} " + (f"{p_sec:9.3f} {p_sec / a_sec:6.2f}x" if p_sec else ""))
    for r in s2s["beam"][0]:
        for row in r["rows"]:
            report["seq2seq"].append({"mode": f"beam5_{row['length']}", "attn_sec": row["cached_sec"]})
            print(f"{'beam 5, 16 x ' + str(row['length']):28} {row['cached_sec']:9.3f}    (no baseline)")
json.dump(report, open(out, "w"), indent=1)
print(f"\n[bench] written: {out}")
EOF
