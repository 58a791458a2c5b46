package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// TestS3RoundTrip is the core round trip with the repository in a real
// S3-compatible server (MinIO, started by scripts/minio.sh): back up a
// collection to s3://, copy the backup to a second bucket (twice: the rerun
// has nothing to do), drop the collection, restore it from the copy and
// compare every row, for every Milvus target.
func TestS3RoundTrip(t *testing.T) {
	s3RepoURL(t, "") // skips before anything starts when MinIO is not set up
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			start := time.Now()
			e := newEnv(t, tg.addr)
			e.testS3RoundTrip(t, s3RepoURL(t, tg.name))
			t.Logf("S3 round trip against %s took %s", tg.name, time.Since(start).Round(time.Second))
		})
	}
}

func (e *env) testS3RoundTrip(t *testing.T, repoURL string) {
	name := uniqueName("s3")
	d := e.createFixture(t, fixture.Options{Name: name, Rows: 5000, Dim: 32, Seed: 11})
	// --init creates the repository in the bucket folder, as a script would.
	sum := e.backup(t, repoURL, name, "--chunk-size", "1MiB", "--init")
	if sum.Rows != int64(d.Rows) || sum.Files < 2 {
		t.Errorf("backup has %d rows in %d files, want %d rows in several files", sum.Rows, sum.Files, d.Rows)
	}
	list := e.mustRun(t, repoURL, "--json", "list")
	if !strings.Contains(list.stdout, sum.ID) {
		t.Errorf("list does not show backup %s: %s", sum.ID, list.stdout)
	}
	if strings.Contains(list.stdout+list.stderr, os.Getenv("MILVAULT_TEST_S3_SECRET_KEY")) {
		t.Errorf("list output shows the S3 secret key")
	}
	copyURL := strings.Replace(repoURL, "s3://"+os.Getenv("MILVAULT_TEST_S3_BUCKET")+"/", "s3://"+os.Getenv("MILVAULT_TEST_S3_BUCKET2")+"/", 1)
	if r := e.milvault(t, repoURL, "copy", sum.ID, "--to", copyURL); r.code != 3 || !strings.Contains(r.String(), "--init") {
		t.Errorf("copy to a bucket folder without a repository: %s; want exit 3 suggesting init", r)
	}
	e.mustRun(t, repoURL, "copy", sum.ID, "--to", copyURL, "--init")
	if again := e.mustRun(t, repoURL, "copy", sum.ID, "--to", copyURL); !strings.Contains(again.stdout+again.stderr, "nothing to copy") {
		t.Errorf("second copy did not report that nothing was left to copy: %s", again)
	}
	source := e.dump(t, name)
	if err := e.client.DropCollection(testContext(t), d.Database, name); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, copyURL, "restore", sum.ID)
	sameDump(t, "restored from the S3 copy vs source", e.dump(t, name), source)
}

// s3RepoURL returns a repository URL in a fresh folder (named after
// purpose) of the MinIO test bucket and exports the server's credentials the way a user would (AWS
// environment variables), or skips the test.
func s3RepoURL(t *testing.T, purpose string) string {
	t.Helper()
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("MILVAULT_TEST_S3_ENDPOINT is not set: the S3 round trip needs a real S3-compatible server (run `make test`, or scripts/minio.sh start and source .milvus-test/minio.env)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	return "s3://" + os.Getenv("MILVAULT_TEST_S3_BUCKET") + "/e2e-" + purpose + "-" + hex.EncodeToString(b) + "?" + q.Encode()
}
