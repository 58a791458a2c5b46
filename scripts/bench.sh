#!/usr/bin/env bash
# Benchmarks milvault against a real local Milvus (not part of CI).
#   make bench                          # 100k and 1M rows on Milvus 2.3.5
#   BENCH_ROWS=100000 make bench        # smaller
#   BENCH_TARGET=lite make bench
# Prints a table and appends it, with the machine description, to
# docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${BENCH_TARGET:-milvus23}
rows=${BENCH_ROWS:-100000,1000000}
case "$target" in
  milvus23) port=${MILVUS23_PORT:-19541} ;;
  lite) port=${MILVUS_LITE_PORT:-19542} ;;
  *) echo "BENCH_TARGET must be milvus23 or lite" >&2; exit 2 ;;
esac
trap 'scripts/milvus-env.sh stop "$target" >/dev/null 2>&1 || true' EXIT
go build -o bin/milvault ./cmd/milvault
scripts/milvus-env.sh install
scripts/milvus-env.sh start "$target"
version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('milvus') if '$target'=='milvus23' else m.version('milvus-lite'))")
{
  printf '\n## %s: `BENCH_TARGET=%s BENCH_ROWS=%s make bench`\n\n' "$(date -u +%Y-%m-%d)" "$target" "$rows"
  printf 'Machine: %s cores, %s RAM, %s; server %s %s on the same machine (loopback).\n' \
    "$(nproc)" "$(free -h | awk '/Mem:/{print $2}')" "$(go version | cut -d' ' -f3-)" "$target" "$version"
  printf 'Collection: demo schema (int64 pk, VarChar title, int32, JSON, dynamic JSON, 128-d float vector), 4 partitions; zstd level 3; one run each.\n'
} >> docs/benchmarks.md
go run ./internal/bench -milvault bin/milvault -milvus "127.0.0.1:$port" -rows "$rows" -out docs/benchmarks.md
