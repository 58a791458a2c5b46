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
# The tests that restart Milvus 2.3.5 with another configuration (resume
# after a restart; native backups with its storage on MinIO; TLS one-way and
# mutual; authorization) run meanwhile on a second milvus23 of their own
# (scripts/test-restarts.sh).
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
TEST_SH_STARTED=$(date +%s)
export TEST_SH_STARTED

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
restart_tests=
e2e_tests=()
stop_servers() {
  local pid
  for pid in "${e2e_tests[@]}"; do kill "$pid" 2>/dev/null || true; done
  [[ -z $main_test ]] || kill "$main_test" 2>/dev/null || true
  [[ -z $restart_tests ]] || kill -- "-$restart_tests" 2>/dev/null || true
  [[ -z $bulkwriter_install ]] || kill -- "-$bulkwriter_install" 2>/dev/null || true
  [[ -z $minio_build ]] || kill -- "-$minio_build" 2>/dev/null || true
  [[ -z $emulators_install ]] || kill -- "-$emulators_install" 2>/dev/null || true
  [[ -z $helm_build ]] || kill -- "-$helm_build" 2>/dev/null || true
  step "stopping Milvus, MinIO and the GCS and Azure emulators"
  bash "$env_sh" stop every 8>&- || true
  MILVUS_TEST_STATE=$PWD/.milvus-test/restart bash "$env_sh" stop milvus23 8>&- || true
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

# internal/e2e is the longest package, TestEndToEnd about half of it. Without
# go test flags it runs as three more go test processes beside the main one
# (the tests mostly wait for Milvus): TestEndToEnd on milvus23, TestEndToEnd
# on the other targets, and all its other tests. Each shard's output is in
# .milvus-test/e2e-N.log, shown when it is done.
e2e_pkg=github.com/milvault/milvault/internal/e2e
e2e_shards=()
if (($# == 0)) && printf '%s\n' "${main_pkgs[@]}" | grep -qx "$e2e_pkg"; then
  mapfile -t main_pkgs < <(printf '%s\n' "${main_pkgs[@]}" | grep -vx "$e2e_pkg")
  e2e_shards=('-run=^TestEndToEnd$/^milvus23$' '-run=^TestEndToEnd$ -skip=^TestEndToEnd$/^milvus23$' '-skip=^TestEndToEnd$')
fi

step "go vet ${pkgs[*]}"
go vet "${pkgs[@]}"

status=0
main_test=
if ((${#main_pkgs[@]})); then
  step "go test -count=1 -timeout 25m ${*:+$* }(${#main_pkgs[@]} packages: all but ${late_pkgs[*]##*/}${e2e_shards:+ internal/e2e}) in the background"
  go test -count=1 -timeout 25m "$@" "${main_pkgs[@]}" 8>&- &
  main_test=$!
fi

e2e_tests=()
for i in "${!e2e_shards[@]}"; do
  read -r -a shard <<<"${e2e_shards[$i]}"
  step "go test -count=1 -timeout 25m ${shard[*]} $e2e_pkg in the background (log in .milvus-test/e2e-$i.log)"
  go test -count=1 -timeout 25m "${shard[@]}" "$e2e_pkg" >".milvus-test/e2e-$i.log" 2>&1 8>&- &
  e2e_tests+=($!)
done

# The tests that restart Milvus 2.3.5 (resume after a restart, native backups
# on MinIO, TLS, authorization) run meanwhile on a milvus23 of their own
# (scripts/test-restarts.sh; ports RESTART_MILVUS23_PORT and
# RESTART_MILVUS23_INTERNAL_PORT_BASE).
step "tests that restart Milvus 2.3.5, on their own milvus23 (127.0.0.1:${RESTART_MILVUS23_PORT:-19545}), in the background (log in .milvus-test/restart-tests.log, shown when done)"
setsid bash scripts/test-restarts.sh "${pkgs[@]}" >.milvus-test/restart-tests.log 2>&1 8>&- &
restart_tests=$!

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
for i in "${!e2e_tests[@]}"; do
  step "waiting for go test ${e2e_shards[$i]} $e2e_pkg"
  e2e_status=0
  wait "${e2e_tests[$i]}" || e2e_status=$?
  cat ".milvus-test/e2e-$i.log"
  ((status != 0)) || status=$e2e_status
done
e2e_tests=()
if ((${#late_pkgs[@]})); then
  step "go test ${late_pkgs[*]}:"
  cat .milvus-test/go-test-late.log
fi
((status != 0)) || status=$late_status
step "go test exited with status $status"

step "example module: build examples/ and back up and restore through the library"
bash scripts/example.sh 8>&- || { step "the example failed"; [[ $status -ne 0 ]] || status=1; }

step "waiting for the tests that restart Milvus 2.3.5"
wait "$restart_tests" || { [[ $status -ne 0 ]] || status=1; }
restart_tests=
cat .milvus-test/restart-tests.log
exit "$status"
