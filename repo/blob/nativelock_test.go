package blob

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"github.com/milvault/milvault/repo"
)

// TestNativeBlobsObjectLockS3 proves on MinIO with a lock-enabled bucket,
// in a plain and in an encrypted repository, that a native segment file is
// uploaded under the repository's retention (the store refuses a plain
// DeleteObject of its version) and that collecting unreferenced files
// keeps and counts a retained one instead of failing.
func TestNativeBlobsObjectLockS3(t *testing.T) {
	for _, encrypt := range []bool{false, true} {
		ctx := context.Background()
		s := openTest(t, lockedTestURL(t))
		opts := repo.InitOptions{ObjectLock: &repo.ObjectLock{Mode: repo.LockGovernance, RetentionSeconds: 86400}}
		if encrypt {
			opts.Encrypt = &repo.KeySpec{Passphrase: "correct horse", ScryptWorkFactor: 10}
		}
		r, err := repo.InitWith(ctx, s, opts)
		if err != nil {
			t.Fatal(err)
		}
		c := s3Client(t, s)
		t.Cleanup(func() { bypassDelete(t, c, s) })
		b, err := r.PutBlob(ctx, strings.NewReader("segment bytes"), t.TempDir())
		if err != nil || !b.Stored {
			t.Fatalf("encrypted %v: PutBlob = %+v, %v", encrypt, b, err)
		}
		until, err := s.RetainedUntil(ctx, b.File.Path)
		if d := time.Until(until); err != nil || d < 23*time.Hour || d > 25*time.Hour {
			t.Fatalf("encrypted %v: retain-until of %s = %s, %v; want about a day from now", encrypt, b.File.Path, until, err)
		}
		var ae smithy.APIError
		if err := deleteVersion(ctx, c, s, b.File.Path, false); !errors.As(err, &ae) {
			t.Fatalf("encrypted %v: plain DeleteObject of the segment file's version = %v; want the store to refuse", encrypt, err)
		}
		l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "test"})
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.CollectBlobs(ctx, l)
		l.Unlock()
		if err != nil || got.Files != 0 || got.Kept != 1 {
			t.Fatalf("encrypted %v: CollectBlobs = %+v, %v; want the retained file kept and counted", encrypt, got, err)
		}
		if _, err := s.Stat(ctx, b.File.Path); err != nil {
			t.Fatalf("encrypted %v: the retained file is gone: %v", encrypt, err)
		}
	}
}
