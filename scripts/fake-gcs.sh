#!/usr/bin/env bash
# fake-gcs.sh runs fake-gcs-server (github.com/fsouza/fake-gcs-server), a
# Google Cloud Storage emulator, on loopback for the GCS tests (repo/blob,
# internal/e2e).
#
# Usage: scripts/fake-gcs.sh install|start|stop|env
#   install  build the pinned version from the Go module proxy into the cache
#            (reused when present; about a minute on 2 cores)
#   start    install, then start it on 127.0.0.1:$FAKE_GCS_PORT (in-memory
#            backend), create the test bucket, write .milvus-test/fake-gcs.env
#   stop     stop the server this tree started
#   env      print .milvus-test/fake-gcs.env
#
# Environment:
#   FAKE_GCS_PORT     HTTP port (default 19920; keep it in your own port range)
#   FAKE_GCS_VERSION  module version to build (default: the pinned one below)
#   MILVAULT_CACHE    cache folder (default ~/.cache/milvault); binary in
#                     bin/fake-gcs-server-<version>
#   MINIO_STATE_DIR   log, pid and env files (default .milvus-test)
#
# Tests read .milvus-test/fake-gcs.env: STORAGE_EMULATOR_HOST (which the
# Google client libraries, and so gocloud's gs:// driver, send every request
# to, without credentials) and MILVAULT_TEST_GCS_URL (a repository URL in the
# test bucket).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FAKE_GCS_VERSION=${FAKE_GCS_VERSION:-v1.56.1}
FAKE_GCS_PORT=${FAKE_GCS_PORT:-19920}
CACHE=${MILVAULT_CACHE:-$HOME/.cache/milvault}
BIN=$CACHE/bin/fake-gcs-server-$FAKE_GCS_VERSION
STATE=${MINIO_STATE_DIR:-.milvus-test}
PIDFILE=$STATE/fake-gcs.pid
ENVFILE=$STATE/fake-gcs.env
BUCKET=milvault-test

NAME=fake-gcs
# shellcheck source=scripts/daemon-lib.sh
source scripts/daemon-lib.sh

# built_version prints the module version the binary was built from (the
# server itself does not report one).
built_version() { go version -m "$BIN" 2>/dev/null | awk '$1 == "mod" { print $3 }'; }

install() {
  if [[ -x $BIN && $(built_version) == "$FAKE_GCS_VERSION" ]]; then
    say "using $BIN"
    return
  fi
  say "building github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION into $BIN"
  local start=$SECONDS tmp
  tmp=$(mktemp -d)
  GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -ldflags="-s -w" "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
  mkdir -p "$CACHE/bin"
  mv "$tmp/fake-gcs-server" "$BIN"
  rmdir "$tmp"
  [[ $(built_version) == "$FAKE_GCS_VERSION" ]] || die "$BIN reports version '$(built_version)', want $FAKE_GCS_VERSION"
  say "built in $((SECONDS - start))s"
}

start() {
  install
  running && stop
  mkdir -p "$STATE"
  local addr=127.0.0.1:$FAKE_GCS_PORT
  # A new session, so stop can signal the whole process group.
  setsid "$BIN" -scheme http -host 127.0.0.1 -port "$FAKE_GCS_PORT" -backend memory \
    -public-host "$addr" -external-url "http://$addr" -log-level warn \
    >"$STATE/fake-gcs.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$PIDFILE"
  wait_live || { tail -20 "$STATE/fake-gcs.log" >&2; stop; die "did not become live on port $FAKE_GCS_PORT"; }
  curl -sf -m 10 -X POST -H 'Content-Type: application/json' -d "{\"name\":\"$BUCKET\"}" \
    "http://$addr/storage/v1/b?project=milvault-test" >/dev/null || die "could not create bucket $BUCKET"
  cat >"$ENVFILE" <<EOT
export STORAGE_EMULATOR_HOST=$addr MILVAULT_TEST_GCS_URL=gs://$BUCKET/milvault
EOT
  say "fake-gcs-server $(built_version) live on http://$addr (pid $(cat "$PIDFILE")), bucket $BUCKET; source $ENVFILE"
}

wait_live() {
  local i
  for ((i = 0; i < 120; i++)); do
    curl -sf -m 2 "http://127.0.0.1:$FAKE_GCS_PORT/_internal/healthcheck" >/dev/null 2>&1 && return 0
    running || return 1
    sleep 0.5
  done
  return 1
}

daemon_main "$@"
