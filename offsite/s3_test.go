package offsite_test

import (
	"context"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/repo/retry"
)

// TestCopyToS3 copies a backup into a fresh prefix of the S3-compatible
// test server (scripts/minio.sh), through the retry wrapper, and checks it
// byte for byte; a rerun finds it committed.
func TestCopyToS3(t *testing.T) {
	ctx := context.Background()
	bs := s3Store(t, "copy")
	dst := newRepo(t, retry.Wrap(bs, retry.Options{IsTransient: repo.TransientClassifier(bs)}))
	src, ss, m := committed(t, "20260101T000000Z-5353aa", 3)
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || res.Copied != 3 {
		t.Fatalf("copy to S3 = %+v, %v; want 3 files copied", res, err)
	}
	sameFiles(t, ss, bs, m)
	if res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{}); err != nil || !res.AlreadyCommitted {
		t.Errorf("rerun = %+v, %v; want already committed", res, err)
	}
}

// s3Store opens a fresh prefix of the S3-compatible test server, deleted
// after the test; it skips without the server.
func s3Store(t *testing.T, prefix string) *blob.Store {
	t.Helper()
	u := testbackup.S3URL(t, prefix)
	if u == "" {
		t.Skip(testbackup.S3Skip)
	}
	bs, err := blob.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.DeleteAll(context.Background(), ""); bs.Close() })
	return bs
}

// TestCopyCaptureToS3 carries a capture log into the S3-compatible test
// server and plans a point-in-time restore from there.
func TestCopyCaptureToS3(t *testing.T) {
	ctx := context.Background()
	src, dst := newRepo(t, mem.New()), newRepo(t, s3Store(t, "copy-capture"))
	m := commitCaptureBase(t, src)
	runGuard(t, src, 1, 3)
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || res.Capture.Copied != 5 {
		t.Fatalf("copy to S3: %v, capture %+v; want 5 segments", err, res.Capture)
	}
	sameLog(t, src, dst, capture.HybridTS(captureBase.Add(10*time.Minute)))
}
