#!/usr/bin/env bash
# bench-guard.sh measures milvault guard's overhead against the real Milvus
# 2.3.5 (issue 18): insert throughput and search p50/p99, direct vs through
# an in-process guard, alternating call by call (internal/guardbench). It
# starts milvus23 itself when it is not running, and stops only what it
# started.
#   scripts/bench-guard.sh                              (100 x 1000 rows, 2000 searches)
#   BENCH_GUARD_BATCHES=20 BENCH_GUARD_SEARCHES=500 scripts/bench-guard.sh
# Appends the table to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
batches=${BENCH_GUARD_BATCHES:-100}
searches=${BENCH_GUARD_SEARCHES:-2000}
addr=127.0.0.1:${MILVUS23_PORT:-19541}
started=0
status=$(scripts/milvus-env.sh status)  # not piped into grep -q: pipefail would see SIGPIPE
if ! grep -q "^milvus23 *running" <<<"$status"; then
  scripts/milvus-env.sh start milvus23 >/dev/null
  started=1
fi
trap '[[ $started == 1 ]] && scripts/milvus-env.sh stop milvus23 >/dev/null 2>&1 || true' EXIT
go build -o bin/guardbench ./internal/guardbench
section=$(mktemp)
{
  printf '\n## %s: `BENCH_GUARD_BATCHES=%s BENCH_GUARD_SEARCHES=%s scripts/bench-guard.sh` (guard overhead)\n\n' "$(date -u +%Y-%m-%d)" "$batches" "$searches"
  printf 'Machine: %s cores, %s RAM, load average %s at the start; Milvus 2.3.5 on loopback; the guard runs in the bench process.\n\n' \
    "$(nproc)" "$(free -h | awk '/Mem:/{print $2}')" "$(cut -d' ' -f1-3 /proc/loadavg)"
} > "$section"
bin/guardbench -milvus "$addr" -batches "$batches" -searches "$searches" -out "$section"
cat "$section" >> docs/benchmarks.md
rm -f "$section"
