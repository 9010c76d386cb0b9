#!/usr/bin/env bash
# The main job, in one command: install what is missing, build, train, and evaluate the best
# checkpoint on the test split.
#   bash scripts/run.sh                          # the default run: the built-in key-value task
#   bash scripts/run.sh configs/imdb.json --set data.path=/data/aclImdb
# Arguments go to `attn train`. An existing run directory is moved aside (--force), never deleted.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh attn   # the binary only: the tests are scripts/test.sh's
summary=$(build/src/attn train --force "$@")
echo "$summary"
out=$(printf '%s\n' "$summary" | sed -n 's/.*"out":"\([^"]*\)".*/\1/p')
build/src/attn eval "$out"
