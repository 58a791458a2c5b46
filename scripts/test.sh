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
# Ports: those of milvus-env.sh, minio.sh, fake-gcs.sh and azurite.sh, and
# RESTART_MILVUS23_PORT / RESTART_MILVUS23_INTERNAL_PORT_BASE (test-restarts.sh).
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
bg_pids=()
stop_servers() {
  local pid
  for pid in "${bg_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
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
setsid nice -n 10 bash scripts/bulkwriter-venv.sh install >.milvus-test/bulkwriter-install.log 2>&1 8>&- &
bulkwriter_install=$!

# helm checks deploy/helm/milvault (go test ./deploy/: helm lint, helm template
# against golden files); its first build takes minutes, also in the background,
# niced like the BulkWriter venv: only one short package waits for each, so
# the MinIO build and the tests go first.
step "building helm in the background (cached; log in .milvus-test/helm-install.log)"
setsid nice -n 10 bash scripts/helm.sh install >.milvus-test/helm-install.log 2>&1 8>&- &
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

# The packages run in groups, each in its own go test as soon as what it
# needs is up (the tests mostly wait for Milvus, so the groups overlap):
#   milvus   every package not named below: starts now (output shown live);
#   storage  packages whose tests read MILVAULT_TEST_S3_ENDPOINT, _GCS_URL or
#            _AZBLOB_URL: start once MinIO and the emulators are up;
#   e2e      internal/e2e (the longest package), without go test flags in
#            four shards: the two slowest tests (TestEndToEnd and
#            TestResumeAfterKill, about 60% of it) on milvus23, the same on
#            the other targets, four more slow tests, and all its other tests
#            (a new test lands in the last);
#   late     importer (BulkWriter venv) and deploy (helm): once those install.
# Output of all but the first is in .milvus-test/go-test-NAME.log, shown at
# the end. The tests that restart Milvus 2.3.5 run meanwhile on a milvus23 of
# their own (scripts/test-restarts.sh).
mod=github.com/milvault/milvault
e2e_pkg=$mod/internal/e2e
late_re="^$mod/(deploy|importer)\$"
storage_pkgs=() late_pkgs=() milvus_pkgs=() e2e=
while read -r ip dir; do
  if [[ $ip == "$e2e_pkg" ]]; then
    e2e=1
  elif [[ $ip =~ $late_re ]]; then
    late_pkgs+=("$ip")
  elif grep -qsE 'MILVAULT_TEST_(S3_ENDPOINT|GCS_URL|AZBLOB_URL)' "$dir"/*.go; then
    storage_pkgs+=("$ip")
  else
    milvus_pkgs+=("$ip")
  fi
done < <(go list -f '{{.ImportPath}} {{.Dir}}' "${pkgs[@]}")
e2e_shards=()
if [[ -n $e2e ]]; then
  if (($#)); then
    storage_pkgs+=("$e2e_pkg")
  else
    per_target='TestEndToEnd|TestResumeAfterKill'
    heavy='TestEncryptedRepositories|TestPruneAndDeleteNeverDeleteUnderARestore|TestProofCommands|TestCloudRoundTrip'
    e2e_shards=("-run=^($per_target)\$/^milvus23\$" "-run=^($per_target)\$ -skip=^($per_target)\$/^milvus23\$"
      "-run=^($heavy)\$" "-skip=^($per_target|$heavy)\$")
  fi
fi
short() { printf '%s ' "${@#"$mod"/}"; }

step "go vet ${pkgs[*]}"
go vet "${pkgs[@]}"

status=0
note() { [[ $status -ne 0 ]] || status=$1; }
# bg_test NAME ARGS... starts go test ARGS in the background, its output in
# .milvus-test/go-test-NAME.log.
bg_names=() bg_pids=()
bg_test() {
  local name=$1
  shift
  step "go test $* in the background (log in .milvus-test/go-test-$name.log)"
  go test "$@" >".milvus-test/go-test-$name.log" 2>&1 8>&- &
  bg_names+=("$name") bg_pids+=($!)
}

main_test=
if ((${#milvus_pkgs[@]})); then
  step "go test -count=1 -timeout 25m ${*:+$* }(${#milvus_pkgs[@]} packages: all but internal/e2e and $(short "${storage_pkgs[@]}" "${late_pkgs[@]}")) in the background"
  go test -count=1 -timeout 25m "$@" "${milvus_pkgs[@]}" 8>&- &
  main_test=$!
fi

step "waiting for the MinIO build"
wait "$minio_build" || { cat .milvus-test/minio-install.log; exit 1; }
minio_build=
cat .milvus-test/minio-install.log
step "starting MinIO"
bash scripts/minio.sh start 8>&-
# shellcheck source=/dev/null
source .milvus-test/minio.env
step "MILVAULT_TEST_S3_ENDPOINT=$MILVAULT_TEST_S3_ENDPOINT"

# The tests that restart Milvus 2.3.5 (resume after a restart, native backups
# on MinIO, TLS, authorization) on a milvus23 of their own (ports
# RESTART_MILVUS23_PORT and RESTART_MILVUS23_INTERNAL_PORT_BASE).
step "tests that restart Milvus 2.3.5, on their own milvus23 (127.0.0.1:${RESTART_MILVUS23_PORT:-19545}), in the background (log in .milvus-test/restart-tests.log)"
setsid bash scripts/test-restarts.sh "${pkgs[@]}" >.milvus-test/restart-tests.log 2>&1 8>&- &
restart_tests=$!

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

((${#storage_pkgs[@]} == 0)) || bg_test storage -count=1 -timeout 25m "$@" "${storage_pkgs[@]}"
for i in "${!e2e_shards[@]}"; do
  read -r -a shard <<<"${e2e_shards[$i]}"
  bg_test "e2e-$i" -count=1 -timeout 25m "${shard[@]}" "$e2e_pkg"
done

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

((${#late_pkgs[@]} == 0)) || bg_test late -count=1 -timeout 25m "$@" "${late_pkgs[@]}"

if [[ -n $main_test ]]; then
  step "waiting for the go test of the ${#milvus_pkgs[@]} packages"
  rc=0
  wait "$main_test" || rc=$?
  main_test=
  step "go test of the packages above exited with status $rc"
  note "$rc"
fi
for i in "${!bg_pids[@]}"; do
  step "waiting for go test ${bg_names[$i]}"
  rc=0
  wait "${bg_pids[$i]}" || rc=$?
  cat ".milvus-test/go-test-${bg_names[$i]}.log"
  step "go test ${bg_names[$i]} exited with status $rc"
  note "$rc"
done
bg_pids=()

step "example module: build examples/ and back up and restore through the library"
bash scripts/example.sh 8>&- || { step "the example failed"; note 1; }

step "waiting for the tests that restart Milvus 2.3.5"
rc=0
wait "$restart_tests" || rc=$?
restart_tests=
cat .milvus-test/restart-tests.log
note "$rc"
step "done, status $status"
exit "$status"
