// Package testenv finds the real Milvus servers integration tests run
// against. scripts/milvus-env.sh starts them and writes
// MILVAULT_TEST_TARGETS="name=host:port,...".
package testenv

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/milvus"
)

// Target is one test server.
type Target struct {
	Name    string
	Address string
}

// Targets returns the configured servers, or skips the test with the reason.
func Targets(t testing.TB) []Target {
	t.Helper()
	spec := os.Getenv("MILVAULT_TEST_TARGETS")
	if spec == "" {
		t.Skip("MILVAULT_TEST_TARGETS is not set: run `make test`, or `make milvus-up && source .milvus-test/env`")
	}
	var out []Target
	for _, item := range strings.Split(spec, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || addr == "" {
			t.Fatalf("MILVAULT_TEST_TARGETS entry %q: want name=host:port", item)
		}
		out = append(out, Target{Name: name, Address: addr})
	}
	return out
}

// ForEach runs fn as a subtest per target, with a connected client.
func ForEach(t *testing.T, fn func(t *testing.T, tg Target, c *milvus.Client)) {
	for _, tg := range Targets(t) {
		t.Run(tg.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := milvus.Connect(ctx, milvus.Config{Address: tg.Address})
			if err != nil {
				t.Fatalf("target %s: %v", tg.Name, err)
			}
			t.Cleanup(func() { c.Close() })
			fn(t, tg, c)
		})
	}
}
