# Targets for building milvault and running its tests against real Milvus
# servers (see scripts/milvus-env.sh).

# Extra go test flags for `make test`, e.g. make test TESTFLAGS='-run Restore -v'.
TESTFLAGS ?=

.PHONY: build test unit lint docs example milvus-up milvus-down demo bench

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
	bash scripts/milvus-env.sh install
	bash scripts/milvus-env.sh start all
	@echo 'run: source .milvus-test/env'

milvus-down:
	bash scripts/milvus-env.sh stop all

demo:
	bash scripts/demo.sh

bench:
	bash scripts/bench.sh
