#!/usr/bin/env bash
# bench-guard.sh measures milvault guard's overhead against the real Milvus
# 2.3.5 (issue 18): insert latency and throughput (one writer, then several
# at once) and search p50/p99, direct vs through a `milvault guard` process
# started here as deployed (internal/guardbench), with the guard's CPU time
# per call and a CPU profile of the guard (top functions printed). It starts
# milvus23 itself when it is not running, and stops only what it started.
#   scripts/bench-guard.sh                              (100 x 1000 rows, 2000 searches)
#   BENCH_GUARD_BATCHES=20 BENCH_GUARD_SEARCHES=500 scripts/bench-guard.sh
#   BENCH_GUARD_WRITERS=4 BENCH_GUARD_ROUNDS=3          (throughput phase; 0 writers skip it)
#   BENCH_GUARD_CAPTURE=fail-closed                     (the guard captures writes: off, fail-closed, fail-open)
#   BENCH_GUARD_INPROCESS=1                             (serve the guard inside the bench instead; capture off)
#   BENCH_GUARD_PORT=19570                              (the guard's port; the next one serves its metrics)
#   BENCH_GUARD_GOMAXPROCS=1                            (GOMAXPROCS of the guard process; default: all cores)
# Appends the table to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
batches=${BENCH_GUARD_BATCHES:-100}
searches=${BENCH_GUARD_SEARCHES:-2000}
writers=${BENCH_GUARD_WRITERS:-4}
rounds=${BENCH_GUARD_ROUNDS:-3}
port=${BENCH_GUARD_PORT:-19570}
capture=${BENCH_GUARD_CAPTURE:-off}
addr=127.0.0.1:${MILVUS23_PORT:-19541}
started=0
work=$(mktemp -d)
guard_pid=
cleanup() {
  [[ -n $guard_pid ]] && kill "$guard_pid" 2>/dev/null && wait "$guard_pid" 2>/dev/null
  [[ $started == 1 ]] && scripts/milvus-env.sh stop milvus23 >/dev/null 2>&1
  [[ -n ${BENCH_GUARD_KEEP:-} ]] && cp -r "$work" "$BENCH_GUARD_KEEP"; rm -rf "$work"
  true
}
trap cleanup EXIT
status=$(scripts/milvus-env.sh status)  # not piped into grep -q: pipefail would see SIGPIPE
if ! grep -q "^milvus23 *running" <<<"$status"; then
  scripts/milvus-env.sh start milvus23 >/dev/null
  started=1
fi
go build -o bin/guardbench ./internal/guardbench
go build -o bin/milvault ./cmd/milvault
args=(-milvus "$addr" -batches "$batches" -searches "$searches" -writers "$writers" -rounds "$rounds")
where="the guard runs in the bench process"
if [[ ${BENCH_GUARD_INPROCESS:-0} != 1 ]]; then
  bin/milvault init --repo "$work/repo" >/dev/null
  GOMAXPROCS=${BENCH_GUARD_GOMAXPROCS:-} MILVAULT_CPU_PROFILE=$work/guard.pprof bin/milvault guard --listen "127.0.0.1:$port" \
    --http-listen "127.0.0.1:$((port + 1))" --milvus "$addr" --repo "$work/repo" --capture "$capture" --guard-id bench 2>"$work/guard.log" &
  guard_pid=$!
  for _ in $(seq 100); do
    curl -fsS "http://127.0.0.1:$((port + 1))/healthz" >/dev/null 2>&1 && break
    kill -0 "$guard_pid" 2>/dev/null || { cat "$work/guard.log" >&2; echo "bench-guard: milvault guard did not start" >&2; exit 1; }
    sleep 0.1
  done
  args+=(-guard "127.0.0.1:$port" -guard-pid "$guard_pid")
  where="the guard is a separate \`milvault guard\` process with default policies, capture $capture (local repository), GOMAXPROCS ${BENCH_GUARD_GOMAXPROCS:-= cores}"
fi
section=$(mktemp)
{
  printf '\n## %s: `BENCH_GUARD_BATCHES=%s BENCH_GUARD_SEARCHES=%s BENCH_GUARD_WRITERS=%s BENCH_GUARD_ROUNDS=%s BENCH_GUARD_CAPTURE=%s BENCH_GUARD_INPROCESS=%s scripts/bench-guard.sh` (guard overhead)\n\n' \
    "$(date -u +%Y-%m-%d)" "$batches" "$searches" "$writers" "$rounds" "$capture" "${BENCH_GUARD_INPROCESS:-0}"
  printf 'Machine: %s cores, %s RAM, load average %s at the start; Milvus 2.3.5 on loopback; %s.\n\n' \
    "$(nproc)" "$(free -h | awk '/Mem:/{print $2}')" "$(cut -d' ' -f1-3 /proc/loadavg)" "$where"
} > "$section"
bin/guardbench "${args[@]}" -out "$section"
if [[ -n $guard_pid ]]; then
  kill "$guard_pid"
  wait "$guard_pid" 2>/dev/null || true
  guard_pid=
  if [[ -s $work/guard.pprof ]]; then
    {
      printf '\nWhere the guard process spent its CPU over the whole run (`go tool pprof -top`, 12 heaviest by cumulative time):\n\n```\n'
      go tool pprof -top -cum -nodecount=12 bin/milvault "$work/guard.pprof" 2>/dev/null | sed -n '/flat%/,$p'
      printf '```\n'
    } | tee -a "$section"
  fi
fi
cat "$section" >> docs/benchmarks.md
rm -f "$section"
