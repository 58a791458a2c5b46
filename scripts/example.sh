#!/usr/bin/env bash
# example.sh builds the example module in examples/ (a separate Go module
# that imports milvault's public packages, as another project would) and runs
# its backup-and-restore program against every real Milvus server in
# MILVAULT_TEST_TARGETS: it seeds a small collection with `milvault demo
# seed`, backs it up, restores it under another name, compares row counts,
# and drops what it created.
#
# Usage: scripts/example.sh   (after scripts/milvus-env.sh start and
#                              source .milvus-test/env; scripts/test.sh runs it)
#        EXAMPLE_ROWS=500 (rows to seed)
# Exits non-zero when the example does not build or any run fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

say() { printf 'example: %s\n' "$*"; }
[[ -n ${MILVAULT_TEST_TARGETS:-} ]] ||
  { say "MILVAULT_TEST_TARGETS is not set: start the servers (scripts/milvus-env.sh start all; source .milvus-test/env)" >&2; exit 1; }

bin=$(mktemp -d "${TMPDIR:-/tmp}/milvault-example.XXXXXX")
trap 'rm -rf "$bin"' EXIT
say "building milvault and the example module (examples/)"
go build -o "$bin/milvault" ./cmd/milvault
# -mod=mod: the example's go.mod lists milvault's dependencies, which may
# move ahead in the root go.mod; resolve them instead of failing.
(cd examples && GOFLAGS=-mod=mod go build -o "$bin/backup-restore" ./backup-restore)

status=0
IFS=, read -r -a targets <<<"$MILVAULT_TEST_TARGETS"
for item in "${targets[@]}"; do
  name=${item%%=*} addr=${item#*=}
  coll=example_src_$RANDOM$RANDOM
  say "$name ($addr): seed $coll, back up, restore as ${coll}_restored"
  if "$bin/milvault" --milvus "$addr" demo seed -c "$coll" --rows "${EXAMPLE_ROWS:-500}" &&
    "$bin/backup-restore" -milvus "$addr" -collection "$coll"; then
    say "$name: passed"
  else
    say "$name: FAILED" >&2
    status=1
  fi
  "$bin/milvault" --milvus "$addr" demo drop -c "$coll" >/dev/null 2>&1 || true
done
exit "$status"
