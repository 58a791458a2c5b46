#!/usr/bin/env bash
# milvus-env.sh installs and runs the real Milvus servers that milvault's
# integration tests talk to:
#
#   milvus23  Milvus 2.3.5 standalone (embedded etcd, local storage), from the
#             `milvus` PyPI package, console script milvus-server.
#   lite      Milvus Lite 3.x gRPC server, from the `milvus-lite` package.
#
# Usage: scripts/milvus-env.sh install
#        scripts/milvus-env.sh start  [milvus23|lite|all]   (default all)
#        scripts/milvus-env.sh stop   [milvus23|lite|all]   (default all)
#        scripts/milvus-env.sh status
#
# Everything lives in the repo: the venv in .venv/, data, logs and pid files in
# .milvus-test/. `start` wipes a target's data and (re)starts it; `start` and
# `stop` are safe to repeat. After `start`, `source .milvus-test/env` exports
# MILVAULT_TEST_TARGETS="milvus23=127.0.0.1:19541,lite=127.0.0.1:19542".
#
# Environment: MILVUS23_PORT (19541), MILVUS_LITE_PORT (19542),
# MILVUS23_INTERNAL_PORT_BASE (39530), MILVUS_START_TIMEOUT (120 s), PYTHON,
# MILVUS23_EXTRA_ARGS (more milvus-server arguments for milvus23, e.g.
# '--authorization-enabled true' for the authentication test),
# MILVUS23_KEEP_DATA=1 (start milvus23 on the data it had: a restart, as the
# resume-after-restart test does).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv
STATE=$ROOT/.milvus-test
HOST=127.0.0.1
MILVUS23_PORT=${MILVUS23_PORT:-19541}
MILVUS_LITE_PORT=${MILVUS_LITE_PORT:-19542}
MILVUS23_INTERNAL_PORT_BASE=${MILVUS23_INTERNAL_PORT_BASE:-39530}
START_TIMEOUT=${MILVUS_START_TIMEOUT:-120}
STOP_GRACE=15 # seconds between SIGTERM and SIGKILL
ALL_TARGETS=(milvus23 lite)

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

cmd_install() {
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

# ---- processes and ports --------------------------------------------------

port_of() {
  case $1 in
    milvus23) echo "$MILVUS23_PORT" ;;
    lite) echo "$MILVUS_LITE_PORT" ;;
  esac
}

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
  local dir=$STATE/milvus23 port=$MILVUS23_PORT b=$MILVUS23_INTERNAL_PORT_BASE extra=()
  read -r -a extra <<<"${MILVUS23_EXTRA_ARGS:-}"
  # Keep bin/ (the 250 MB of binaries the launcher decompresses, checked by
  # md5 on every start); wipe data, logs and configs.
  if [[ -d $dir && ${MILVUS23_KEEP_DATA:-0} != 1 ]]; then
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
  launch milvus23 "$STATE/milvus23.log" \
    env PYTHONUNBUFFERED=1 ETCD_CONFIG_PATH="$dir/etcd.yaml" \
    "$VENV/bin/milvus-server" --data "$dir" --proxy-port "$port" \
    --root-coord-port $((b + 1)) --proxy-internal-port $((b + 2)) \
    --query-coord-port $((b + 3)) --query-node-port $((b + 4)) \
    --index-coord-port $((b + 5)) --index-node-port $((b + 6)) \
    --data-coord-port $((b + 7)) --data-node-port $((b + 8)) \
    --etcd-port $((b + 9)) "${extra[@]}"
}

launch_lite() {
  rm -rf "$STATE/lite"
  mkdir -p "$STATE/lite"
  launch lite "$STATE/lite.log" \
    env PYTHONUNBUFFERED=1 "$VENV/bin/milvus-lite" server \
    --data-dir "$STATE/lite" --host "$HOST" --port "$MILVUS_LITE_PORT"
}

# milvus23_child prints the pid of the `milvus run standalone` process.
milvus23_child() {
  local pid
  for pid in $(group_pids "$1"); do
    [[ $(cmdline "$pid") == *"$STATE/milvus23/bin/milvus run"* ]] && { echo "$pid"; return 0; }
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

# proxy_port_in_config prints the proxy port the launcher wrote into milvus.yaml.
proxy_port_in_config() {
  awk '/^proxy:/ { p = 1; next } /^[^ #]/ { p = 0 } p && /^  port:/ { print $2; exit }' \
    "$STATE/milvus23/configs/milvus.yaml" 2>/dev/null
}

# check_ready prints nothing and succeeds when target $1 is serving, prints a
# reason and fails for good when it cannot become ready, and returns 2 while
# it is still starting.
check_ready() {
  local name=$1 pg child metrics
  pg=$(pgid_of "$name") || { echo "no pid file"; return 1; }
  group_alive "$pg" "$name" || { echo "process exited"; return 1; }
  if [[ $name == lite ]]; then
    listening "$MILVUS_LITE_PORT" || return 2
    return 0
  fi
  # The launcher outlives a crashed milvus child, so watch the child itself.
  if child=$(milvus23_child "$pg"); then
    touch "$STATE/milvus23.child-seen"
  elif [[ -e $STATE/milvus23.child-seen ]]; then
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
  local configured
  configured=$(proxy_port_in_config)
  if [[ $configured != "$MILVUS23_PORT" ]]; then
    echo "launcher moved the proxy to port ${configured:-?} (port $MILVUS23_PORT was not bindable)"
    return 1
  fi
  listening "$MILVUS23_PORT" || return 2
  echo "$metrics" >"$STATE/milvus23.metrics-port"
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
  if [[ $1 == lite ]]; then
    show_logs "$STATE/lite.log"
    return
  fi
  local logs=$STATE/milvus23/logs
  show_logs "$STATE/milvus23.log" "$logs/milvus-stderr.log" "$logs/milvus-stdout.log"
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

cmd_start() {
  local names=("$@") name started=$SECONDS failed=() pending=() reason rc
  venv_ready || die "the venv is missing or incomplete; run: scripts/milvus-env.sh install"
  mkdir -p "$STATE"
  for name in "${names[@]}"; do
    if running "$name"; then
      say "$name: already running, restarting with fresh data"
    fi
    stop_one "$name" >/dev/null
    rm -f "$STATE/$name.child-seen" "$STATE/$name.metrics-port"
    if ! preflight "$name"; then
      failed+=("$name")
      continue
    fi
    say "$name: starting on $HOST:$(port_of "$name")"
    "launch_$name"
    pending+=("$name")
  done

  local deadline=$((SECONDS + START_TIMEOUT)) still
  while ((${#pending[@]})); do
    still=()
    for name in "${pending[@]}"; do
      rc=0
      reason=$(check_ready "$name") || rc=$?
      if ((rc == 0)); then
        say "$name: ready on $HOST:$(port_of "$name") after $((SECONDS - started)) s"
      elif ((rc == 2)) && ((SECONDS < deadline)); then
        still+=("$name")
      else
        ((rc == 2)) && reason="not healthy after $START_TIMEOUT s"
        printf 'milvus-env: %s: failed to start: %s\n' "$name" "$reason" >&2
        show_failure_logs "$name"
        stop_one "$name" >/dev/null
        failed+=("$name")
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
  local name targets=()
  for name in "${ALL_TARGETS[@]}"; do
    running "$name" && targets+=("$name=$HOST:$(port_of "$name")")
  done
  [[ -d $STATE ]] || return 0
  local IFS=,
  printf 'export MILVAULT_TEST_TARGETS="%s"\n' "${targets[*]}" >"$STATE/env"
}

# ---- stop -----------------------------------------------------------------

# ports_of prints every port target $1 listens on, for the "ports are free"
# check after stopping.
ports_of() {
  local b=$MILVUS23_INTERNAL_PORT_BASE i
  if [[ $1 == lite ]]; then
    echo "$MILVUS_LITE_PORT"
    return
  fi
  echo "$MILVUS23_PORT"
  for ((i = 1; i <= 10; i++)); do echo $((b + i)); done
  [[ -s $STATE/milvus23.metrics-port ]] && cat "$STATE/milvus23.metrics-port"
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
  for name in "$@"; do stop_one "$name"; done
  write_env
}

# ---- status ---------------------------------------------------------------

cmd_status() {
  local name port
  for name in "${ALL_TARGETS[@]}"; do
    port=$(port_of "$name")
    if ! running "$name"; then
      printf '%-9s stopped\n' "$name"
    elif listening "$port"; then
      printf '%-9s running  %s:%s  (process group %s)\n' "$name" "$HOST" "$port" "$(pgid_of "$name")"
    else
      printf '%-9s starting or unhealthy: process group %s alive, %s:%s not accepting\n' \
        "$name" "$(pgid_of "$name")" "$HOST" "$port"
    fi
  done
}

# ---- main -----------------------------------------------------------------

targets() {
  case ${1:-all} in
    all) echo "${ALL_TARGETS[@]}" ;;
    milvus23 | lite) echo "$1" ;;
    *) die "unknown target '$1' (want milvus23, lite or all)" ;;
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
    install) cmd_install ;;
    start | stop)
      list=$(targets "${2:-all}")
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
