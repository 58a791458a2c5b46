#!/usr/bin/env bash
# make serve-demo: `milvault serve` with a demo policy against a real local
# Milvus 2.3.5 and MinIO. Prints the status page's URL and an admin token;
# Ctrl-C stops the service, Milvus and MinIO.
#
# Environment: SERVE_DEMO_PORT (default 8080) for the page and API;
# MILVUS23_PORT, MILVUS23_INTERNAL_PORT_BASE and MINIO_PORT as for the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${SERVE_DEMO_PORT:-8080}
state=.milvus-test/serve-demo
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
serve_pid=
cleanup() {
  trap '' PIPE # a closed terminal or pipe must not stop the cleanup half-way
  [[ -z $serve_pid ]] || { kill -TERM "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true; }
  step "stopping Milvus and MinIO"
  bash scripts/milvus-env.sh stop milvus23 >/dev/null 2>&1 || true
  bash scripts/minio.sh stop >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "build milvault (make build)"
make --no-print-directory build
step "install and start Milvus 2.3.5 and MinIO (the first run installs them: minutes)"
bash scripts/milvus-env.sh install all
bash scripts/milvus-env.sh start milvus23
bash scripts/minio.sh start
# shellcheck source=/dev/null
source .milvus-test/env
# shellcheck source=/dev/null
source .milvus-test/minio.env
export MILVAULT_MILVUS=127.0.0.1:${MILVUS23_PORT:-19541}
export AWS_ACCESS_KEY_ID=$MILVAULT_TEST_S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$MILVAULT_TEST_S3_SECRET_KEY AWS_EC2_METADATA_DISABLED=true
repo="s3://$MILVAULT_TEST_S3_BUCKET/serve-demo?endpoint=$MILVAULT_TEST_S3_ENDPOINT&region=us-east-1&use_path_style=true"

step "sample data (demo_docs, 5,000 rows) and a repository on MinIO"
bin/milvault demo seed --rows 5000
bin/milvault init --repo "$repo"

rm -rf "$state" && mkdir -p "$state"
cat >"$state/serve.yaml" <<YAML
state_dir: $state
milvus:
  local: {address: "$MILVAULT_MILVUS"}
repositories:
  minio: {url: "$repo"}
policies:
  demo:
    repository: minio
    collections: [demo_docs]
    schedule: "@every 2m"
    verify: checksum
    retention: {keep_last: 10, min_keep: 3}
    rpo: 10m
    drill: {schedule: "@every 10m", max_rto: 5m}
YAML
token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
read_token=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

step "milvault serve --config $state/serve.yaml --listen 127.0.0.1:$port"
MILVAULT_ADMIN_TOKEN=$token MILVAULT_READ_TOKEN=$read_token \
  bin/milvault serve --config "$state/serve.yaml" --listen "127.0.0.1:$port" 2>"$state/serve.log" &
serve_pid=$!
for _ in $(seq 50); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$state/serve.log"; exit 1; }
  sleep 0.2
done
# A first backup now, so that the page has data at once.
curl -fsS -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/policies/demo/run" >/dev/null
cat <<EOF

  Status page:  http://127.0.0.1:$port/
  Admin token:  $token     (read-only: $read_token)
  API:          curl -H "Authorization: Bearer $token" http://127.0.0.1:$port/api/v1/policies
  Log:          $state/serve.log

  The policy "demo" backs up demo_docs every 2 minutes and drills it every 10.
  Press Ctrl-C to stop the service, Milvus and MinIO.
EOF
wait "$serve_pid"
