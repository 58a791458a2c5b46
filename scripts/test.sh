#!/usr/bin/env bash
# test.sh is milvault's test command: it starts real Milvus servers (Milvus
# 2.3.5 and Milvus Lite, see milvus-env.sh), a MinIO S3 server (see
# minio.sh) and the GCS and Azure emulators (fake-gcs.sh, azurite.sh), runs
# go vet and go test against them, and always stops them again.
#
# Usage: scripts/test.sh [go test flags]      e.g. scripts/test.sh -run Restore -v
#        PKGS=./internal/... scripts/test.sh  (packages to vet and test; default ./...)
#
# Then builds the example module in examples/ and runs it against the same
# servers (scripts/example.sh): milvault used as a library from outside.
#
# When the native package is among the packages, Milvus 2.3.5 is restarted
# with its object storage on MinIO for the native-backup tests. When the
# milvus package is, it is restarted with TLS on (one-way, then mutual) for
# the TLS tests, and last with authorization enabled for the authentication
# test.
#
# Exits with go test's status (or go vet's, or 1 if the servers do not start,
# the example or the authentication test fails).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
env_sh=scripts/milvus-env.sh
read -r -a pkgs <<<"${PKGS:-./...}"

# step prints a heading with the seconds since the script started, so every
# log shows where the time goes.
step() { printf '==> [%5ds] %s\n' "$SECONDS" "$*"; }

# Two runs in one tree would restart each other's servers; take turns.
mkdir -p .milvus-test
exec 8>.milvus-test/test.lock
if ! flock -n 8; then
  step "another scripts/test.sh is running in this tree; waiting for it"
  flock 8
fi

# The servers run in their own sessions, so Ctrl-C reaches only this script
# and go; the EXIT trap then stops them. 8>&- keeps the lock out of them.
minio_build=
emulators_install=
bulkwriter_install=
helm_build=
main_test=
stop_servers() {
  [[ -z $main_test ]] || kill "$main_test" 2>/dev/null || true
  [[ -z $bulkwriter_install ]] || kill -- "-$bulkwriter_install" 2>/dev/null || true
  [[ -z $minio_build ]] || kill -- "-$minio_build" 2>/dev/null || true
  [[ -z $emulators_install ]] || kill -- "-$emulators_install" 2>/dev/null || true
  [[ -z $helm_build ]] || kill -- "-$helm_build" 2>/dev/null || true
  step "stopping Milvus, MinIO and the GCS and Azure emulators"
  bash "$env_sh" stop every 8>&- || true
  bash scripts/minio.sh stop 8>&- || true
  bash scripts/fake-gcs.sh stop 8>&- || true
  bash scripts/azurite.sh stop 8>&- || true
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The first MinIO build takes minutes; it runs while Milvus installs.
step "building MinIO in the background (cached after the first run; log in .milvus-test/minio-install.log)"
setsid bash scripts/minio.sh install >.milvus-test/minio-install.log 2>&1 8>&- &
minio_build=$!

# The GCS and Azure emulators (fake-gcs-server built from the Go module
# proxy, about a minute; Azurite from npm) install meanwhile too.
step "installing fake-gcs-server and Azurite in the background (cached; log in .milvus-test/emulators-install.log)"
setsid bash -c 'bash scripts/fake-gcs.sh install && bash scripts/azurite.sh install' >.milvus-test/emulators-install.log 2>&1 8>&- &
emulators_install=$!

# pymilvus's BulkWriter (its own venv in the cache) writes the Parquet files
# the import tests load; it installs meanwhile too (~1 minute the first time).
step "installing the BulkWriter venv in the background (cached; log in .milvus-test/bulkwriter-install.log)"
setsid bash scripts/bulkwriter-venv.sh install >.milvus-test/bulkwriter-install.log 2>&1 8>&- &
bulkwriter_install=$!

# helm checks deploy/helm/milvault (go test ./deploy/: helm lint, helm template
# against golden files); its first build takes minutes, also in the background.
step "building helm in the background (cached; log in .milvus-test/helm-install.log)"
setsid bash scripts/helm.sh install >.milvus-test/helm-install.log 2>&1 8>&- &
helm_build=$!

step "installing Milvus servers into .venv (and Milvus 2.2.16 and Lite 2.5.1 into ~/.cache/milvault/venvs, in parallel)"
bash "$env_sh" install every 8>&-

step "starting Milvus 2.3.5 and Milvus Lite"
bash "$env_sh" start all 8>&-
# Compatibility matrix (internal/matrix): the older generations too. A server
# that cannot start here is reported in MILVAULT_MATRIX_UNAVAILABLE, not fatal.
step "starting Milvus 2.2.16 and Milvus Lite 2.5.1 for the compatibility matrix"
bash "$env_sh" start extra 8>&-
# shellcheck source=/dev/null
source .milvus-test/env
export MILVAULT_TEST_TARGETS MILVAULT_MATRIX_TARGETS MILVAULT_MATRIX_UNAVAILABLE
step "MILVAULT_MATRIX_TARGETS=$MILVAULT_MATRIX_TARGETS${MILVAULT_MATRIX_UNAVAILABLE:+ (unavailable: $MILVAULT_MATRIX_UNAVAILABLE)}"
step "MILVAULT_TEST_TARGETS=$MILVAULT_TEST_TARGETS"

step "waiting for the MinIO build"
wait "$minio_build" || { cat .milvus-test/minio-install.log; exit 1; }
minio_build=
cat .milvus-test/minio-install.log
step "starting MinIO"
bash scripts/minio.sh start 8>&-
# shellcheck source=/dev/null
source .milvus-test/minio.env
step "MILVAULT_TEST_S3_ENDPOINT=$MILVAULT_TEST_S3_ENDPOINT"

step "waiting for the emulator installs, starting fake-gcs-server and Azurite"
wait "$emulators_install" || { cat .milvus-test/emulators-install.log; exit 1; }
emulators_install=
cat .milvus-test/emulators-install.log
bash scripts/fake-gcs.sh start 8>&-
bash scripts/azurite.sh start 8>&-
# shellcheck source=/dev/null
source .milvus-test/fake-gcs.env
# shellcheck source=/dev/null
source .milvus-test/azurite.env
step "MILVAULT_TEST_GCS_URL=$MILVAULT_TEST_GCS_URL MILVAULT_TEST_AZBLOB_URL=$MILVAULT_TEST_AZBLOB_URL"

# The main go test starts once Milvus, MinIO and the emulators are up; the
# packages that need the BulkWriter venv (importer) or helm (deploy) run in
# a second go test that starts as soon as those installs finish, while the
# main one runs.
late_re='^github.com/milvault/milvault/(deploy|importer)$'
mapfile -t all_pkgs < <(go list "${pkgs[@]}")
mapfile -t main_pkgs < <(printf '%s\n' "${all_pkgs[@]}" | grep -Ev "$late_re" || true)
mapfile -t late_pkgs < <(printf '%s\n' "${all_pkgs[@]}" | grep -E "$late_re" || true)

step "go vet ${pkgs[*]}"
go vet "${pkgs[@]}"

status=0
main_test=
if ((${#main_pkgs[@]})); then
  step "go test -count=1 -timeout 25m ${*:+$* }(${#main_pkgs[@]} packages: all but ${late_pkgs[*]##*/}) in the background"
  go test -count=1 -timeout 25m "$@" "${main_pkgs[@]}" 8>&- &
  main_test=$!
fi

step "waiting for the BulkWriter venv"
wait "$bulkwriter_install" || { cat .milvus-test/bulkwriter-install.log; exit 1; }
bulkwriter_install=
cat .milvus-test/bulkwriter-install.log
MILVAULT_TEST_BULKWRITER_PYTHON=$(bash scripts/bulkwriter-venv.sh path)
export MILVAULT_TEST_BULKWRITER_PYTHON

step "waiting for the helm build"
wait "$helm_build" || { cat .milvus-test/helm-install.log; exit 1; }
helm_build=
cat .milvus-test/helm-install.log
HELM=$(bash scripts/helm.sh path)
export HELM

late_status=0
if ((${#late_pkgs[@]})); then
  step "go test -count=1 -timeout 25m ${*:+$* }${late_pkgs[*]} (output in .milvus-test/go-test-late.log, shown when done)"
  go test -count=1 -timeout 25m "$@" "${late_pkgs[@]}" >.milvus-test/go-test-late.log 2>&1 8>&- || late_status=$?
  step "go test ${late_pkgs[*]} exited with status $late_status"
fi
if [[ -n $main_test ]]; then
  step "waiting for the main go test"
  wait "$main_test" || status=$?
  main_test=
fi
if ((${#late_pkgs[@]})); then
  step "go test ${late_pkgs[*]}:"
  cat .milvus-test/go-test-late.log
fi
((status != 0)) || status=$late_status
step "go test exited with status $status"

step "example module: build examples/ and back up and restore through the library"
bash scripts/example.sh 8>&- || { step "the example failed"; [[ $status -ne 0 ]] || status=1; }

# Resume after a Milvus restart (issue 17): the test stops and restarts the
# shared Milvus 2.3.5, so it runs alone, after the suite.
if [[ " ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *" ./internal/e2e"* ]]; then
  step "resume after a Milvus restart: Milvus 2.3.5 stopped and started by the test"
  MILVAULT_TEST_RESTART_MILVUS=1 \
    go test -count=1 -run '^TestResumeAfterMilvusRestart$' -v ./internal/e2e/ 8>&- || { [[ $status -ne 0 ]] || status=1; }
fi

# Native backups (package native) ran above against milvus23's local
# storage; the main ones run again with its storage on MinIO.
if [[ " ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *" ./native"* ]]; then
  step "native backups: Milvus 2.3.5 restarted with its object storage on MinIO"
  MILVUS23_STORAGE=minio bash "$env_sh" start milvus23 8>&-
  (
    # shellcheck source=/dev/null
    source .milvus-test/milvus23-storage.env
    export MILVAULT_TEST_MILVUS23_STORAGE
    go test -count=1 -run '^TestNative(RoundTrip|FlippedByte|Incremental|ConvertToLite)$' -v ./native/
  ) || { [[ $status -ne 0 ]] || status=1; }
fi

# TLS: Milvus 2.3.5 restarted with TLS on, one-way (tlsMode 1) then mutual
# (tlsMode 2), with certificates made by internal/testcert; the TLS tests of
# the milvus package and the CLI run against each.
if [[ " ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *" ./milvus"* ]]; then
  tls_dir=$PWD/.milvus-test/tls
  go run ./internal/testcert/gencerts "$tls_dir"
  for mode in 1 2; do
    step "TLS: Milvus 2.3.5 restarted with common.security.tlsMode=$mode"
    MILVUS23_EXTRA_ARGS="--tls-mode $mode --server-pem-path $tls_dir/server.pem --server-key-path $tls_dir/server.key --ca-pem-path $tls_dir/ca.pem" \
      bash "$env_sh" start milvus23 8>&-
    MILVAULT_TEST_TLS_MILVUS=127.0.0.1:${MILVUS23_PORT:-19541} MILVAULT_TEST_TLS_MODE=$mode MILVAULT_TEST_TLS_DIR=$tls_dir \
      go test -count=1 -run '^(TestTLS|TestProbeTLS|TestTLSEndToEnd)$' -v ./milvus/ ./internal/e2e/ || { [[ $status -ne 0 ]] || status=1; }
  done
fi

if [[ " ${pkgs[*]} " == *" ./... "* || " ${pkgs[*]} " == *" ./milvus"* || " ${pkgs[*]} " == *" ./guard"* ]]; then
  step "authentication: Milvus 2.3.5 restarted with authorization enabled"
  MILVUS23_EXTRA_ARGS='--authorization-enabled true' bash "$env_sh" start milvus23 8>&-
  MILVAULT_TEST_AUTH_MILVUS=127.0.0.1:${MILVUS23_PORT:-19541} \
    go test -count=1 -run '^(TestAuthentication|TestAuthenticationMilvus)$' -v ./milvus/ ./guard/ || { [[ $status -ne 0 ]] || status=1; }
  # RBAC round trip: users, roles and grants backed up (and the least
  # privilege tests) on this server, then restored into a fresh one (the
  # restart wipes its data).
  rbac_dir=$PWD/.milvus-test/rbac
  rm -rf "$rbac_dir" && mkdir -p "$rbac_dir"
  export MILVAULT_TEST_RBAC_MILVUS=127.0.0.1:${MILVUS23_PORT:-19541} MILVAULT_TEST_RBAC_DIR=$rbac_dir
  go test -count=1 -run '^(TestRBACBackup|TestLeastPrivilege)$' -v ./internal/e2e/ || { [[ $status -ne 0 ]] || status=1; }
  step "RBAC: Milvus 2.3.5 restarted empty with authorization enabled"
  MILVUS23_EXTRA_ARGS='--authorization-enabled true' bash "$env_sh" start milvus23 8>&-
  go test -count=1 -run '^TestRBACRestore$' -v ./internal/e2e/ || { [[ $status -ne 0 ]] || status=1; }
fi
exit "$status"
