#!/usr/bin/env bash
# Fetches the data sets the shipped configs read, checks every file against the SHA-256 this
# script carries, and lays them out where the configs expect them:
#   data/aclImdb/{train,test}/{pos,neg}/*.txt         IMDB (configs/imdb.json, imdb_notebook.json)
#   data/multi30k/{train,val,test_2016_flickr}.{de,en}.gz   Multi30k task 1 (configs/multi30k_de_en.json)
#
#   bash scripts/get_data.sh imdb|multi30k|all [--from DIR] [--dest DIR]
#
# From the data sets' own sites by default (curl, with its progress bar). --from DIR (or
# ATTN_DATA_FROM) takes the same files from a local folder or mirror instead, through the same
# code (curl reads file:// URLs): DIR/aclImdb_v1.tar.gz or DIR/aclImdb_labeled.tar.gz (the labelled
# reviews only, as ../shared/data keeps them), DIR/multi30k/*.gz. --dest (default data/, beside the
# configs) is where they go. A file already there and verified is left alone; a download that
# fails its checksum is an error naming the file and both sums, and nothing half-written stays.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

usage() {
  echo "usage: bash scripts/get_data.sh imdb|multi30k|all [--from DIR] [--dest DIR]" >&2
  exit 2
}

what=""
from=${ATTN_DATA_FROM:-}
dest=$root/data
while [ $# -gt 0 ]; do
  case "$1" in
    imdb|multi30k|all) [ -z "$what" ] || usage; what=$1 ;;
    --from) [ $# -ge 2 ] || usage; from=$2; shift ;;
    --dest) [ $# -ge 2 ] || usage; dest=$2; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "get_data.sh: unknown argument '$1'" >&2; usage ;;
  esac
  shift
done
[ -n "$what" ] || usage
command -v curl >/dev/null || { echo "get_data.sh: needs curl (apt-get install curl)" >&2; exit 1; }
if [ -n "$from" ]; then
  [ -d "$from" ] || { echo "get_data.sh: --from $from: no such directory" >&2; exit 2; }
  from=$(cd "$from" && pwd)
fi
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
staging=$dest/.download  # partial files live here until verified, then move into place
mkdir -p "$staging"

# The sums of the files as their publishers distribute them. Multi30k: the raw task 1 files of
# github.com/multi30k/dataset (their MD5s are the ones torchtext checks). IMDB: Stanford's
# aclImdb_v1.tar.gz, and the labelled-only repacking kept in ../shared/data.
declare -A sha256=(
  [aclImdb_v1.tar.gz]=c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe
  [aclImdb_labeled.tar.gz]=4d287d9158d23bf982a1b4724b257c3aeb6938e85108771c63405ca60174e2c4
  [train.de.gz]=726e39b2fa9eb9ffb6dc763fb35a179f80fae06ffc5d28b6ace5faa883de28a6
  [train.en.gz]=d79cfa999dd4c51d2cb42499b6796d5a882c3a8a961923c25a898c90f8bbd56f
  [val.de.gz]=f0cba2f995189cf5770f29a8a9a537a3ad3f51657ad873405082ff6863a5e75a
  [val.en.gz]=14f7d25ddd868909a9213e361768460edcacdd6ab9d1e77b92560dc10c10dc28
  [test_2016_flickr.de.gz]=9204244e408ccb38d2a55cfcd344df15005fc42a07a6e55ca6c52b6ababb8cc8
  [test_2016_flickr.en.gz]=611d361c6334bc7246101d48097c13cf5c4413c5befc793cc629934359d532d9
)
multi30k_url=https://raw.githubusercontent.com/multi30k/dataset/master/data/task1/raw
imdb_url=https://ai.stanford.edu/~amaas/data/sentiment

sum_of() { sha256sum "$1" | cut -d' ' -f1; }

# fetch URL NAME OUT: downloads URL to OUT through a partial file, checks it against NAME's sum.
fetch() {
  local url=$1 name=$2 out=$3 part=$staging/$2.part
  rm -f "$part"
  echo "[get_data] $name <- $url"
  if ! curl -fL --retry 3 $([ -t 2 ] && echo --progress-bar || echo -sS) -o "$part" "$url"; then
    rm -f "$part"
    echo "get_data.sh: cannot fetch $url" >&2
    return 1
  fi
  local got
  got=$(sum_of "$part")
  if [ "$got" != "${sha256[$name]}" ]; then
    rm -f "$part"
    echo "get_data.sh: $name from $url: SHA-256 $got, expected ${sha256[$name]}; the file is damaged or" \
         "not the published one (nothing was kept; try again, or another --from)" >&2
    return 1
  fi
  mv -f "$part" "$out"
}

get_multi30k() {
  local dir=$dest/multi30k
  mkdir -p "$dir"
  local failed=0
  for split in train val test_2016_flickr; do
    for lang in de en; do
      local name=$split.$lang.gz
      if [ -f "$dir/$name" ] && [ "$(sum_of "$dir/$name")" = "${sha256[$name]}" ]; then
        echo "[get_data] multi30k/$name: present and verified"
        continue
      fi
      local url=$multi30k_url/$name
      [ -n "$from" ] && url=file://$from/multi30k/$name
      fetch "$url" "$name" "$dir/$name" || failed=1
    done
  done
  return $failed
}

get_imdb() {
  local dir=$dest/aclImdb marker=$dest/aclImdb/.verified
  if [ -f "$marker" ] && [ -n "${sha256[$(cat "$marker")]:-}" ] && [ -d "$dir/test/neg" ]; then
    echo "[get_data] aclImdb: present (unpacked from $(cat "$marker"), verified then)"
    return 0
  fi
  local name="" url=""
  if [ -n "$from" ]; then
    for candidate in aclImdb_v1.tar.gz aclImdb_labeled.tar.gz; do
      if [ -f "$from/$candidate" ]; then name=$candidate; break; fi
    done
    if [ -z "$name" ]; then
      echo "get_data.sh: $from holds neither aclImdb_v1.tar.gz nor aclImdb_labeled.tar.gz" >&2
      return 1
    fi
    url=file://$from/$name
  else
    name=aclImdb_v1.tar.gz url=$imdb_url/aclImdb_v1.tar.gz
  fi
  fetch "$url" "$name" "$staging/$name" || return 1
  # Unpacked beside, then renamed into place: an interrupted unpack leaves no half tree in data/.
  local tmp=$staging/unpack
  rm -rf "$tmp" && mkdir -p "$tmp"
  echo "[get_data] unpacking $name"
  tar -xzf "$staging/$name" -C "$tmp" --exclude='aclImdb/train/unsup' --exclude='*.feat'
  echo "$name" >"$tmp/aclImdb/.verified"
  if [ -e "$dir" ]; then  # a tree this script did not verify (unpacked by hand?): kept, aside
    local aside
    aside=$dir.before-$(date +%Y%m%d-%H%M%S)
    mv "$dir" "$aside"
    echo "[get_data] the aclImdb already there was not verified by this script: moved to $aside"
  fi
  mv "$tmp/aclImdb" "$dir"
  rm -rf "$tmp" "$staging/$name"
}

status=0
case "$what" in
  imdb) get_imdb || status=1 ;;
  multi30k) get_multi30k || status=1 ;;
  all) get_imdb || status=1; get_multi30k || status=1 ;;
esac
rmdir "$staging" 2>/dev/null || true
if [ $status -eq 0 ]; then echo "[get_data] $what: ready in $dest"; fi
exit $status
