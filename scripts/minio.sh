#!/usr/bin/env bash
# minio.sh runs a MinIO server on loopback, the real S3-compatible server the
# object-storage tests (repo/blob, internal/e2e) run against.
#
# Usage: scripts/minio.sh install|start|stop|env
#   install  build MinIO from the Go module proxy into the cache (reused
#            when present; the first build takes ~12 minutes on 2 cores)
#   start    install, then start it on 127.0.0.1:$MINIO_PORT with an empty
#            data folder, create the test buckets, write .milvus-test/minio.env
#   stop     stop the server this tree started
#   env      print .milvus-test/minio.env
#
# Environment:
#   MINIO_PORT      S3 port (default 19900; the console uses MINIO_PORT+1)
#   MINIO_VERSION   module version to build (default: the pinned one below)
#   MILVAULT_CACHE  cache folder (default ~/.cache/milvault); binary in bin/minio
#   MINIO_STATE_DIR data, log, pid and env files (default .milvus-test)
#
# Tests read .milvus-test/minio.env: MILVAULT_TEST_S3_ENDPOINT,
# MILVAULT_TEST_S3_ACCESS_KEY, MILVAULT_TEST_S3_SECRET_KEY,
# MILVAULT_TEST_S3_BUCKET and MILVAULT_TEST_S3_BUCKET2 (a second bucket, for
# copies between repositories), MILVAULT_TEST_S3_LOCKED_BUCKET (a bucket
# created with S3 Object Lock enabled, for the object-lock tests).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# MinIO publishes no semver tags, so @latest is the newest commit on master;
# pinning it keeps CI reproducible. This is what @latest resolved to when
# it was pinned (it builds with Go 1.26).
MINIO_VERSION=${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
MINIO_PORT=${MINIO_PORT:-19900}
CACHE=${MILVAULT_CACHE:-$HOME/.cache/milvault}
BIN=$CACHE/bin/minio
STATE=${MINIO_STATE_DIR:-.milvus-test}
DATA=$STATE/minio
PIDFILE=$STATE/minio.pid
ENVFILE=$STATE/minio.env
BUCKETS=(milvault-test milvault-test-2)
LOCKED_BUCKET=milvault-test-locked

NAME=minio
# shellcheck source=scripts/daemon-lib.sh
source scripts/daemon-lib.sh

install() {
  if [[ -x $BIN ]]; then
    say "using $BIN"
    return
  fi
  say "building github.com/minio/minio@$MINIO_VERSION into $BIN (takes minutes)"
  local start=$SECONDS
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -ldflags="-s -w" "github.com/minio/minio@$MINIO_VERSION"
  say "built in $((SECONDS - start))s"
}

start() {
  install
  running && stop
  rm -rf "$DATA"
  mkdir -p "$DATA"
  local user=milvault pass
  pass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  # A new session, so stop can signal the whole process group.
  MINIO_ROOT_USER=$user MINIO_ROOT_PASSWORD=$pass MINIO_BROWSER=off MINIO_UPDATE=off \
    setsid "$BIN" server --quiet --address "127.0.0.1:$MINIO_PORT" \
    --console-address "127.0.0.1:$((MINIO_PORT + 1))" "$DATA" \
    >"$STATE/minio.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$PIDFILE"
  wait_live || { tail -20 "$STATE/minio.log" >&2; stop; die "did not become live on port $MINIO_PORT"; }
  for b in "${BUCKETS[@]}"; do make_bucket "$user" "$pass" "$b"; done
  # Object lock can only be enabled when a bucket is created (it turns on
  # versioning too).
  make_bucket "$user" "$pass" "$LOCKED_BUCKET" -H "x-amz-bucket-object-lock-enabled: true"
  cat >"$ENVFILE" <<EOF
export MILVAULT_TEST_S3_ENDPOINT=http://127.0.0.1:$MINIO_PORT MILVAULT_TEST_S3_ACCESS_KEY=$user MILVAULT_TEST_S3_SECRET_KEY=$pass MILVAULT_TEST_S3_BUCKET=${BUCKETS[0]} MILVAULT_TEST_S3_BUCKET2=${BUCKETS[1]} MILVAULT_TEST_S3_LOCKED_BUCKET=$LOCKED_BUCKET
EOF
  say "live on http://127.0.0.1:$MINIO_PORT (pid $(cat "$PIDFILE")), buckets ${BUCKETS[*]}; source $ENVFILE"
}

wait_live() {
  local i
  for ((i = 0; i < 120; i++)); do
    curl -sf -m 2 "http://127.0.0.1:$MINIO_PORT/minio/health/live" >/dev/null 2>&1 && return 0
    running || return 1
    sleep 0.5
  done
  return 1
}

# make_bucket creates a bucket with a SigV4-signed PUT (the mc client is not
# needed; curl signs).
make_bucket() {
  curl -sf -m 10 -X PUT --user "$1:$2" --aws-sigv4 "aws:amz:us-east-1:s3" "${@:4}" \
    "http://127.0.0.1:$MINIO_PORT/$3" >/dev/null || die "could not create bucket $3"
}

daemon_main "$@"
