package offsite_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
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
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("MILVAULT_TEST_S3_ENDPOINT is not set: copy to S3 needs a real S3-compatible server (scripts/minio.sh start, then source .milvus-test/minio.env)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b := make([]byte, 6)
	rand.Read(b)
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	u := "s3://" + os.Getenv("MILVAULT_TEST_S3_BUCKET") + "/copy-" + hex.EncodeToString(b) + "?" + q.Encode()

	ctx := context.Background()
	bs, err := blob.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.DeleteAll(context.Background(), ""); bs.Close() })
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

// TestCopyCaptureToS3 carries a capture log into the S3-compatible test
// server and plans a point-in-time restore from there.
func TestCopyCaptureToS3(t *testing.T) {
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("MILVAULT_TEST_S3_ENDPOINT is not set: copy to S3 needs a real S3-compatible server (scripts/minio.sh start, then source .milvus-test/minio.env)")
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b := make([]byte, 6)
	rand.Read(b)
	q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
	ctx := context.Background()
	bs, err := blob.Open(ctx, "s3://"+os.Getenv("MILVAULT_TEST_S3_BUCKET")+"/copy-capture-"+hex.EncodeToString(b)+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.DeleteAll(context.Background(), ""); bs.Close() })
	src, dst := newRepo(t, mem.New()), newRepo(t, bs)
	m := commitCaptureBase(t, src)
	runGuard(t, src, 1, 3)
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || res.Capture.Copied != 5 {
		t.Fatalf("copy to S3: %v, capture %+v; want 5 segments", err, res.Capture)
	}
	sameLog(t, src, dst, capture.HybridTS(captureBase.Add(10*time.Minute)))
}
