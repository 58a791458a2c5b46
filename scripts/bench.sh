#!/usr/bin/env bash
# Benchmarks milvault against a real local Milvus and against that server's
# own limit, in one run (not part of CI; see internal/bench for what is
# measured).
#   make bench                          # 200k rows on Milvus 2.3.5
#   BENCH_ROWS=1000000 make bench       # 1M rows (slow on 2 cores)
#   BENCH_ROWS=100000,1000000 make bench   # several sizes, one after the other
#   BENCH_TARGET=lite make bench
#   BENCH_PIN=1 make bench              # server on core 0, milvault and the raw
#                                       # drains on core 1: isolates milvault's
#                                       # own cost from CPU contention
#   BENCH_ROUNDS=3 make bench           # drain and backup measured 3 times,
#                                       # alternately (server speed varies)
#   BENCH_ONLY=encryption BENCH_ROWS=20000 make bench
#                                       # seed, then only backup + restore with
#                                       # encryption on and off (issue 14)
#   BENCH_ONLY=encode BENCH_ROWS=50000 BENCH_INDEX=FLAT make bench
#                                       # seed, then only backups with
#                                       # --encode-workers 1 and N (N: the
#                                       # default, at least 2; BENCH_ENCODE_WORKERS
#                                       # overrides), 16 MiB files (issue 19)
#   BENCH_INDEX=FLAT BENCH_ROWS=100000,1000000 make bench
#                                       # memory check at 1M rows without the
#                                       # long HNSW builds (HNSW is the default)
#   BENCH_SEGMENT_MB=1 BENCH_INDEX=FLAT BENCH_ROWS=100000 BENCH_ROUNDS=2 make bench
#                                       # segment-count axis only (issue 19):
#                                       # the same rows at the default segment
#                                       # size and at dataCoord.segment.maxSize
#                                       # = BENCH_SEGMENT_MB (many segments);
#                                       # raw drain and backup rows/s of each
# Prints the results and appends them, with the machine description and the
# command, to docs/benchmarks.md. The CPU profile of the backup is kept in
# bin/backup-<rows>.cpu.pprof (go tool pprof -http :8080 <file>).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${BENCH_TARGET:-milvus23}
rows=${BENCH_ROWS:-200000}
rounds=${BENCH_ROUNDS:-1}
index=${BENCH_INDEX:-HNSW}
case "$index" in
  HNSW) index_desc="HNSW M=16 efConstruction=64" ;;
  IVF_FLAT) index_desc="IVF_FLAT nlist=1024" ;;
  FLAT) index_desc="FLAT" ;;
  *) echo "BENCH_INDEX must be HNSW, IVF_FLAT or FLAT" >&2; exit 2 ;;
esac
case "$target" in
  milvus23) port=${MILVUS23_PORT:-19541} ;;
  lite) port=${MILVUS_LITE_PORT:-19542} ;;
  *) echo "BENCH_TARGET must be milvus23 or lite" >&2; exit 2 ;;
esac
section=$(mktemp)
trap 'rm -f "$section"; scripts/milvus-env.sh stop "$target" >/dev/null 2>&1 || true' EXIT
go build -o bin/milvault ./cmd/milvault
scripts/milvus-env.sh install all
if [[ -n ${BENCH_SEGMENT_MB:-} ]]; then
  source scripts/bench-segments.sh
  exit 0
fi
scripts/milvus-env.sh start "$target"
pgid=$(cat ".milvus-test/$target.pid")
run=()
placement="server and milvault share all cores"
if [[ ${BENCH_PIN:-0} == 1 ]]; then
  (( $(nproc) >= 2 )) || { echo "BENCH_PIN=1 needs at least 2 cores" >&2; exit 2; }
  # Every thread of every process of the server's group onto core 0; the
  # bench (its in-process drains and the milvault children it starts) onto
  # core 1. Threads the server starts later inherit core 0.
  for pid in $(ps -o pid= -g "$pgid"); do taskset -a -p -c 0 "$pid" >/dev/null; done
  run=(taskset -c 1)
  placement="pinned: server on core 0, milvault and the raw drains on core 1 (BENCH_PIN=1)"
fi
version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('milvus') if '$target'=='milvus23' else m.version('milvus-lite'))")
{
  printf '\n## %s: `BENCH_TARGET=%s BENCH_ROWS=%s BENCH_INDEX=%s BENCH_PIN=%s BENCH_ROUNDS=%s BENCH_ONLY=%s make bench`\n\n' "$(date -u +%Y-%m-%d)" "$target" "$rows" "$index" "${BENCH_PIN:-0}" "$rounds" "${BENCH_ONLY:-}"
  printf 'Machine: %s cores, %s RAM, %s; server %s %s on the same machine (loopback); %s.\n' \
    "$(nproc)" "$(free -h | awk '/Mem:/{print $2}')" "$(go version | cut -d' ' -f3-)" "$target" "$version" "$placement"
  printf 'Collection: int64 pk, 768-d float vector (%s, L2, loaded), VarChar (~60 B), JSON (~80 B), int32, float; one partition, one shard. milvault defaults: zstd level 3, sha256, 256 MiB files; restore 8 MiB insert batches, 2 workers. One run of each step; MB = 10^6 bytes of raw data unless the step reads files. CPU columns: user+system seconds of milvault (of the bench process for the raw drains) and of the Milvus server process group during the step.\n' "$index_desc"
} > "$section"
go build -o bin/bench ./internal/bench
only=()
case "${BENCH_ONLY:-}" in
  "") ;;
  encryption) only=(-encryption-only) ;;
  encode) only=(-encode-only) ;;
  *) echo "BENCH_ONLY must be empty, encryption or encode" >&2; exit 2 ;;
esac
"${run[@]}" bin/bench -milvault bin/milvault -milvus "127.0.0.1:$port" -rows "$rows" -index "$index" -rounds "$rounds" \
  -server-pgid "$pgid" -profile-dir bin -out "$section" -encode-workers "${BENCH_ENCODE_WORKERS:-0}" "${only[@]}"
# Appended only after a complete run, so a failed run leaves the file as it was.
cat "$section" >> docs/benchmarks.md
# A BENCH_ONLY run measures only its comparison: the native and guard
# benchmarks below are skipped unless asked for explicitly.
if [[ -n ${BENCH_ONLY:-} ]]; then
  BENCH_NATIVE=${BENCH_NATIVE:-0} BENCH_GUARD=${BENCH_GUARD:-0}
fi
# Native vs logical backup, native vs insert restore, incremental native
# backup (restarts milvus23 with its storage on MinIO; BENCH_NATIVE=0 skips).
if [[ ${BENCH_NATIVE:-1} == 1 ]]; then
  BENCH_ROWS=${BENCH_NATIVE_ROWS:-50000} scripts/bench-native.sh
fi
# Guard overhead (issue 18): insert throughput and search p50/p99, direct vs
# through a milvault guard process, without capture and with fail-closed
# capture (BENCH_GUARD=0 skips).
if [[ ${BENCH_GUARD:-1} == 1 ]]; then
  BENCH_GUARD_CAPTURE=off scripts/bench-guard.sh
  BENCH_GUARD_CAPTURE=fail-closed scripts/bench-guard.sh
fi
