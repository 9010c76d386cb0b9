#!/usr/bin/env bash
# Data-parallel overhead on one host: 1 process x T threads against T processes x 1 thread
# (attn launch), on the notebook's IMDB model and on a 4-layer d_model 256 model, with the same
# global batch. Prints steps/s, samples/s and the time in collectives per step; writes
# runs/bench_dist.json.
#   bash scripts/bench_dist.sh [--steps 40] [--threads 2] [--data data/aclImdb]
# Needs a build (scripts/build.sh) and the IMDB data. Run it on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."

steps=40
threads=2
data=data/aclImdb
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    *) echo "bench_dist.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
attn=${ATTN:-build/src/attn}
out=$(mktemp -d /tmp/attn-bench-dist.XXXXXX)
trap 'rm -rf "$out"' EXIT
[ -d "$data/train" ] || { echo "bench_dist.sh: no IMDB data at $data (see data/README.md)" >&2; exit 2; }
# The training split as it is; a test split of 20 reviews, so that the test evaluation at the end
# of each run does not dominate the benchmark.
imdb="$out/aclImdb"
mkdir -p "$imdb/test/pos" "$imdb/test/neg"
ln -s "$(readlink -f "$data/train")" "$imdb/train"
for c in pos neg; do
  find "$(readlink -f "$data/test/$c")" -name '*.txt' | sort | awk 'NR <= 10' | xargs -I{} ln -s {} "$imdb/test/$c/"
done

# name | extra --set overrides
models=(
  "notebook|"
  "4-layer d256|--set model.layers=4 --set model.d_model=256 --set model.heads=8 --set model.ffn_hidden=1024"
)

rows=()
for m in "${models[@]}"; do
  name=${m%%|*}
  sets=${m#*|}
  n=$steps
  [ "$name" != notebook ] && n=$(( steps / 4 > 5 ? steps / 4 : 5 ))
  log_every=$(( n / 4 > 1 ? n / 4 : 1 ))
  common="configs/imdb_notebook.json --set data.path=$imdb --set train.max_steps=$n --set train.log_every=$log_every $sets"
  for mode in single multi; do
    dir="$out/${name// /_}-$mode"
    if [ "$mode" = single ]; then
      # shellcheck disable=SC2086
      "$attn" train $common --set threads="$threads" --out "$dir" >/dev/null 2>"$dir.err" || { cat "$dir.err" >&2; exit 1; }
    else
      # shellcheck disable=SC2086
      "$attn" launch --nproc "$threads" -- train $common --set threads=1 --out "$dir" >/dev/null 2>"$dir.err" ||
        { cat "$dir.err" >&2; exit 1; }
    fi
    # The training windows after the first (warm-up), in metrics.jsonl; the collectives from the log.
    row=$(python3 - "$dir" "$name" "$mode" "$threads" <<'EOF'
import json, re, statistics, sys
d, name, mode, threads = sys.argv[1:]
recs = [json.loads(l) for l in open(d + "/metrics.jsonl")]
train = [r for r in recs if r["kind"] == "train"][1:]
rate = statistics.median(r["samples_per_sec"] for r in train)
batch = json.load(open(d + "/config.json"))["train"]["batch_size"]
log = open(d + "/train.log").read()
m = re.search(r"collectives took ([0-9.]+) ms per step, [^(]*\(([0-9.]+)%", log)
ms, share = (float(m.group(1)), float(m.group(2))) if m else (0.0, 0.0)
procs = int(threads) if mode == "multi" else 1
print(json.dumps({"model": name, "processes": procs, "threads_each": 1 if mode == "multi" else int(threads),
                  "samples_per_sec": round(rate, 1), "steps_per_sec": round(rate / batch, 3),
                  "collectives_ms_per_step": ms, "collectives_share_pct": share}))
EOF
)
    rows+=("$row")
  done
done

printf '%s\n' "${rows[@]}" | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
print("| model | processes x threads | steps/s | samples/s | collectives ms/step (share of training time) |")
print("| --- | --- | --- | --- | --- |")
for r in rows:
    print("| %s | %d x %d | %.3f | %.1f | %.1f (%.1f%%) |" % (r["model"], r["processes"], r["threads_each"],
          r["steps_per_sec"], r["samples_per_sec"], r["collectives_ms_per_step"], r["collectives_share_pct"]))
mkdir = __import__("os").makedirs("runs", exist_ok=True)
json.dump(rows, open("runs/bench_dist.json", "w"), indent=2)
print("wrote runs/bench_dist.json")
'
