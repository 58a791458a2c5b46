#!/usr/bin/env bash
# docker-build.sh builds the container image from the Dockerfile and checks
# that `milvault version` in it reports this commit. Without a Docker daemon
# it says why and exits 0 (CI machines without Docker skip the image).
#
# Usage: scripts/docker-build.sh [IMAGE]   (default milvault:dev)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IMAGE=${1:-milvault:dev}
if ! command -v docker >/dev/null; then
  echo "docker-build: SKIP: no docker client on PATH"
  exit 0
fi
if ! out=$(docker info 2>&1); then
  echo "docker-build: SKIP: no Docker daemon answers ($(grep -m1 -i 'cannot\|error' <<<"$out" || echo 'docker info failed'))"
  exit 0
fi
VERSION=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT=$(git rev-parse HEAD 2>/dev/null || true)
BUILD_DATE=$(git log -1 --format=%cI 2>/dev/null || true)
docker build -t "$IMAGE" --build-arg VERSION="$VERSION" --build-arg COMMIT="$COMMIT" --build-arg BUILD_DATE="$BUILD_DATE" .
got=$(docker run --rm "$IMAGE" version)
echo "$got"
grep -q -- "$COMMIT" <<<"$got" || { echo "docker-build: the image's milvault version does not name commit $COMMIT" >&2; exit 1; }
user=$(docker image inspect -f '{{.Config.User}}' "$IMAGE")
[[ $user == 65532:65532 ]] || { echo "docker-build: the image runs as '$user', want 65532:65532" >&2; exit 1; }
echo "docker-build: built $IMAGE ($(docker image inspect -f '{{.Size}}' "$IMAGE") bytes)"
