#!/usr/bin/env bash
# test-restarts.sh runs the tests that restart Milvus 2.3.5 with another
# configuration: resume after a Milvus restart, native backups with the
# object storage on MinIO, TLS (one-way, then mutual) and authorization
# (authentication, RBAC backup and restore, least privilege). They run on a
# milvus23 of their own (state in .milvus-test/restart, its own ports), so
# scripts/test.sh runs this script while the main go test uses the shared
# servers.
#
# Usage: scripts/test-restarts.sh [PACKAGE...]   (default ./...; a block runs
#        when its package is among them, as in scripts/test.sh)
#
# Needs: MinIO started (scripts/minio.sh start; its .milvus-test/minio.env),
# MILVAULT_TEST_TARGETS exported (its milvus23 address is replaced by this
# script's milvus23; its lite is used as it is, by the native conversion
# test). Environment: RESTART_MILVUS23_PORT (19545),
# RESTART_MILVUS23_INTERNAL_PORT_BASE (39590; uses the 10 ports above it).
# Exits 0 when every test passed, 1 otherwise; always stops its milvus23.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_sh=scripts/milvus-env.sh
pkgs=("${@:-./...}")
started=${TEST_SH_STARTED:-$(date +%s)}

step() { printf '==> [%5ds] restarts: %s\n' "$(($(date +%s) - started))" "$*"; }
has() { # has PKG...: one of the packages was asked for
  local p
  for p in "./..." "$@"; do
    [[ " ${pkgs[*]} " == *" $p "* || " ${pkgs[*]} " == *" $p/"* ]] && return 0
  done
  return 1
}

export MILVUS_TEST_STATE=$PWD/.milvus-test/restart
export MILVUS23_PORT=${RESTART_MILVUS23_PORT:-19545}
export MILVUS23_INTERNAL_PORT_BASE=${RESTART_MILVUS23_INTERNAL_PORT_BASE:-39590}
addr=127.0.0.1:$MILVUS23_PORT
mkdir -p "$MILVUS_TEST_STATE"
cp .milvus-test/minio.env "$MILVUS_TEST_STATE/minio.env"
# shellcheck source=/dev/null
source .milvus-test/minio.env
: "${MILVAULT_TEST_TARGETS:?export MILVAULT_TEST_TARGETS (source .milvus-test/env)}"
MILVAULT_TEST_TARGETS=$(printf '%s' "$MILVAULT_TEST_TARGETS" | sed -E "s/(^|,)milvus23=[^,]*/\1milvus23=$addr/")
export MILVAULT_TEST_TARGETS
trap 'bash "$env_sh" stop milvus23 >/dev/null 2>&1 || true' EXIT

status=0
fail() { [[ $status -ne 0 ]] || status=1; }

# Resume and in-process reconnect (backup --reconnect) after a Milvus
# restart (issue 17): the tests stop and restart milvus23 themselves.
if has ./internal/e2e; then
  step "resume after a Milvus restart: Milvus 2.3.5 ($addr) stopped and started by the test"
  bash "$env_sh" start milvus23
  MILVAULT_TEST_RESTART_MILVUS=1 \
    go test -count=1 -run '^(TestResumeAfterMilvusRestart|TestReconnectAfterMilvusRestart)$' -v ./internal/e2e/ || fail
fi

# Native backups (package native) run in the main suite against milvus23's
# local storage; the main ones run again with its storage on MinIO.
if has ./native; then
  step "native backups: Milvus 2.3.5 ($addr) restarted with its object storage on MinIO"
  MILVUS23_STORAGE=minio bash "$env_sh" start milvus23
  (
    # shellcheck source=/dev/null
    source "$MILVUS_TEST_STATE/milvus23-storage.env"
    export MILVAULT_TEST_MILVUS23_STORAGE
    go test -count=1 -run '^TestNative(RoundTrip|FlippedByte|Incremental|ConvertToLite)$' -v ./native/ &&
      # drills, quick/deep verifications and service policies of native
      # backups (binlog import through the MinIO storage; skipped in the
      # main suite)
      go test -count=1 -run '^TestNative(Drill|DrillFlippedByte|DrillRefusedOnLite|QuickAndDeep|Policy)$' -v ./drill/ ./verify/ ./service/
  ) || fail
fi

# TLS: Milvus 2.3.5 restarted with TLS on, one-way (tlsMode 1) then mutual
# (tlsMode 2), with certificates made by internal/testcert; the TLS tests of
# the milvus package and the CLI run against each.
if has ./milvus; then
  tls_dir=$PWD/.milvus-test/tls
  go run ./internal/testcert/gencerts "$tls_dir"
  for mode in 1 2; do
    step "TLS: Milvus 2.3.5 ($addr) restarted with common.security.tlsMode=$mode"
    MILVUS23_EXTRA_ARGS="--tls-mode $mode --server-pem-path $tls_dir/server.pem --server-key-path $tls_dir/server.key --ca-pem-path $tls_dir/ca.pem" \
      bash "$env_sh" start milvus23
    MILVAULT_TEST_TLS_MILVUS=$addr MILVAULT_TEST_TLS_MODE=$mode MILVAULT_TEST_TLS_DIR=$tls_dir \
      go test -count=1 -run '^(TestTLS|TestProbeTLS|TestTLSEndToEnd)$' -v ./milvus/ ./internal/e2e/ || fail
  done
fi

if has ./milvus ./guard; then
  step "authentication: Milvus 2.3.5 ($addr) restarted with authorization enabled"
  MILVUS23_EXTRA_ARGS='--authorization-enabled true' bash "$env_sh" start milvus23
  MILVAULT_TEST_AUTH_MILVUS=$addr \
    go test -count=1 -run '^(TestAuthentication|TestAuthenticationMilvus)$' -v ./milvus/ ./guard/ || fail
  # RBAC round trip: users, roles and grants backed up (and the least
  # privilege tests) on this server, then restored into a fresh one (the
  # restart wipes its data).
  rbac_dir=$PWD/.milvus-test/rbac
  rm -rf "$rbac_dir" && mkdir -p "$rbac_dir"
  export MILVAULT_TEST_RBAC_MILVUS=$addr MILVAULT_TEST_RBAC_DIR=$rbac_dir
  go test -count=1 -run '^(TestRBACBackup|TestLeastPrivilege)$' -v ./internal/e2e/ || fail
  step "RBAC: Milvus 2.3.5 ($addr) restarted empty with authorization enabled"
  MILVUS23_EXTRA_ARGS='--authorization-enabled true' bash "$env_sh" start milvus23
  go test -count=1 -run '^TestRBACRestore$' -v ./internal/e2e/ || fail
fi
step "done, status $status"
exit "$status"
