#!/usr/bin/env bash
# Install what attn needs to build and run on Debian 12, and nothing that is already there.
# Idempotent: a second run installs nothing. Needs root or sudo only when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libtorch-dev          # LibTorch 1.13.1 (CPU)
  libopenblas0-openmp   # fast BLAS at run time: the reference BLAS is ~35x slower here
  libblas-dev           # links the attention kernels to the BLAS LibTorch uses (libblas.so.3)
  libdnnl-dev           # oneDNN (LibTorch's own): bfloat16 products on AMX / AVX512-BF16
  libcli11-dev libspdlog-dev nlohmann-json3-dev catch2
  zlib1g-dev
  libsentencepiece-dev  # subword vocabularies for translation (issue 4)
  libgloo-dev           # headers of the Gloo collectives behind c10d::ProcessGroupGloo (issue 7)
  libcairo2-dev fonts-dejavu-core  # the pictures: attention maps and training curves (PNG, SVG)
  libcsv-dev            # CSV data files (RFC 4180: quoted fields with commas, quotes, newlines)
)
# Extra packages for benchmarks and tooling, on request: ATTN_SETUP_EXTRA="python3-torch ..."
read -r -a extra <<<"${ATTN_SETUP_EXTRA:-}"
packages+=("${extra[@]}")

missing=()
for p in "${packages[@]}"; do
  [ -z "$p" ] && continue
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[setup] all ${#packages[@]} packages present"
else
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "[setup] error: missing packages: ${missing[*]}" >&2
    echo "[setup] run as root (or install sudo) and retry, or install them yourself:" >&2
    echo "        apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "[setup] installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# LibTorch uses whichever libblas.so.3 is selected; make sure it is OpenBLAS, not the reference BLAS.
blas=$(readlink -f /etc/alternatives/libblas.so.3-x86_64-linux-gnu 2>/dev/null || true)
case "$blas" in
  *openblas*) echo "[setup] BLAS: $blas" ;;
  *) echo "[setup] warning: libblas.so.3 is '$blas', not OpenBLAS; matrix products will be slow." >&2
     echo "        fix: update-alternatives --config libblas.so.3-x86_64-linux-gnu" >&2 ;;
esac
