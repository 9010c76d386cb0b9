#!/usr/bin/env bash
# Every #include of attn's own headers points down: a file in one layer may include its own
# layer and the layers below it, never one above. ctest runs this (test "layers").
#
#   bash scripts/check_layers.sh [SOURCE_DIR]     (default: the repository this script is in)
#
# The order, bottom first; this list is the only place it is written.
set -euo pipefail

layers=(core metrics draw kernels runtime config data ops model io infer train cli)

root="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
cd "$root/src"

declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done

# The layer of a path under src/: attn/<layer>/... or cli/...
layer_of() {
  case "$1" in
    cli/*) echo cli ;;
    attn/*) local rest=${1#attn/}; echo "${rest%%/*}" ;;
    *) echo "" ;;
  esac
}

bad=0
files=0
while IFS= read -r file; do
  files=$((files + 1))
  from=$(layer_of "$file")
  if [ -z "${rank[$from]+x}" ]; then
    echo "$file: in no layer; add its folder to the list in scripts/check_layers.sh" >&2
    bad=$((bad + 1))
    continue
  fi
  while IFS=: read -r line header; do
    to=$(layer_of "$header")
    if [ -z "${rank[$to]+x}" ]; then
      echo "src/$file:$line: includes \"$header\", which is in no layer" >&2
      bad=$((bad + 1))
    elif [ "${rank[$to]}" -gt "${rank[$from]}" ]; then
      echo "src/$file:$line: $from includes \"$header\" from $to, a layer above it (order: ${layers[*]})" >&2
      bad=$((bad + 1))
    fi
  done < <(grep -n -E '^[[:space:]]*#[[:space:]]*include[[:space:]]+"(attn|cli)/' "$file" |
             sed -E 's/^([0-9]+):[^"]*"([^"]+)".*/\1:\2/')
done < <(find attn cli -type f \( -name '*.h' -o -name '*.cpp' \) | sort)

if [ "$bad" -gt 0 ]; then
  echo "check_layers: $bad include(s) point up or out of the layers" >&2
  exit 1
fi
echo "check_layers: $files files, every include points down (${layers[*]})"
