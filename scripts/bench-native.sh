#!/usr/bin/env bash
# bench-native.sh compares, in one run on one collection of the real Milvus
# 2.3.5 with its storage on MinIO: a native backup with a logical one, a
# native restore (binlog import) with an insert restore, and an incremental
# native backup after ~1 % new rows with the first native backup. It starts
# MinIO and milvus23 itself (MILVUS23_STORAGE=minio) and stops them after.
#   BENCH_ROWS=50000 scripts/bench-native.sh     (default 50000 rows, 768-d)
# Appends the figures to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${BENCH_ROWS:-50000}
trap 'scripts/milvus-env.sh stop milvus23 >/dev/null 2>&1 || true; scripts/minio.sh stop >/dev/null 2>&1 || true' EXIT
go build -o bin/milvault ./cmd/milvault
scripts/minio.sh start >/dev/null
MILVUS23_STORAGE=minio scripts/milvus-env.sh start milvus23 >/dev/null
# shellcheck disable=SC1091
source .milvus-test/minio.env
# shellcheck disable=SC1091
source .milvus-test/milvus23-storage.env
export AWS_ACCESS_KEY_ID=$MILVAULT_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$MILVAULT_TEST_S3_SECRET_KEY
export MILVAULT_MILVUS_STORAGE=$MILVAULT_TEST_MILVUS23_STORAGE
addr=127.0.0.1:${MILVUS23_PORT:-19541}
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
repo=$(mktemp -d)/repo
mv=(bin/milvault --milvus "$addr" --repo "$repo" -q)
"${mv[@]}" init >/dev/null

# insert FROM TO [FLUSH]: rows FROM..TO-1 of 768-d random vectors.
insert() {
  .venv/bin/python - "$addr" "$1" "$2" <<'PY'
import sys, numpy as np
from pymilvus import MilvusClient, DataType
addr, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
c = MilvusClient(uri="http://" + addr)
if not c.has_collection("bench_native"):
    s = c.create_schema(auto_id=False)
    s.add_field("id", DataType.INT64, is_primary=True)
    s.add_field("v", DataType.FLOAT_VECTOR, dim=768)
    s.add_field("t", DataType.VARCHAR, max_length=100)
    ip = c.prepare_index_params(); ip.add_index("v", index_type="FLAT", metric_type="L2")
    c.create_collection("bench_native", schema=s, index_params=ip)
rng = np.random.default_rng(lo)
for s in range(lo, hi, 2000):
    e = min(s + 2000, hi)
    c.insert("bench_native", [{"id": i, "v": rng.random(768, dtype=np.float32).tolist(), "t": "row %d" % i} for i in range(s, e)])
c.flush("bench_native")
c.load_collection("bench_native")
PY
}

# timed LABEL CMD...: runs CMD, prints and records its wall time in seconds.
declare -A took
timed() {
  local label=$1 start end
  shift
  start=$(date +%s.%N)
  "$@" >/dev/null
  end=$(date +%s.%N)
  took[$label]=$(echo "$end - $start" | bc)
  printf '%-28s %8.2f s\n' "$label" "${took[$label]}"
}

insert 0 "$rows"
timed "logical backup" "${mv[@]}" backup -c bench_native --mode logical --name logical
timed "native backup" "${mv[@]}" backup -c bench_native --mode native --name native1 --milvus-metrics none
insert "$rows" $((rows + rows / 100))
timed "incremental native backup" "${mv[@]}" backup -c bench_native --mode native --name native2 --milvus-metrics none
timed "insert restore" "${mv[@]}" restore logical --target bench_native_ins --no-load
timed "native restore" "${mv[@]}" restore native1 --target bench_native_bin --no-load
stored=$("${mv[@]}" show native2 | sed -n 's/^native .*(\(.*\)); \(.*\) shared.*, \(.*\) only in this one$/\3 of \1/p')
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
ratio() { echo "scale=1; $1 / $2" | bc; }
{
  printf '\n## %s: `BENCH_ROWS=%s scripts/bench-native.sh` (native vs logical)\n\n' "$(date -u +%Y-%m-%d)" "$rows"
  printf 'Machine: %s cores, %s RAM, load average %s at the start and %s at the end (a load near or above the core count means other jobs shared the machine: rerun for firm figures); Milvus 2.3.5 standalone with its storage on a local MinIO, repository on local disk. Collection: int64 pk, 768-d float vector (FLAT), VarChar; %s rows, then 1 %% more for the incremental backup. Wall times of the milvault CLI, one run each.\n\n' \
    "$(nproc)" "$(free -h | awk '/Mem:/{print $2}')" "$load_start" "$load_end" "$rows"
  printf '| step | seconds |\n|---|---|\n'
  for k in "logical backup" "native backup" "incremental native backup" "insert restore" "native restore"; do
    printf '| %s | %.2f |\n' "$k" "${took[$k]}"
  done
  printf '\nnative backup %sx faster than logical; incremental %sx faster than the full native backup (stored %s); native restore %sx faster than insert restore.\n' \
    "$(ratio "${took[logical backup]}" "${took[native backup]}")" "$(ratio "${took[native backup]}" "${took[incremental native backup]}")" \
    "$stored" "$(ratio "${took[insert restore]}" "${took[native restore]}")"
} | tee -a docs/benchmarks.md
