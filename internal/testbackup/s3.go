package testbackup

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
)

// S3Skip is why a test without the S3-compatible test server skips.
const S3Skip = "MILVAULT_TEST_S3_ENDPOINT is not set: this needs a real S3-compatible server (scripts/minio.sh start, then source .milvus-test/minio.env)"

// S3URL returns the URL of a fresh prefix (named after prefix) of the
// S3-compatible test server's bucket, with the server's credentials in
// the environment for the test's duration; "" when the server is not
// configured (MILVAULT_TEST_S3_ENDPOINT, see S3Skip).
func S3URL(t testing.TB, prefix string) string {
	t.Helper()
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		return ""
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b := make([]byte, 6)
	rand.Read(b)
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	return "s3://" + os.Getenv("MILVAULT_TEST_S3_BUCKET") + "/" + prefix + "-" + hex.EncodeToString(b) + "?" + q.Encode()
}
