#!/usr/bin/env bash
# The milvault demo: start a real local Milvus, create sample data, back it up,
# lose it, restore it, and prove every row came back.
#
#   make demo                    # Milvus 2.3.5 standalone (default)
#   DEMO_TARGET=lite make demo   # milvus-lite 3.x instead
set -euo pipefail
cd "$(dirname "$0")/.."

target=${DEMO_TARGET:-milvus23}
case "$target" in
  milvus23) port=${MILVUS23_PORT:-19541} ;;
  lite) port=${MILVUS_LITE_PORT:-19542} ;;
  *) echo "DEMO_TARGET must be milvus23 or lite" >&2; exit 2 ;;
esac
repo=$(mktemp -d "${TMPDIR:-/tmp}/milvault-demo-repo.XXXXXX")
work=$(mktemp -d "${TMPDIR:-/tmp}/milvault-demo.XXXXXX")
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
cleanup() { scripts/milvus-env.sh stop "$target" >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

step "build milvault"
run go build -o bin/milvault ./cmd/milvault
step "install and start a local Milvus ($target)"
scripts/milvus-env.sh install all # Milvus 2.3.5 and Lite 3.x only; make test also installs the older versions
scripts/milvus-env.sh start "$target"
export MILVAULT_MILVUS=127.0.0.1:$port MILVAULT_REPO=$repo
mv=bin/milvault

step "create sample data: 20,000 documents, 4 partitions, 128-d vectors, HNSW index, alias, loaded"
run $mv demo seed --rows 20000
run $mv demo digest | tee "$work/before.txt"

step "create the backup repository, then back up"
run $mv init
run $mv backup --collection demo_docs --name demo-first
run $mv list
run $mv show demo-first

step "disaster: the collection and its alias are gone"
run $mv demo drop

step "restore (schema, partitions, data, index, alias, load state)"
run $mv restore demo-first --aliases

step "verify: every partition's rows hash the same as before"
run $mv demo digest | tee "$work/after.txt"
if diff -u "$work/before.txt" "$work/after.txt"; then
  printf '\n\033[1;32mVERIFIED\033[0m: the restored collection is identical to the original (repository kept at %s)\n' "$repo"
else
  printf '\n\033[1;31mMISMATCH\033[0m: restored data differs from the original\n' >&2
  exit 1
fi
