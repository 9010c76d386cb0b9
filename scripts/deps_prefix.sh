#!/usr/bin/env bash
# Copies attn's build dependencies other than LibTorch, as this Debian machine has them
# (scripts/setup.sh installs them), into one relocatable prefix, for a machine that has a
# compiler and a LibTorch but none of these packages and no package registry (a lent GPU
# machine): CLI11, nlohmann_json, spdlog + the fmt it was built with, Catch2 2.x, sentencepiece,
# zlib, gloo's headers, OpenBLAS (through libblas.so.3), pkg-config, and their run-time libraries.
#
#   bash scripts/deps_prefix.sh [DIR]        (default .devdeps, ignored by git: add it to
#                                             .git/info/exclude)
# then, there:  ATTN_DEPS_PREFIX=DIR bash scripts/cuda_check.sh
# Layout: DIR/{include,lib,share} as under /usr, DIR/rt the run-time libraries (LD_LIBRARY_PATH),
# DIR/bin/pkg-config, DIR/gloo-include. About 50 MB, most of it OpenBLAS.
set -euo pipefail
cd "$(dirname "$0")/.."
D=${1:-.devdeps}
rm -rf "$D"
mkdir -p "$D/bin" "$D/lib" "$D/rt" "$D/gloo-include"
copy() {  # /usr/X -> $D/X, following links
  for p in "$@"; do
    mkdir -p "$D/$(dirname "${p#/usr/}")"
    cp -aL "$p" "$D/${p#/usr/}"
  done
}
multi=/usr/lib/x86_64-linux-gnu
copy /usr/include/CLI /usr/share/cmake/CLI11 /usr/include/nlohmann /usr/share/cmake/nlohmann_json \
  /usr/include/spdlog $multi/cmake/spdlog /usr/include/fmt $multi/cmake/fmt \
  /usr/include/catch2 /usr/lib/cmake/Catch2 /usr/lib/libCatch2WithMain.a \
  /usr/include/sentencepiece_processor.h /usr/include/sentencepiece_trainer.h $multi/pkgconfig/sentencepiece.pc \
  $multi/libsentencepiece.so $multi/libsentencepiece_train.so /usr/include/zlib.h /usr/include/zconf.h $multi/libz.so
# The CMake packages name their libraries' full versions.
for f in $(grep -rhoE '\$\{_IMPORT_PREFIX\}/lib/[^"; ]+\.so[^"; ]*' "$D" --include='*.cmake' | sort -u); do
  copy "/usr/${f#\$\{_IMPORT_PREFIX\}/}"
done
for lib in libspdlog.so.1.10 libfmt.so.9 libsentencepiece.so.0 libsentencepiece_train.so.0 libz.so.1 \
           libopenblas.so.0 libgfortran.so.5 libquadmath.so.0 libpkgconf.so.3; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
  [ -n "$path" ] || { echo "deps_prefix: $lib is not installed (run scripts/setup.sh)" >&2; exit 1; }
  cp -L "$path" "$D/rt/"
done
cp -L $multi/openblas-openmp/libblas.so.3 "$D/rt/libblas.so.3"
ln -sf ../rt/libblas.so.3 "$D/lib/libblas.so"
cp -a /usr/include/gloo "$D/gloo-include/"
cp -L /usr/bin/pkgconf "$D/bin/pkg-config"
du -sh "$D"
