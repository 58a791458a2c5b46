# bench-segments.sh is the segment-count axis of scripts/bench.sh (issue
# 19), sourced by it when BENCH_SEGMENT_MB is set: the same collection is
# seeded and read (raw query drain and milvault backup, BENCH_ROUNDS times
# alternately) on Milvus 2.3.5 started twice, with the default segment size
# (few segments) and with dataCoord.segment.maxSize=BENCH_SEGMENT_MB (many
# segments), and the two are printed side by side with their ratio.
[[ $target == milvus23 ]] || { echo "BENCH_SEGMENT_MB needs BENCH_TARGET=milvus23 (the segment size is a server setting)" >&2; exit 2; }
[[ $BENCH_SEGMENT_MB =~ ^[0-9]+$ ]] || { echo "BENCH_SEGMENT_MB must be a whole number of MB" >&2; exit 2; }
seg_results=$(mktemp)
trap 'rm -f "$section" "$seg_results"; scripts/milvus-env.sh stop "$target" >/dev/null 2>&1 || true' EXIT
go build -o bin/bench ./internal/bench
base_args=${MILVUS23_EXTRA_ARGS:-}
for mb in default "$BENCH_SEGMENT_MB"; do
  label="default segment size (512 MB)"
  export MILVUS23_EXTRA_ARGS=$base_args
  if [[ $mb != default ]]; then
    label="dataCoord.segment.maxSize=$mb"
    export MILVUS23_EXTRA_ARGS="$base_args --extra-config dataCoord.segment.maxSize=$mb"
  fi
  scripts/milvus-env.sh start milvus23
  bin/bench -milvault bin/milvault -milvus "127.0.0.1:$port" -rows "$rows" -index "$index" -rounds "$rounds" \
    -server-pgid "$(cat .milvus-test/milvus23.pid)" -segment-axis "$label" -segment-results "$seg_results"
done
export MILVUS23_EXTRA_ARGS=$base_args
version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('milvus'))")
{
  printf '\n## %s: `BENCH_SEGMENT_MB=%s BENCH_ROWS=%s BENCH_INDEX=%s BENCH_ROUNDS=%s make bench`\n\n' "$(date -u +%Y-%m-%d)" "$BENCH_SEGMENT_MB" "$rows" "$index" "$rounds"
  printf 'Machine: %s cores, %s RAM, %s; server milvus23 %s on the same machine (loopback), started once per setting. Collection: the benchmark schema (int64 pk, 768-d float vector, %s, loaded). Each round: raw query drain (the backup'"'"'s Query RPCs and batches, in the bench process), then `milvault backup` (child process); segments are the sealed segments the query node holds (GetQuerySegmentInfo).\n' \
    "$(nproc)" "$(free -h | awk '/Mem:/{print $2}')" "$(go version | cut -d' ' -f3-)" "$version" "$index_desc"
} > "$section"
bin/bench -segment-report -segment-results "$seg_results" -out "$section"
cat "$section" >> docs/benchmarks.md
