#!/usr/bin/env bash
# scripts/get_data.sh through --from, on a mirror made here from the real files in ../shared/data:
# a good mirror, a corrupt file, a missing file, a second run after an interrupted one, a run with
# everything in place, and IMDB unpacked where the configs read it. ctest runs this ("get_data").
# Without ../shared/data it skips (exit 0), unless ATTN_REQUIRE_DATA=1 says the data must be there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$root/../shared/data
if [ ! -f "$shared/multi30k/train.de.gz" ] || [ ! -f "$shared/aclImdb_labeled.tar.gz" ]; then
  if [ "${ATTN_REQUIRE_DATA:-}" = 1 ]; then
    echo "FAIL: $shared is missing, and ATTN_REQUIRE_DATA=1 says it must be there" >&2
    exit 1
  fi
  echo "skipped: $shared is missing (see data/README.md)"
  exit 0
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
get() { bash "$root/scripts/get_data.sh" "$@" >"$work/out" 2>&1; }
fail() { echo "FAIL: $*" >&2; echo "--- get_data.sh said:" >&2; cat "$work/out" >&2; exit 1; }
check_whole() {  # every Multi30k file in $1 equals the original
  for f in "$shared"/multi30k/*.gz; do
    cmp -s "$f" "$1/multi30k/$(basename "$f")" || fail "$1/multi30k/$(basename "$f") is not the original"
  done
}
no_partials() { [ -z "$(find "$1" -name '*.part' -o -name unpack | head -1)" ] || fail "a partial file was left in $1"; }

mirror=$work/mirror
mkdir -p "$mirror/multi30k"
cp "$shared"/multi30k/*.gz "$mirror/multi30k/"

# 1. A good mirror: all six files, each the original.
get multi30k --from "$mirror" --dest "$work/good" || fail "a good mirror failed"
check_whole "$work/good"
no_partials "$work/good"

# 2. Everything already there: nothing fetched.
get multi30k --from "$mirror" --dest "$work/good" || fail "a second run failed"
[ "$(grep -c 'present and verified' "$work/out")" -eq 6 ] || fail "a second run fetched again"
! grep -q ' <- ' "$work/out" || fail "a second run fetched again"

# 3. A corrupt file (one byte changed): exit 1, the file and both sums named, nothing of it kept.
cp -r "$mirror" "$work/corrupt"
printf '\x00' | dd of="$work/corrupt/multi30k/val.en.gz" bs=1 seek=1000 conv=notrunc status=none
bad_sum=$(sha256sum "$work/corrupt/multi30k/val.en.gz" | cut -d' ' -f1)
good_sum=$(sha256sum "$shared/multi30k/val.en.gz" | cut -d' ' -f1)
if get multi30k --from "$work/corrupt" --dest "$work/c"; then fail "a corrupt file was accepted"; fi
grep -q "val.en.gz from file://.*: SHA-256 $bad_sum, expected $good_sum" "$work/out" || fail "the message does not name the file and both sums"
[ ! -e "$work/c/multi30k/val.en.gz" ] || fail "the corrupt file was kept"
[ -e "$work/c/multi30k/val.de.gz" ] || fail "the good files were not kept"
no_partials "$work/c"

# 4. A missing file: exit 1, named, nothing half-written.
cp -r "$mirror" "$work/missing"
rm "$work/missing/multi30k/test_2016_flickr.de.gz"
if get multi30k --from "$work/missing" --dest "$work/m"; then fail "a missing file was not an error"; fi
grep -q "cannot fetch file://.*test_2016_flickr.de.gz" "$work/out" || fail "the missing file is not named"
[ ! -e "$work/m/multi30k/test_2016_flickr.de.gz" ] || fail "a missing file left something behind"
no_partials "$work/m"

# 5. After an interrupted run (a partial download, a damaged file in place): the next run mends it.
mkdir -p "$work/i/.download" "$work/i/multi30k"
head -c 1000 "$shared/multi30k/train.de.gz" >"$work/i/.download/train.de.gz.part"
head -c 5000 "$shared/multi30k/train.en.gz" >"$work/i/multi30k/train.en.gz"
get multi30k --from "$mirror" --dest "$work/i" || fail "the run after an interrupted one failed"
check_whole "$work/i"
no_partials "$work/i"

# 6. IMDB from the labelled-only tarball, laid out as the configs read it; then nothing to do.
get imdb --from "$shared" --dest "$work/imdb" || fail "IMDB failed"
for d in train/pos train/neg test/pos test/neg; do
  n=$(find "$work/imdb/aclImdb/$d" -name '*.txt' | wc -l)
  [ "$n" -eq 12500 ] || fail "aclImdb/$d holds $n reviews, not 12,500"
done
get imdb --from "$shared" --dest "$work/imdb" || fail "a second IMDB run failed"
grep -q "aclImdb: present" "$work/out" || fail "a second IMDB run unpacked again"
no_partials "$work/imdb"

# 7. Bad usage: exit 2.
if bash "$root/scripts/get_data.sh" everything >/dev/null 2>&1; then fail "an unknown data set was accepted"; fi
echo "get_data.sh: good, already present, corrupt, missing, interrupted, IMDB: ok"
