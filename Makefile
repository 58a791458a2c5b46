# Targets for building milvault and running its tests against real Milvus
# servers (see scripts/milvus-env.sh).

# Extra go test flags for `make test`, e.g. make test TESTFLAGS='-run Restore -v'.
TESTFLAGS ?=

.PHONY: build test unit lint docs example milvus-up milvus-down demo bench serve-demo image helm-check test-matrix

# Build data for `milvault version` (see internal/cli/cmd_version.go).
CLI := github.com/milvault/milvault/internal/cli
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)
BUILD_DATE ?= $(shell git log -1 --format=%cI 2>/dev/null)
LDFLAGS := -X $(CLI).Version=$(VERSION) -X $(CLI).Commit=$(COMMIT) -X $(CLI).Date=$(BUILD_DATE)

build:
	go build -ldflags "$(LDFLAGS)" -o bin/milvault ./cmd/milvault

# lint checks formatting, go vet and staticcheck (scripts/lint.sh; CI runs it).
lint:
	bash scripts/lint.sh

# docs regenerates docs/config.md from the flag definitions (a test fails
# when it is stale).
docs:
	go run ./cmd/milvault gendocs config > docs/config.md

# test installs and starts Milvus 2.3.5 and Milvus Lite, runs go vet and
# go test against them, then stops them.
test:
	bash scripts/test.sh $(TESTFLAGS)

# unit runs the tests without servers; integration tests skip themselves.
unit:
	env -u MILVAULT_TEST_TARGETS -u MILVAULT_TEST_S3_ENDPOINT -u MILVAULT_TEST_GCS_URL -u MILVAULT_TEST_AZBLOB_URL go test ./...

# example builds the separate module in examples/ and runs it against the
# servers in MILVAULT_TEST_TARGETS (make test runs it too).
example:
	bash scripts/example.sh

milvus-up:
	bash scripts/milvus-env.sh install all
	bash scripts/milvus-env.sh start all
	@echo 'run: source .milvus-test/env'

milvus-down:
	bash scripts/milvus-env.sh stop all

demo:
	bash scripts/demo.sh

bench:
	bash scripts/bench.sh

# serve-demo starts a real Milvus 2.3.5 and MinIO and runs `milvault serve`
# with a demo policy; it prints the status page's URL and a token (Ctrl-C
# stops everything). SERVE_DEMO_PORT sets the port (default 8080).
serve-demo:
	bash scripts/serve-demo.sh

# image builds the container image (Dockerfile) where a Docker daemon runs.
image:
	bash scripts/docker-build.sh

# helm-check lints and renders the Helm chart against its golden files and
# checks every manifest (go test ./deploy/).
helm-check:
	bash scripts/helm.sh install
	HELM=$$(bash scripts/helm.sh path) go test -count=1 ./deploy/

# test-matrix starts every server (Milvus 2.3.5, Lite 3.x, 2.2.16, Lite
# 2.5.1), runs the cross-version matrix (internal/matrix) and regenerates
# docs/compatibility.md from its outcome. make test runs the same matrix
# without writing the document.
test-matrix:
	bash scripts/milvus-env.sh install every
	bash scripts/milvus-env.sh start every
	. .milvus-test/env && export MILVAULT_MATRIX_TARGETS MILVAULT_MATRIX_UNAVAILABLE && \
	  MILVAULT_UPDATE_COMPAT_DOC=1 go test -count=1 -timeout 20m -run '^TestMatrix$$' -v ./internal/matrix/; \
	  status=$$?; bash scripts/milvus-env.sh stop every; exit $$status
