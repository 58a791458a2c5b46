package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/milvault/milvault/internal/fixture"
)

// TestObjectLockS3 backs up a real Milvus collection into a MinIO bucket
// with S3 Object Lock under a 1-day retention and checks that neither
// `milvault delete` nor `prune` removes the backup (both say when it can
// be), and that a plain S3 DeleteObject of the objects' versions, with the
// same keys, is refused by the store.
func TestObjectLockS3(t *testing.T) {
	repoURL := s3RepoURL(t, "lock")
	locked := os.Getenv("MILVAULT_TEST_S3_LOCKED_BUCKET")
	if locked == "" {
		t.Skip("MILVAULT_TEST_S3_LOCKED_BUCKET is not set: restart MinIO with this tree's scripts/minio.sh, which creates a lock-enabled bucket")
	}
	repoURL = strings.Replace(repoURL, "s3://"+os.Getenv("MILVAULT_TEST_S3_BUCKET")+"/", "s3://"+locked+"/", 1)
	e := newEnv(t, firstTarget(t).addr)
	c, prefix := s3TestClient(t, repoURL)
	t.Cleanup(func() { removeAllVersions(t, c, locked, prefix) })

	e.mustRun(t, repoURL, "init", "--object-lock", "governance:1d")
	name := uniqueName("lock")
	e.createFixture(t, fixture.Options{Name: name, Rows: 200, Dim: 8, Seed: 5})
	b1, b2 := e.backup(t, repoURL, name), e.backup(t, repoURL, name)

	expectFailure(t, e.milvault(t, repoURL, "delete", b1.ID, "--yes"), 6, "backup "+b1.ID+" is under object lock (governance) until", "can be deleted from then on")
	pr := e.mustRun(t, repoURL, "--json", "prune", "--keep-last", "1", "--min-keep", "1")
	var rep struct {
		Backups []struct {
			ID      string
			Keep    bool
			Reasons []string
		}
		Deleted []string
	}
	if err := json.Unmarshal([]byte(pr.stdout), &rep); err != nil {
		t.Fatalf("prune --json printed %q: %v", pr.stdout, err)
	}
	for _, b := range rep.Backups {
		if b.ID == b1.ID && (!b.Keep || !strings.Contains(strings.Join(b.Reasons, ","), "object lock until ")) {
			t.Errorf("prune verdict for %s = %+v; want kept for its object lock, with the time", b1.ID, b)
		}
	}
	if len(rep.Deleted) != 0 {
		t.Errorf("prune deleted %v under object lock", rep.Deleted)
	}
	list := e.mustRun(t, repoURL, "list")
	if !strings.Contains(list.stdout, b1.ID) || !strings.Contains(list.stdout, b2.ID) {
		t.Fatalf("a backup is gone after the refused delete and prune: %s", list.stdout)
	}
	if doctorChecks(t, e, repoURL)["repository-protection"] {
		t.Errorf("doctor warns about the protection of a lock-enabled bucket")
	}
	plain := s3RepoURL(t, "plain")
	e.mustRun(t, plain, "init")
	t.Cleanup(func() {
		removeAllVersions(t, c, os.Getenv("MILVAULT_TEST_S3_BUCKET"), strings.TrimPrefix(mustParse(t, plain).Path, "/")+"/")
	})
	if !doctorChecks(t, e, plain)["repository-protection"] {
		t.Errorf("doctor does not warn about a repository bucket without versioning or object lock")
	}
	for _, key := range []string{prefix + "manifests/" + b1.ID + ".json", prefix + "config.json"} {
		if err := deleteCurrentVersion(c, locked, key); !refused(err) {
			t.Errorf("plain DeleteObject of the version of %s = %v; want the store to refuse", key, err)
		}
	}
}

// refused reports an S3 refusal to delete a retained version (AWS answers
// AccessDenied, MinIO InvalidRequest "Object is WORM protected").
func refused(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && (ae.ErrorCode() == "AccessDenied" || ae.ErrorCode() == "InvalidRequest")
}

// s3TestClient returns a plain S3 client for the MinIO test server and the
// key prefix of repoURL.
func s3TestClient(t *testing.T, repoURL string) (*s3.Client, string) {
	t.Helper()
	u, err := url.Parse(repoURL)
	if err != nil {
		t.Fatal(err)
	}
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(os.Getenv("MILVAULT_TEST_S3_ENDPOINT")), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"), os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"), "")})
	return c, strings.TrimPrefix(u.Path, "/") + "/"
}

func deleteCurrentVersion(c *s3.Client, bucket, key string) error {
	ctx := context.Background()
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: head.VersionId})
	return err
}

// removeAllVersions deletes every version under prefix, bypassing the
// governance retention (the test user may), so that the test leaves
// nothing behind.
func removeAllVersions(t *testing.T, c *s3.Client, bucket, prefix string) {
	ctx := context.Background()
	out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Logf("clean up %s: %v", prefix, err)
		return
	}
	for _, v := range out.Versions {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: v.Key, VersionId: v.VersionId,
			BypassGovernanceRetention: aws.Bool(true)}); err != nil {
			t.Logf("clean up %s: %v", aws.ToString(v.Key), err)
		}
	}
	for _, v := range out.DeleteMarkers {
		_, _ = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: v.Key, VersionId: v.VersionId})
	}
}

// doctorChecks runs `milvault doctor --json` on repoURL and returns the
// checks that found something.
func doctorChecks(t *testing.T, e *env, repoURL string) map[string]bool {
	t.Helper()
	r := e.milvault(t, repoURL, "--json", "doctor")
	var rep struct {
		Findings []struct{ Check string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("doctor --json printed %q: %v (%s)", r.stdout, err, r)
	}
	out := map[string]bool{}
	for _, f := range rep.Findings {
		out[f.Check] = true
	}
	return out
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
