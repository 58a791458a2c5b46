#!/usr/bin/env bash
# milvus-env.sh installs and runs the real Milvus servers that milvault's
# integration tests talk to:
#
#   milvus23  Milvus 2.3.5 standalone (embedded etcd, local storage), from the
#             `milvus` PyPI package, console script milvus-server.
#   lite      Milvus Lite 3.x gRPC server, from the `milvus-lite` package.
#   milvus22  Milvus 2.2.16 standalone, the same launcher from `milvus==2.2.16`
#             (its own venv: it pins other dependencies than 2.3.5).
#   lite25    Milvus Lite 2.5.1, the C++ server bundled in `milvus-lite==2.5.1`
#             (milvus_lite/lib/milvus DBFILE HOST:PORT LEVEL; own venv).
#
# The groups: all = milvus23 lite (what the whole test suite runs against),
# extra = milvus22 lite25 (the older generations of the compatibility matrix),
# every = all four.
#
# Usage: scripts/milvus-env.sh install [all|extra|every]      (default every)
#        scripts/milvus-env.sh start  [TARGET|GROUP]          (default all)
#        scripts/milvus-env.sh stop   [TARGET|GROUP]          (default every)
#        scripts/milvus-env.sh status
#
# Everything of milvus23 and lite lives in the repo: the venv in .venv/, data,
# logs and pid files in .milvus-test/. The extra servers' venvs are cached in
# ~/.cache/milvault/venvs/ (MILVAULT_CACHE), installed in the background while
# .venv installs. `start` wipes a target's data and (re)starts it; `start` and
# `stop` are safe to repeat. After `start`, `source .milvus-test/env` exports
# MILVAULT_TEST_TARGETS="milvus23=127.0.0.1:19541,lite=127.0.0.1:19542" (the
# running targets of group all) and MILVAULT_MATRIX_TARGETS (every running
# target, for the compatibility matrix test) and MILVAULT_MATRIX_UNAVAILABLE
# ("name: reason; ..." for extra servers that could not be installed or started;
# a failed extra server does not fail `start`).
#
# Environment: MILVUS23_PORT (19541), MILVUS_LITE_PORT (19542),
# MILVUS23_INTERNAL_PORT_BASE (39530), MILVUS22_PORT (19543), LITE25_PORT
# (19544), MILVUS22_INTERNAL_PORT_BASE (39560), MILVUS_START_TIMEOUT (120 s),
# PYTHON, MILVUS23_EXTRA_ARGS (more milvus-server arguments for milvus23, e.g.
# '--authorization-enabled true' for the authentication test),
# MILVUS23_STORAGE (local, the default, or minio: milvus23 keeps its segment
# files in bucket MILVUS23_BUCKET (milvus23-data), root path "files", of the
# project's MinIO, which `scripts/minio.sh start` must have started first;
# `start` then writes .milvus-test/milvus23-storage.env exporting
# MILVAULT_TEST_MILVUS23_STORAGE, the s3:// URL of that storage, for the
# native-backup tests),
# MILVUS23_KEEP_DATA=1 (start milvus23 on the data it had: a restart, as the
# resume-after-restart test does), MILVUS_TEST_STATE (an absolute folder used
# instead of .milvus-test/ for data, logs, pid files and env: a second,
# independent milvus23 on other ports, as scripts/test.sh starts for the tests
# that restart it; MILVUS23_STORAGE=minio then reads minio.env from there).
#
# After `start`, .milvus-test/milvus23.metrics-port holds the metrics and
# management HTTP port the launcher chose (9091 or the next free one).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv
STATE=${MILVUS_TEST_STATE:-$ROOT/.milvus-test}
HOST=127.0.0.1
MILVUS23_PORT=${MILVUS23_PORT:-19541}
MILVUS_LITE_PORT=${MILVUS_LITE_PORT:-19542}
MILVUS23_INTERNAL_PORT_BASE=${MILVUS23_INTERNAL_PORT_BASE:-39530}
MILVUS22_PORT=${MILVUS22_PORT:-19543}
LITE25_PORT=${LITE25_PORT:-19544}
MILVUS22_INTERNAL_PORT_BASE=${MILVUS22_INTERNAL_PORT_BASE:-39560}
START_TIMEOUT=${MILVUS_START_TIMEOUT:-120}
STOP_GRACE=15 # seconds between SIGTERM and SIGKILL
ALL_TARGETS=(milvus23 lite milvus22 lite25)
EXTRA_TARGETS=(milvus22 lite25)
VENVS=${MILVAULT_CACHE:-$HOME/.cache/milvault}/venvs
MILVUS22_VENV=$VENVS/milvus-2.2.16
LITE25_VENV=$VENVS/lite-2.5.1

# milvus==2.3.5, not the newer 2.3.9: PyPI has 2.3.9 only as a macOS arm64
# wheel, and 2.3.5 is the newest release with a Linux x86_64 wheel.
PACKAGES=(milvus==2.3.5 "milvus-lite>=3,<4" pymilvus)

say() { printf 'milvus-env: %s\n' "$*"; }
die() { printf 'milvus-env: error: %s\n' "$*" >&2; exit 1; }

# ---- install -------------------------------------------------------------

venv_ready() {
  [[ -x $VENV/bin/milvus-server && -x $VENV/bin/milvus-lite ]] || return 1
  "$VENV/bin/python" - <<'EOF' >/dev/null 2>&1
import importlib.metadata as md
import milvus, milvus_lite, pymilvus
assert md.version("milvus") == "2.3.5"
assert md.version("milvus-lite").split(".")[0] == "3"
EOF
}

install_main() {
  if venv_ready; then
    say "venv ready: .venv (milvus 2.3.5, milvus-lite 3.x, pymilvus)"
    return
  fi
  mkdir -p "$STATE"
  local log=$STATE/install.log started=$SECONDS
  : >"$log"
  if [[ -d $VENV ]] && ! "$VENV/bin/python" -c '' >/dev/null 2>&1; then
    say "removing broken venv .venv"
    rm -rf "$VENV"
  fi
  if [[ ! -d $VENV ]]; then
    "${PYTHON:-python3}" -m venv "$VENV" >>"$log" 2>&1 ||
      { tail -n 20 "$log" >&2; die "could not create .venv with ${PYTHON:-python3} (need Python >= 3.10 with venv; on Debian: apt-get install python3-venv)"; }
  fi
  say "installing ${PACKAGES[*]} into .venv (takes a minute or two)"
  if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
      "${PACKAGES[@]}" >>"$log" 2>&1; then
    tail -n 30 "$log" >&2
    die "pip install failed; full log in ${log#"$ROOT"/}"
  fi
  venv_ready || die "packages installed but do not import; see ${log#"$ROOT"/}"
  say "installed in $((SECONDS - started)) s"
}

# ---- install: the extra servers, each in its own cached venv ---------------

extra_venv() {
  case $1 in
    milvus22) echo "$MILVUS22_VENV" ;;
    lite25) echo "$LITE25_VENV" ;;
  esac
}

extra_package() {
  case $1 in
    milvus22) echo milvus==2.2.16 ;;
    lite25) echo milvus-lite==2.5.1 ;;
  esac
}

# lite25_lib prints the folder of the bundled lite 2.5.1 server and its libraries.
lite25_lib() {
  local d=("$LITE25_VENV"/lib/python3*/site-packages/milvus_lite/lib)
  echo "${d[0]}"
}

extra_ready() {
  local v
  v=$(extra_venv "$1")
  case $1 in
    milvus22)
      [[ -x $v/bin/milvus-server ]] &&
        "$v/bin/python" -c 'import importlib.metadata as md; assert md.version("milvus") == "2.2.16"' 2>/dev/null
      ;;
    lite25) [[ -x $(lite25_lib)/milvus ]] ;;
  esac
}

# install_extra installs target $1's package into its venv, under a lock so
# that two worktrees sharing the cache do not install it at once.
install_extra() {
  local name=$1 v log=$STATE/install-$1.log
  v=$(extra_venv "$name")
  mkdir -p "$VENVS"
  exec 7>"$VENVS/.$name.lock"
  flock 7
  if extra_ready "$name"; then
    say "$name: venv ready: ${v/#"$HOME"/\~}"
    return 0
  fi
  : >"$log"
  rm -rf "$v"
  if "${PYTHON:-python3}" -m venv "$v" >>"$log" 2>&1 &&
    "$v/bin/python" -m pip install --quiet --disable-pip-version-check "$(extra_package "$name")" >>"$log" 2>&1 &&
    extra_ready "$name"; then
    say "$name: installed $(extra_package "$name") into ${v/#"$HOME"/\~}"
    return 0
  fi
  tail -n 20 "$log" >&2
  rm -rf "$v"
  say "$name: warning: installing $(extra_package "$name") failed (log ${log#"$ROOT"/}); it will be reported unavailable" >&2
  return 1
}

# cmd_install installs the venvs of group $1: the extra servers in the
# background, in parallel with .venv. A failed extra server is a warning.
cmd_install() {
  local group=${1:-every} name pids=()
  mkdir -p "$STATE"
  if [[ $group != all ]]; then
    for name in "${EXTRA_TARGETS[@]}"; do
      install_extra "$name" &
      pids+=($!)
    done
  fi
  [[ $group == extra ]] || install_main
  for name in "${pids[@]}"; do wait "$name" || true; done
}

# ---- processes and ports --------------------------------------------------

port_of() {
  case $1 in
    milvus23) echo "$MILVUS23_PORT" ;;
    lite) echo "$MILVUS_LITE_PORT" ;;
    milvus22) echo "$MILVUS22_PORT" ;;
    lite25) echo "$LITE25_PORT" ;;
  esac
}

# base_of prints the first of the ten internal ports of standalone target $1.
base_of() {
  case $1 in
    milvus23) echo "$MILVUS23_INTERNAL_PORT_BASE" ;;
    milvus22) echo "$MILVUS22_INTERNAL_PORT_BASE" ;;
  esac
}

is_lite() { [[ $1 == lite || $1 == lite25 ]]; }

# listening reports whether something accepts TCP connections on HOST:$1.
listening() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" >/dev/null 2>&1
}

# bindable reports whether HOST:$1 can be bound without SO_REUSEADDR, which is
# how the milvus-server launcher probes ports: if it cannot bind the proxy port
# it silently moves to the next one.
bindable() {
  "$VENV/bin/python" -c "import socket; socket.socket().bind(('$HOST', $1))" 2>/dev/null
}

# group_pids prints the pids of process group $1 (read from /proc, so that
# procps is not needed).
group_pids() {
  local f stat pid pgrp
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    pid=${f#/proc/}
    pid=${pid%/stat}
    stat=${stat##*) }
    read -r _ _ pgrp _ <<<"$stat"
    [[ $pgrp == "$1" ]] && echo "$pid"
  done
  return 0
}

cmdline() { tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" || true; }

# group_alive reports whether process group $1 still has a process of target $2
# (one whose command line names the target's data directory), so that a stale
# pid file never makes us signal someone else's processes.
group_alive() {
  local pid
  for pid in $(group_pids "$1"); do
    [[ $(cmdline "$pid") == *"$STATE/$2"* ]] && return 0
  done
  return 1
}

pgid_of() { [[ -s $STATE/$1.pid ]] && cat "$STATE/$1.pid"; }

running() {
  local pg
  pg=$(pgid_of "$1") || return 1
  group_alive "$pg" "$1"
}

# ---- start ----------------------------------------------------------------

# launch starts "$@" in a new session (so its process group can be killed as
# a whole) and records the group id in $STATE/$name.pid. The shell fds 8 and 9
# are closed so that servers never hold a caller's lock.
launch() {
  local name=$1 log=$2
  shift 2
  rm -f "$STATE/$name.pid"
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$STATE/$name.pid" "$@" \
    </dev/null >"$log" 2>&1 8>&- 9>&- &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $STATE/$name.pid ]] && return 0
    sleep 0.1
  done
  die "$name: launcher did not record its pid"
}

launch_milvus23() {
  local extra=()
  read -r -a extra <<<"${MILVUS23_EXTRA_ARGS:-}"
  local storage
  storage=$(storage_args) || die "milvus23: $storage"
  local storage_extra=()
  read -r -a storage_extra <<<"$storage"
  extra+=("${storage_extra[@]+"${storage_extra[@]}"}")
  launch_standalone milvus23 "$VENV" "${extra[@]+"${extra[@]}"}"
}

launch_milvus22() { launch_standalone milvus22 "$MILVUS22_VENV"; }

# launch_standalone starts target $1 with the milvus-server launcher of venv
# $2 and more launcher arguments "${@:3}".
launch_standalone() {
  local name=$1 venv=$2 dir=$STATE/$1 port b
  shift 2
  port=$(port_of "$name")
  b=$(base_of "$name")
  # Keep bin/ (the 250 MB of binaries the launcher decompresses, checked by
  # md5 on every start); wipe data, logs and configs.
  if [[ -d $dir && ! ($name == milvus23 && ${MILVUS23_KEEP_DATA:-0} == 1) ]]; then
    find "$dir" -mindepth 1 -maxdepth 1 ! -name bin -exec rm -rf {} +
  fi
  mkdir -p "$dir"
  # The embedded etcd ignores --etcd-port and listens on 2379/2380 unless given
  # an etcd config file; ETCD_CONFIG_PATH sets etcd.config.path.
  cat >"$dir/etcd.yaml" <<EOF
listen-client-urls: http://$HOST:$((b + 9))
advertise-client-urls: http://$HOST:$((b + 9))
listen-peer-urls: http://$HOST:$((b + 10))
initial-advertise-peer-urls: http://$HOST:$((b + 10))
initial-cluster: default=http://$HOST:$((b + 10))
EOF
  launch "$name" "$STATE/$name.log" \
    env PYTHONUNBUFFERED=1 ETCD_CONFIG_PATH="$dir/etcd.yaml" \
    "$venv/bin/milvus-server" --data "$dir" --proxy-port "$port" \
    --root-coord-port $((b + 1)) --proxy-internal-port $((b + 2)) \
    --query-coord-port $((b + 3)) --query-node-port $((b + 4)) \
    --index-coord-port $((b + 5)) --index-node-port $((b + 6)) \
    --data-coord-port $((b + 7)) --data-node-port $((b + 8)) \
    --etcd-port $((b + 9)) "$@"
}

# storage_args prints the --extra-config arguments that put milvus23's object
# storage on the project's MinIO when MILVUS23_STORAGE=minio (nothing for
# local storage), creates the bucket and writes milvus23-storage.env; on
# failure it prints the reason and fails.
storage_args() {
  rm -f "$STATE/milvus23-storage.env"
  case ${MILVUS23_STORAGE:-local} in
    local) return 0 ;;
    minio) ;;
    *) echo "MILVUS23_STORAGE must be local or minio, not ${MILVUS23_STORAGE}"; return 1 ;;
  esac
  local env=$STATE/minio.env bucket=${MILVUS23_BUCKET:-milvus23-data}
  [[ -s $env ]] || { echo "MILVUS23_STORAGE=minio needs MinIO: run scripts/minio.sh start first"; return 1; }
  # shellcheck disable=SC1090
  source "$env"
  local hostport=${MILVAULT_TEST_S3_ENDPOINT#http://}
  # 200: created; 409: it exists already (a restart with the same MinIO).
  local code
  code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' -X PUT \
    --user "$MILVAULT_TEST_S3_ACCESS_KEY:$MILVAULT_TEST_S3_SECRET_KEY" \
    --aws-sigv4 "aws:amz:us-east-1:s3" "$MILVAULT_TEST_S3_ENDPOINT/$bucket") || true
  [[ $code == 200 || $code == 409 ]] ||
    { echo "could not create bucket $bucket on $MILVAULT_TEST_S3_ENDPOINT (HTTP $code)"; return 1; }
  printf 'export MILVAULT_TEST_MILVUS23_STORAGE="s3://%s/files?endpoint=%s&use_path_style=true"\n' \
    "$bucket" "$MILVAULT_TEST_S3_ENDPOINT" >"$STATE/milvus23-storage.env"
  echo "--extra-config common.storageType=minio --extra-config minio.address=${hostport%:*}" \
    "--extra-config minio.port=${hostport##*:} --extra-config minio.accessKeyID=$MILVAULT_TEST_S3_ACCESS_KEY" \
    "--extra-config minio.secretAccessKey=$MILVAULT_TEST_S3_SECRET_KEY --extra-config minio.bucketName=$bucket" \
    "--extra-config minio.rootPath=files"
}

launch_lite() {
  rm -rf "$STATE/lite"
  mkdir -p "$STATE/lite"
  launch lite "$STATE/lite.log" \
    env PYTHONUNBUFFERED=1 "$VENV/bin/milvus-lite" server \
    --data-dir "$STATE/lite" --host "$HOST" --port "$MILVUS_LITE_PORT"
}

launch_lite25() {
  local lib
  lib=$(lite25_lib)
  rm -rf "$STATE/lite25"
  mkdir -p "$STATE/lite25"
  launch lite25 "$STATE/lite25.log" \
    env LD_LIBRARY_PATH="$lib" "$lib/milvus" "$STATE/lite25/milvus.db" "$HOST:$LITE25_PORT" INFO
}

# milvus_child prints the pid of target $2's `milvus run standalone` process
# in process group $1.
milvus_child() {
  local pid
  for pid in $(group_pids "$1"); do
    [[ $(cmdline "$pid") == *"$STATE/$2/bin/milvus run"* ]] && { echo "$pid"; return 0; }
  done
  return 1
}

http_ok() {
  if command -v curl >/dev/null; then
    [[ $(curl -sf -m 2 "$1" 2>/dev/null) == *OK* ]]
  else
    "$VENV/bin/python" -c "import sys, urllib.request as u; sys.exit('OK' not in u.urlopen('$1', timeout=2).read().decode())" 2>/dev/null
  fi
}

# proxy_port_in_config prints the proxy port the launcher of target $1 wrote
# into milvus.yaml.
proxy_port_in_config() {
  awk '/^proxy:/ { p = 1; next } /^[^ #]/ { p = 0 } p && /^  port:/ { print $2; exit }' \
    "$STATE/$1/configs/milvus.yaml" 2>/dev/null
}

# check_ready prints nothing and succeeds when target $1 is serving, prints a
# reason and fails for good when it cannot become ready, and returns 2 while
# it is still starting.
check_ready() {
  local name=$1 pg child metrics
  pg=$(pgid_of "$name") || { echo "no pid file"; return 1; }
  group_alive "$pg" "$name" || { echo "process exited"; return 1; }
  if is_lite "$name"; then
    listening "$(port_of "$name")" || return 2
    return 0
  fi
  # The launcher outlives a crashed milvus child, so watch the child itself.
  if child=$(milvus_child "$pg" "$name"); then
    touch "$STATE/$name.child-seen"
  elif [[ -e $STATE/$name.child-seen ]]; then
    echo "the milvus process exited"
    return 1
  else
    return 2
  fi
  # The launcher picks the metrics/health port itself (9091, or the next free
  # one if another Milvus holds 9091) and passes it as METRICS_PORT.
  metrics=$(tr '\0' '\n' 2>/dev/null <"/proc/$child/environ" | sed -n 's/^METRICS_PORT=//p')
  [[ -n $metrics ]] || return 2
  http_ok "http://$HOST:$metrics/healthz" || return 2
  local configured port
  port=$(port_of "$name")
  configured=$(proxy_port_in_config "$name")
  if [[ $configured != "$port" ]]; then
    echo "launcher moved the proxy to port ${configured:-?} (port $port was not bindable)"
    return 1
  fi
  listening "$port" || return 2
  echo "$metrics" >"$STATE/$name.metrics-port"
  return 0
}

show_logs() {
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '--- last 30 lines of %s ---\n' "${f#"$ROOT"/}" >&2
    tail -n 30 "$f" >&2
  done
}

show_failure_logs() {
  if is_lite "$1"; then
    show_logs "$STATE/$1.log"
    return
  fi
  local logs=$STATE/$1/logs
  show_logs "$STATE/$1.log" "$logs/milvus-stderr.log" "$logs/milvus-stdout.log"
  if grep -qE '\[(ERROR|FATAL)\]|panic' "$logs/milvus-stdout.log" 2>/dev/null; then
    printf -- '--- last errors in %s ---\n' "${logs#"$ROOT"/}/milvus-stdout.log" >&2
    grep -E '\[(ERROR|FATAL)\]|panic' "$logs/milvus-stdout.log" | tail -n 15 >&2
  fi
}

# preflight fails if target $1's client port is taken by anything else.
preflight() {
  local name=$1 port i
  port=$(port_of "$name")
  if listening "$port"; then
    say "$name: port $HOST:$port is already in use by another process" >&2
    return 1
  fi
  # A just-closed port can linger in TIME_WAIT for up to a minute.
  for ((i = 0; i < 60; i++)); do
    bindable "$port" && return 0
    ((i == 0)) && say "$name: port $port not bindable yet (TIME_WAIT?), waiting up to 60 s"
    sleep 1
  done
  say "$name: port $HOST:$port cannot be bound" >&2
  return 1
}

is_extra() { [[ " ${EXTRA_TARGETS[*]} " == *" $1 "* ]]; }

# unavailable records why extra target $1 is not running (for the tests'
# skip messages) and says it.
unavailable() {
  say "$1: unavailable: $2" >&2
  printf '%s\n' "$2" >"$STATE/$1.unavailable"
}

cmd_start() {
  local names=("$@") name started=$SECONDS failed=() pending=() reason rc
  venv_ready || die "the venv is missing or incomplete; run: scripts/milvus-env.sh install"
  mkdir -p "$STATE"
  for name in "${names[@]}"; do
    rm -f "$STATE/$name.unavailable"
    if is_extra "$name" && ! extra_ready "$name"; then
      unavailable "$name" "$(extra_package "$name") is not installed in ${VENVS/#"$HOME"/\~} (run: scripts/milvus-env.sh install extra; log .milvus-test/install-$name.log)"
      continue
    fi
    if running "$name"; then
      say "$name: already running, restarting with fresh data"
    fi
    stop_one "$name" >/dev/null
    rm -f "$STATE/$name.child-seen" "$STATE/$name.metrics-port"
    if ! preflight "$name"; then
      is_extra "$name" && unavailable "$name" "port $(port_of "$name") is in use" || failed+=("$name")
      continue
    fi
    say "$name: starting on $HOST:$(port_of "$name")"
    "launch_$name"
    pending+=("$name")
  done

  local deadline=$((SECONDS + START_TIMEOUT)) still
  local -A retried=()
  while ((${#pending[@]})); do
    still=()
    for name in "${pending[@]}"; do
      rc=0
      reason=$(check_ready "$name") || rc=$?
      if ((rc == 0)); then
        say "$name: ready on $HOST:$(port_of "$name") after $((SECONDS - started)) s"
      elif ((rc == 2)) && ((SECONDS < deadline)); then
        still+=("$name")
      elif ((rc != 2)) && [[ -z ${retried[$name]:-} ]]; then
        # A Milvus killed just before (tests restart it with SIGKILL when
        # it does not stop in time) leaves its sessions in the embedded
        # etcd until they expire; a start in that window can exit with
        # "Proxy starts error". Try once more after they expired.
        retried[$name]=1
        say "$name: exited while starting ($reason); starting it once more in 20 s" >&2
        stop_one "$name" >/dev/null
        sleep 20
        rm -f "$STATE/$name.child-seen" "$STATE/$name.metrics-port"
        "launch_$name"
        deadline=$((SECONDS + START_TIMEOUT))
        still+=("$name")
      else
        ((rc == 2)) && reason="not healthy after $START_TIMEOUT s"
        printf 'milvus-env: %s: failed to start: %s\n' "$name" "$reason" >&2
        show_failure_logs "$name"
        stop_one "$name" >/dev/null
        if is_extra "$name"; then
          unavailable "$name" "failed to start: $reason (log .milvus-test/$name.log)"
        else
          failed+=("$name")
        fi
      fi
    done
    pending=("${still[@]+"${still[@]}"}")
    ((${#pending[@]})) && sleep 0.5
  done

  write_env
  if ((${#failed[@]})); then
    die "could not start: ${failed[*]}"
  fi
}

# write_env records the running targets in $STATE/env for the tests.
write_env() {
  local name targets=() matrix=() gone=()
  [[ -d $STATE ]] || return 0
  for name in "${ALL_TARGETS[@]}"; do
    running "$name" || {
      [[ -s $STATE/$name.unavailable ]] && gone+=("$name: $(head -n 1 "$STATE/$name.unavailable")")
      continue
    }
    matrix+=("$name=$HOST:$(port_of "$name")")
    is_extra "$name" || targets+=("$name=$HOST:$(port_of "$name")")
  done
  local IFS=,
  {
    printf 'export MILVAULT_TEST_TARGETS="%s"\n' "${targets[*]}"
    printf 'export MILVAULT_MATRIX_TARGETS="%s"\n' "${matrix[*]}"
    IFS=';'
    printf 'export MILVAULT_MATRIX_UNAVAILABLE=%q\n' "${gone[*]}"
  } >"$STATE/env"
}

# ---- stop -----------------------------------------------------------------

# ports_of prints every port target $1 listens on, for the "ports are free"
# check after stopping.
ports_of() {
  local b i
  port_of "$1"
  is_lite "$1" && return 0
  b=$(base_of "$1")
  for ((i = 1; i <= 10; i++)); do echo $((b + i)); done
  [[ -s $STATE/$1.metrics-port ]] && cat "$STATE/$1.metrics-port"
  return 0
}

wait_group_gone() {
  local pg=$1 name=$2 deadline=$((SECONDS + $3))
  while group_alive "$pg" "$name"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

stop_one() {
  local name=$1 pg port busy i
  if ! pg=$(pgid_of "$name"); then
    say "$name: not running"
    return 0
  fi
  if ! group_alive "$pg" "$name"; then
    say "$name: not running (removed stale pid file)"
  else
    kill -TERM -- "-$pg" 2>/dev/null || true
    if ! wait_group_gone "$pg" "$name" "$STOP_GRACE"; then
      say "$name: still running after $STOP_GRACE s, sending SIGKILL"
      kill -KILL -- "-$pg" 2>/dev/null || true
      wait_group_gone "$pg" "$name" 10 || die "$name: process group $pg survived SIGKILL"
    fi
    # Only after the group is gone: a stray listener is then someone else's
    # or a socket being torn down.
    for ((i = 0; i < 50; i++)); do
      busy=()
      for port in $(ports_of "$name"); do
        listening "$port" && busy+=("$port")
      done
      ((${#busy[@]})) || break
      sleep 0.2
    done
    ((${#busy[@]})) && say "$name: warning: ports still in use after stop: ${busy[*]}" >&2
    say "$name: stopped"
  fi
  rm -f "$STATE/$name.pid" "$STATE/$name.child-seen" "$STATE/$name.metrics-port"
}

cmd_stop() {
  local name
  for name in "$@"; do
    stop_one "$name"
    rm -f "$STATE/$name.unavailable"
  done
  write_env
}

# ---- status ---------------------------------------------------------------

cmd_status() {
  local name port
  for name in "${ALL_TARGETS[@]}"; do
    port=$(port_of "$name")
    if ! running "$name"; then
      printf '%-9s stopped%s\n' "$name" "$( [[ -s $STATE/$name.unavailable ]] && printf ' (unavailable: %s)' "$(head -n 1 "$STATE/$name.unavailable")")"
    elif listening "$port"; then
      printf '%-9s running  %s:%s  (process group %s)\n' "$name" "$HOST" "$port" "$(pgid_of "$name")"
    else
      printf '%-9s starting or unhealthy: process group %s alive, %s:%s not accepting\n' \
        "$name" "$(pgid_of "$name")" "$HOST" "$port"
    fi
  done
}

# ---- main -----------------------------------------------------------------

# targets prints the targets of a target or group name ($2 when $1 is empty).
targets() {
  case ${1:-$2} in
    all) echo milvus23 lite ;;
    extra) echo "${EXTRA_TARGETS[@]}" ;;
    every) echo "${ALL_TARGETS[@]}" ;;
    milvus23 | lite | milvus22 | lite25) echo "$1" ;;
    *) die "unknown target '$1' (want milvus23, lite, milvus22, lite25, all, extra or every)" ;;
  esac
}

# with_lock runs "$@" holding $STATE/lock, so that two start/stop calls in the
# same tree do not interleave.
with_lock() {
  mkdir -p "$STATE"
  exec 9>"$STATE/lock"
  flock 9
  "$@"
}

main() {
  local cmd=${1:-} list
  case $cmd in
    install)
      targets "${2:-}" every >/dev/null
      cmd_install "${2:-every}"
      ;;
    start | stop)
      list=$(targets "${2:-}" "$([[ $cmd == start ]] && echo all || echo every)")
      # shellcheck disable=SC2086
      with_lock "cmd_$cmd" $list
      ;;
    status) cmd_status ;;
    *)
      sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}" >&2
      exit 2
      ;;
  esac
}

main "$@"
