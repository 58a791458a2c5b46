# daemon-lib.sh holds what the scripts that run one local test server
# (minio.sh, fake-gcs.sh, azurite.sh) share: the pid-file checks, stopping
# the server's whole process group, and the install|start|stop|env
# dispatch. The sourcing script defines NAME, PIDFILE, ENVFILE and the
# functions install and start before it calls daemon_main "$@".

say() { printf '%s: %s\n' "$NAME" "$*"; }
die() { say "$*" >&2; exit 1; }

# running succeeds when the pid file names a live process.
running() { [[ -s $PIDFILE ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

# stop sends SIGTERM to the server's process group, waits up to 10 s, then
# SIGKILLs what is left and removes the pid and env files.
stop() {
  if ! running; then
    rm -f "$PIDFILE"
    return 0
  fi
  local pid i
  pid=$(cat "$PIDFILE")
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 40; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$PIDFILE" "$ENVFILE"
  say "stopped"
}

daemon_main() {
  case ${1:-} in
    install) install ;;
    start) start ;;
    stop) stop ;;
    env) cat "$ENVFILE" ;;
    *) die "usage: $0 install|start|stop|env" ;;
  esac
}
