package testenv

import (
	"context"
	"os"
	"testing"

	"github.com/milvault/milvault/milvus"
)

// NativeTarget connects to the milvus23 target whose object storage is the
// project's MinIO (MILVUS23_STORAGE=minio scripts/milvus-env.sh start
// milvus23, then source .milvus-test/milvus23-storage.env), sets the
// storage credentials in the environment and returns the client and the
// storage URL (as --milvus-storage takes it); it skips, saying why, when
// that server is not running.
func NativeTarget(t *testing.T) (*milvus.Client, string) {
	t.Helper()
	loc := os.Getenv("MILVAULT_TEST_MILVUS23_STORAGE")
	if loc == "" {
		t.Skip("MILVAULT_TEST_MILVUS23_STORAGE is not set: start Milvus 2.3.5 with MILVUS23_STORAGE=minio scripts/milvus-env.sh start milvus23 and source .milvus-test/milvus23-storage.env (native restores import binlogs through the server's storage)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	var addr string
	for _, tg := range Targets(t) {
		if tg.Name == "milvus23" {
			addr = tg.Address
		}
	}
	if addr == "" {
		t.Skip("MILVAULT_TEST_TARGETS has no milvus23 target (the only server with binlog import the tests start)")
	}
	c, err := milvus.Connect(context.Background(), milvus.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, loc
}
