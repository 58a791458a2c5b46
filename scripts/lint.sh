#!/usr/bin/env bash
# lint.sh checks what reviewers would: gofmt, a current docs/config.md, go
# vet and staticcheck (with staticcheck.conf). staticcheck is built once, at
# a pinned version, into ~/.cache/milvault/bin. Exits non-zero on any
# finding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

STATICCHECK_VERSION=${STATICCHECK_VERSION:-v0.8.2}
bin_dir=${MILVAULT_CACHE:-$HOME/.cache/milvault}/bin
staticcheck=$bin_dir/staticcheck-$STATICCHECK_VERSION

step() { printf '==> %s\n' "$*"; }

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [[ -n $unformatted ]]; then
  echo "not gofmt-formatted (run gofmt -w):"
  echo "$unformatted"
  exit 1
fi

step "docs/config.md is current (make docs regenerates it)"
if ! go run ./cmd/milvault gendocs config | diff -u docs/config.md -; then
  echo "docs/config.md is stale: run make docs"
  exit 1
fi

step "go vet"
go vet ./...

if [[ ! -x $staticcheck ]]; then
  step "building staticcheck $STATICCHECK_VERSION into $bin_dir"
  tmp=$(mktemp -d)
  GOBIN=$tmp go install -ldflags="-s -w" "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  mkdir -p "$bin_dir"
  mv "$tmp/staticcheck" "$staticcheck"
  rmdir "$tmp"
fi
step "staticcheck $STATICCHECK_VERSION"
"$staticcheck" ./...
