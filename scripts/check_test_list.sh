#!/usr/bin/env bash
# ctest runs each Catch2 test case exactly once: the names ctest holds are the test cases'
# names plus the checks that are not Catch2's. A name that CMake splits (a `;` in it) or mangles
# would show up here as a ctest entry with no test case behind it. ctest runs this (test "test_list").
#
#   bash scripts/check_test_list.sh BUILD_DIR ATTN_TESTS_BINARY
set -euo pipefail
build=$1
binary=$2
# The ctest entries that are not Catch2 test cases; keep in step with tests/CMakeLists.txt.
others=(layers test_list get_data test_server test_server_stop)

cases=$(mktemp) entries=$(mktemp)
trap 'rm -f "$cases" "$entries"' EXIT
# (Catch2 2 exits with the number of test cases it listed.)
{ "$binary" --list-test-names-only || true; } | sed '/^$/d' | sort >"$cases"
{ ctest --test-dir "$build" -N | sed -n 's/^ *Test *#[0-9]*: //p'; } | sort >"$entries"
printf '%s\n' "${others[@]}" >>"$cases"
sort -o "$cases" "$cases"

status=0
if ! missing=$(comm -23 "$cases" "$entries") || [ -n "$missing" ]; then
  echo "test cases with no ctest entry:" >&2; printf '  %s\n' "$missing" >&2; status=1
fi
if ! extra=$(comm -13 "$cases" "$entries") || [ -n "$extra" ]; then
  echo "ctest entries that are no test case (a ';' in a TEST_CASE name splits it in two):" >&2
  printf '  %s\n' "$extra" >&2; status=1
fi
dashed=$(grep -- '^-' "$cases" || true)
if [ -n "$dashed" ]; then
  echo "test cases whose name starts with '-' (Catch2 takes the name for an option):" >&2
  printf '  %s\n' "$dashed" >&2; status=1
fi
dups=$(uniq -d "$entries")
if [ -n "$dups" ]; then
  echo "ctest entries listed twice:" >&2; printf '  %s\n' "$dups" >&2; status=1
fi
n_entries=$(wc -l <"$entries") n_cases=$(wc -l <"$cases")
echo "ctest entries: $n_entries; Catch2 test cases plus other checks: $n_cases"
[ "$n_entries" -eq "$n_cases" ] || status=1
exit $status
