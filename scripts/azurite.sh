#!/usr/bin/env bash
# azurite.sh runs Azurite, Microsoft's Azure Storage emulator (blob service
# only), on loopback for the Azure Blob Storage tests (repo/blob,
# internal/e2e).
#
# Usage: scripts/azurite.sh install|start|stop|env
#   install  npm-install the pinned azurite into the cache (reused when present)
#   start    install, then start the blob service on 127.0.0.1:$AZURITE_PORT
#            with an empty data folder, create the test container, write
#            .milvus-test/azurite.env
#   stop     stop the server this tree started
#   env      print .milvus-test/azurite.env
#
# Environment:
#   AZURITE_PORT     blob port (default 19910; keep it in your own port range)
#   AZURITE_VERSION  npm version to install (default: the pinned one below)
#   MILVAULT_CACHE   cache folder (default ~/.cache/milvault); azurite in azurite-<version>/
#   MINIO_STATE_DIR  data, log, pid and env files (default .milvus-test)
#
# Tests read .milvus-test/azurite.env: MILVAULT_TEST_AZBLOB_URL (a repository
# URL in the test container, pointing at the emulator) and the well-known
# emulator account in AZURE_STORAGE_ACCOUNT / AZURE_STORAGE_KEY.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# 3.37.0 declares node >= 22 but runs on the Node 20 of the CI machine (the
# blob service needs nothing newer); npm only warns.
AZURITE_VERSION=${AZURITE_VERSION:-3.37.0}
AZURITE_PORT=${AZURITE_PORT:-19910}
CACHE=${MILVAULT_CACHE:-$HOME/.cache/milvault}
PREFIX=$CACHE/azurite-$AZURITE_VERSION
BIN=$PREFIX/node_modules/.bin/azurite-blob
STATE=${MINIO_STATE_DIR:-.milvus-test}
DATA=$STATE/azurite
PIDFILE=$STATE/azurite.pid
ENVFILE=$STATE/azurite.env
CONTAINER=milvault-test
# The emulator's fixed development account (published in Azurite's README).
ACCOUNT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

NAME=azurite
# shellcheck source=scripts/daemon-lib.sh
source scripts/daemon-lib.sh

install() {
  if [[ -x $BIN ]]; then
    say "using $BIN"
    return
  fi
  command -v npm >/dev/null || die "npm is not installed: install Node.js (20 or newer) and npm"
  say "installing azurite@$AZURITE_VERSION into $PREFIX"
  mkdir -p "$PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
  [[ -x $BIN ]] || die "npm did not install $BIN"
}

start() {
  install
  running && stop
  rm -rf "$DATA"
  mkdir -p "$DATA"
  # A new session, so stop can signal the whole process group.
  setsid "$BIN" --blobHost 127.0.0.1 --blobPort "$AZURITE_PORT" --location "$DATA" \
    --silent --skipApiVersionCheck --disableProductStyleUrl \
    >"$STATE/azurite.log" 2>&1 </dev/null 8>&- 9>&- &
  echo $! >"$PIDFILE"
  wait_live || { tail -20 "$STATE/azurite.log" >&2; stop; die "did not become live on port $AZURITE_PORT"; }
  make_container "$CONTAINER"
  local q="localemu=true&domain=127.0.0.1:$AZURITE_PORT&protocol=http"
  cat >"$ENVFILE" <<EOT
export AZURE_STORAGE_ACCOUNT=$ACCOUNT AZURE_STORAGE_KEY='$KEY' MILVAULT_TEST_AZBLOB_URL='azblob://$CONTAINER/milvault?$q'
EOT
  say "azurite-blob $AZURITE_VERSION live on http://127.0.0.1:$AZURITE_PORT/$ACCOUNT (pid $(cat "$PIDFILE")), container $CONTAINER; source $ENVFILE"
}

wait_live() {
  local i
  for ((i = 0; i < 120; i++)); do
    # Any HTTP answer (403 without a signature) means it listens.
    [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$AZURITE_PORT/$ACCOUNT?comp=list") != 000 ]] && return 0
    running || return 1
    sleep 0.5
  done
  return 1
}

# make_container creates a container with a Shared Key signed PUT (curl and
# openssl; no Azure CLI needed).
make_container() {
  local date version=2021-08-06 sts sig
  date=$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')
  # VERB, 11 standard headers (all empty), canonical headers, canonical resource.
  sts="PUT"$'\n\n\n\n\n\n\n\n\n\n\n\n'"x-ms-date:$date"$'\n'"x-ms-version:$version"$'\n'"/$ACCOUNT/$ACCOUNT/$1"$'\n'"restype:container"
  sig=$(printf '%s' "$sts" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(printf '%s' "$KEY" | base64 -d | od -An -tx1 | tr -d ' \n')" -binary | base64)
  curl -sf -m 10 -X PUT -H "x-ms-date: $date" -H "x-ms-version: $version" -H "Content-Length: 0" \
    -H "Authorization: SharedKey $ACCOUNT:$sig" \
    "http://127.0.0.1:$AZURITE_PORT/$ACCOUNT/$1?restype=container" >/dev/null || die "could not create container $1"
}

daemon_main "$@"
