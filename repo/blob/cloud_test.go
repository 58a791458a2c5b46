package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"testing"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/storetest"
)

// s3TestURL returns the repository URL of a fresh prefix in the test
// bucket of the S3-compatible server scripts/minio.sh starts, and exports
// its credentials for the AWS SDK; it skips the test when the server is
// not configured.
func s3TestURL(t testing.TB) string {
	t.Helper()
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("MILVAULT_TEST_S3_ENDPOINT is not set: the S3 contract needs a real S3-compatible server (run `make test`, or scripts/minio.sh start and source .milvus-test/minio.env)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	return "s3://" + os.Getenv("MILVAULT_TEST_S3_BUCKET") + "/" + randomPrefix() + "?" + q.Encode()
}

// pattern is a stream of n bytes generated as it is read.
func pattern(n int64) io.Reader { return io.LimitReader(patternReader{}, n) }

type patternReader struct{}

func (patternReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(i % 251)
	}
	return len(p), nil
}

func randomPrefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "test-" + hex.EncodeToString(b)
}

// openCleaned opens url and removes everything under it when the test ends.
func openCleaned(t testing.TB, url string) *Store {
	t.Helper()
	s := openTest(t, url)
	t.Cleanup(func() {
		if err := s.DeleteAll(context.Background(), ""); err != nil {
			t.Logf("clean up %s: %v", s.Location(), err)
		}
	})
	return s
}

// TestContractS3 runs the store contract against a real S3-compatible
// server (MinIO in CI).
func TestContractS3(t *testing.T) {
	storetest.Run(t, func(t *testing.T) repo.Store { return openCleaned(t, s3TestURL(t)) })
}

// TestS3VerifiesByETag checks that uploads to S3 are verified from the
// reported MD5 or multipart ETag, without reading the object back.
func TestS3VerifiesByETag(t *testing.T) {
	s := openCleaned(t, s3TestURL(t))
	s.partSize = 5 << 20 // the S3 minimum, so 12 MiB is three parts
	for _, size := range []int64{100, 12 << 20} {
		ctx := context.Background()
		d, err := s.upload(ctx, "etag", pattern(size))
		if err != nil {
			t.Fatal(err)
		}
		attrs, err := s.bucket.Attributes(ctx, "etag")
		if err != nil {
			t.Fatal(err)
		}
		if !d.matches(attrs.MD5, attrs.ETag) {
			t.Errorf("%d bytes: ETag %s, MD5 %x not recognised (want %s or %x)", size, attrs.ETag, attrs.MD5, d.multipartETag(), d.sum())
		}
	}
}

// TestContractCloud runs the store contract against Google Cloud Storage
// and Azure Blob Storage (or their emulators) when a test location is set.
func TestContractCloud(t *testing.T) {
	for _, c := range []struct{ name, env, how string }{
		{"gcs", "MILVAULT_TEST_GCS_URL", "gs://bucket/prefix, with Application Default Credentials or STORAGE_EMULATOR_HOST"},
		{"azure", "MILVAULT_TEST_AZBLOB_URL", "azblob://container/prefix, with AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY (or SAS token, connection string; Azurite: add ?localemu=true&domain=127.0.0.1:10000&protocol=http)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := os.Getenv(c.env)
			if base == "" {
				t.Skipf("%s is not set: set it to %s to run the contract against %s", c.env, c.how, c.name)
			}
			storetest.Run(t, func(t *testing.T) repo.Store { return openCleaned(t, withSubPrefix(t, base)) })
		})
	}
}

// withSubPrefix adds a fresh folder to the path of a repository URL.
func withSubPrefix(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("test URL: %v", err)
	}
	u.Path = u.Path + "/" + randomPrefix()
	return u.String()
}
