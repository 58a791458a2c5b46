#!/usr/bin/env bash
# helm.sh installs the helm binary that checks deploy/helm/milvault (helm lint,
# helm template against the golden file in deploy/helm/testdata).
#
# Usage: scripts/helm.sh install|path
#   install  build helm.sh/helm/v3/cmd/helm from the Go module proxy into the
#            cache (reused when present; the first build takes a few minutes)
#   path     print the binary's path
#
# Environment:
#   HELM_VERSION    module version to build (default: the pinned one below)
#   MILVAULT_CACHE  cache folder (default ~/.cache/milvault); binary in bin/helm-$HELM_VERSION
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

HELM_VERSION=${HELM_VERSION:-v3.22.0}
CACHE=${MILVAULT_CACHE:-$HOME/.cache/milvault}
BIN=$CACHE/bin/helm-$HELM_VERSION

say() { printf 'helm: %s\n' "$*"; }

install() {
  if [[ -x $BIN ]]; then
    say "using $BIN"
    return
  fi
  say "building helm.sh/helm/v3/cmd/helm@$HELM_VERSION into $BIN (takes minutes)"
  local start=$SECONDS tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -ldflags="-s -w" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  mkdir -p "$CACHE/bin"
  mv "$tmp/helm" "$BIN"
  say "built in $((SECONDS - start))s"
}

case ${1:-} in
  install) install ;;
  path) echo "$BIN" ;;
  *) echo "usage: $0 install|path" >&2; exit 2 ;;
esac
