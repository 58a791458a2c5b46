package blob

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/retention"
)

// lockedTestURL is s3TestURL in the bucket scripts/minio.sh creates with
// S3 Object Lock enabled.
func lockedTestURL(t *testing.T) string {
	t.Helper()
	u := s3TestURL(t)
	b := os.Getenv("MILVAULT_TEST_S3_LOCKED_BUCKET")
	if b == "" {
		t.Skip("MILVAULT_TEST_S3_LOCKED_BUCKET is not set: restart MinIO with this tree's scripts/minio.sh, which creates a lock-enabled bucket")
	}
	return strings.Replace(u, "s3://"+os.Getenv("MILVAULT_TEST_S3_BUCKET")+"/", "s3://"+b+"/", 1)
}

// lockedBackup commits a one-file backup into r through its write paths.
func lockedBackup(t *testing.T, r *repo.Repository, id string) *manifest.Manifest {
	t.Helper()
	ctx := context.Background()
	fw, err := r.CreateFile(ctx, manifest.DataPrefix(id)+"default/c/_default/part-00000.parquet", checksum.SHA256, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	f, err := fw.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f.Rows = 2
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: id, CreatedAt: time.Now().UTC(),
		Collections: []manifest.Collection{{Database: "default", Name: "c", Schema: []byte(`{}`), Rows: 2,
			Partitions: []manifest.Partition{{Name: "_default", Rows: 2, Files: []manifest.File{f}}}}}}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestObjectLockS3 proves on MinIO with a lock-enabled bucket that a backup
// under a 1-day retention cannot be deleted by milvault's delete, is kept
// by prune with the time it becomes deletable, and that the store itself
// refuses a plain DeleteObject of the object's version.
func TestObjectLockS3(t *testing.T) {
	ctx := context.Background()
	raw := lockedTestURL(t)
	s := openTest(t, raw)
	r, err := repo.InitWith(ctx, s, repo.InitOptions{ObjectLock: &repo.ObjectLock{Mode: repo.LockGovernance, RetentionSeconds: 86400}})
	if err != nil {
		t.Fatal(err)
	}
	c := s3Client(t, s)
	t.Cleanup(func() { bypassDelete(t, c, s) })
	m := lockedBackup(t, r, "b1")
	data := m.Files()[0].Path

	until, err := s.RetainedUntil(ctx, data)
	if d := time.Until(until); err != nil || d < 23*time.Hour || d > 25*time.Hour {
		t.Fatalf("retain-until of %s = %s, %v; want about a day from now", data, until, err)
	}
	err = r.Delete(ctx, nil, m.ID)
	var re *repo.RetainedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "can be deleted from then on") || re.Until.Before(until) {
		t.Fatalf("Delete = %v; want a *RetainedError naming a time no earlier than %s", err, until)
	}
	plan, err := retention.HoldLocked(ctx, r, []retention.Verdict{{Manifest: m}})
	if err != nil || !plan[0].Keep || !strings.HasPrefix(plan[0].Reasons[0], retention.LockedReason) {
		t.Fatalf("prune plan = %+v, %v; want the backup kept for its object lock", plan, err)
	}
	if _, err := r.Find(ctx, m.ID); err != nil {
		t.Fatalf("the backup is gone after the refused delete: %v", err)
	}
	for _, name := range []string{data, manifest.Path(m.ID)} {
		err := deleteVersion(ctx, c, s, name, false)
		// AWS answers AccessDenied; MinIO InvalidRequest ("Object is WORM
		// protected").
		var ae smithy.APIError
		if !errors.As(err, &ae) || (ae.ErrorCode() != "AccessDenied" && ae.ErrorCode() != "InvalidRequest") {
			t.Errorf("plain DeleteObject of the version of %s = %v; want the store to refuse", name, err)
		}
		if _, err := s.Stat(ctx, name); err != nil {
			t.Errorf("%s after the refused DeleteObject: %v", name, err)
		}
	}
}

// TestProtectionS3 reads versioning and object lock of both test buckets.
func TestProtectionS3(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		url  string
		want Protection
	}{{s3TestURL(t), Protection{}}, {lockedTestURL(t), Protection{Versioning: true, ObjectLock: true}}} {
		got, err := openTest(t, c.url).Protection(ctx)
		if err != nil || got != c.want {
			t.Errorf("Protection of %s = %+v, %v; want %+v", c.url, got, err, c.want)
		}
	}
}

// TestLockedPutWithoutBucketLock checks the message of a retained upload
// into a bucket without object lock.
func TestLockedPutWithoutBucketLock(t *testing.T) {
	s := openCleaned(t, s3TestURL(t))
	ctx := repo.WithRetain(context.Background(), repo.Retain{Mode: repo.LockGovernance, Until: time.Now().Add(time.Hour)})
	err := s.Put(ctx, "x", strings.NewReader("x"))
	if err == nil || !strings.Contains(err.Error(), "does not have S3 Object Lock enabled") {
		t.Fatalf("Put = %v; want it to say the bucket has no object lock", err)
	}
}

func s3Client(t *testing.T, s *Store) *s3.Client {
	t.Helper()
	var c *s3.Client
	if !s.bucket.As(&c) {
		t.Fatal("no S3 client behind the store")
	}
	return c
}

// deleteVersion deletes the current version of name with a plain S3 call
// (bypassing governance retention when bypass is set).
func deleteVersion(ctx context.Context, c *s3.Client, s *Store, name string, bypass bool) error {
	key, err := s.key(name)
	if err != nil {
		return err
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.loc.bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.loc.bucket), Key: aws.String(key),
		VersionId: head.VersionId, BypassGovernanceRetention: aws.Bool(bypass)})
	return err
}

// bypassDelete removes every version under the store's prefix, bypassing
// governance retention (the test user may), so that tests leave nothing.
func bypassDelete(t *testing.T, c *s3.Client, s *Store) {
	ctx := context.Background()
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(s.loc.bucket), Prefix: aws.String(s.loc.prefix)})
	if err != nil {
		t.Logf("clean up: %v", err)
		return
	}
	for _, v := range out.Versions {
		_, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.loc.bucket), Key: v.Key, VersionId: v.VersionId, BypassGovernanceRetention: aws.Bool(true)})
		if err != nil {
			t.Logf("clean up %s: %v", aws.ToString(v.Key), err)
		}
	}
	for _, v := range out.DeleteMarkers {
		_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.loc.bucket), Key: v.Key, VersionId: v.VersionId})
	}
}
