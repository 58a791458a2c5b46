#!/usr/bin/env bash
# bulkwriter-venv.sh installs a Python venv with pymilvus's BulkWriter
# (pymilvus and what pymilvus.bulk_writer imports: pyarrow, minio,
# azure-storage-blob, requests, ml_dtypes; pymilvus 3.0.2 no longer
# declares them as its bulk_writer extra) for the import tests, which write Parquet files with it as a
# pymilvus user would. It is a separate venv, outside the work tree, so the
# test servers' .venv stays as scripts/milvus-env.sh made it.
#
# Usage: scripts/bulkwriter-venv.sh install|path
#   install  create the venv in the cache (reused when it imports BulkWriter)
#   path     print the venv's python
#
# Environment:
#   MILVAULT_CACHE  cache folder (default ~/.cache/milvault); venv in bulkwriter-venv/
#   PYMILVUS_VERSION  pymilvus version (default: the one in .venv, else the newest)
#
# Tests find the interpreter in MILVAULT_TEST_BULKWRITER_PYTHON (scripts/test.sh
# exports it) or at the default path.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

CACHE=${MILVAULT_CACHE:-$HOME/.cache/milvault}
VENV=$CACHE/bulkwriter-venv
PY=$VENV/bin/python

say() { printf 'bulkwriter-venv: %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

ready() { [[ -x $PY ]] && "$PY" -c 'from pymilvus.bulk_writer import LocalBulkWriter' 2>/dev/null; }

install() {
  if ready; then
    say "using $VENV"
    return
  fi
  local version=${PYMILVUS_VERSION:-}
  if [[ -z $version && -x .venv/bin/python ]]; then
    version=$(.venv/bin/python -c 'import pymilvus; print(pymilvus.__version__)' 2>/dev/null || true)
  fi
  local pkgs=("pymilvus${version:+==$version}" pyarrow minio azure-storage-blob requests ml_dtypes)
  say "installing ${pkgs[*]} into $VENV"
  [[ -x $PY ]] || python3 -m venv "$VENV"
  "$PY" -m pip install --quiet --disable-pip-version-check "${pkgs[@]}" || die "pip install ${pkgs[*]} failed"
  ready || die "$VENV cannot import pymilvus.bulk_writer"
}

case ${1:-} in
  install) install ;;
  path) echo "$PY" ;;
  *) die "usage: $0 install|path" ;;
esac
