package doctor_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/doctor"
	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
)

// TestLiveServers runs the server checks against the real test servers:
// both keep data on one local disk and must be flagged as such, and backup
// coverage must tell a backed-up, verified collection from one with none.
func TestLiveServers(t *testing.T) {
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		suffix := randomSuffix(t)
		covered := createCollection(t, c, "doctor_covered_"+suffix)
		bare := createCollection(t, c, "doctor_bare_"+suffix)
		dial := func(ctx context.Context, token string) (doctor.LiveConn, error) {
			return milvus.Connect(ctx, milvus.Config{Address: tg.Address, Token: token})
		}
		f, err := doctor.GatherLive(ctx, tg.Address, "", dial)
		if err != nil {
			t.Fatal(err)
		}
		if kind := f.Kind(); kind != "embedded" && kind != "milvus-lite" {
			t.Errorf("kind of %s = %q (facts %+v), want embedded or milvus-lite", tg.Name, kind, f)
		}
		now := time.Now()
		backups := []doctor.BackupInfo{{ID: "b1", CreatedAt: now.Add(-time.Hour), Collections: []doctor.CollectionRef{covered},
			Proofs: []doctor.ProofInfo{{Kind: "verify-quick", OK: true, At: now.Add(-time.Minute)}}}}
		r := doctor.Diagnose(doctor.Params{Live: &f, Coverage: &doctor.Coverage{Live: f.Collections, Backups: backups,
			Now: now, RPO: 24 * time.Hour, VerifyWithin: 7 * 24 * time.Hour}})
		assertFinding(t, r, "live-server", "")
		assertFinding(t, r, "backup-coverage", bare.String()+" has no backup")
		for _, fd := range r.Findings {
			if fd.Check == "backup-coverage" && strings.Contains(fd.Title, covered.String()) {
				t.Errorf("covered collection flagged: %s", fd.Title)
			}
		}
	})
}

func createCollection(t *testing.T, c *milvus.Client, name string) doctor.CollectionRef {
	t.Helper()
	ctx := context.Background()
	d, err := fixture.Create(ctx, c, fixture.Options{Name: name, Rows: 10, Dim: 4, Partitions: []string{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Drop(context.Background(), c) })
	return doctor.CollectionRef{Database: "default", Name: name}
}

func assertFinding(t *testing.T, r *doctor.Report, check, titlePart string) {
	t.Helper()
	if !slices.ContainsFunc(r.Findings, func(f doctor.Finding) bool {
		return f.Check == check && strings.Contains(f.Title, titlePart)
	}) {
		t.Errorf("no %s finding with %q among:\n%s", check, titlePart, titles(r))
	}
}

func titles(r *doctor.Report) string {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "  %s [%s] %s\n", f.Severity, f.Check, f.Title)
	}
	return b.String()
}

func randomSuffix(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestPublicBucketRealS3 creates a public-read and a private bucket on the
// real S3 server of the test harness and probes both anonymously.
func TestPublicBucketRealS3(t *testing.T) {
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("MILVAULT_TEST_S3_ENDPOINT is not set: start MinIO with scripts/minio.sh start and source its env file")
	}
	suffix := randomSuffix(t)
	public, download, private := "doctor-public-"+suffix, "doctor-download-"+suffix, "doctor-private-"+suffix
	for _, b := range []string{public, download, private} {
		s3Request(t, endpoint, "PUT", b, "")
	}
	s3Request(t, endpoint, "PUT", public+"?policy", publicReadPolicy(public, true))
	s3Request(t, endpoint, "PUT", download+"?policy", publicReadPolicy(download, false))
	cases := map[string]bool{public: true, download: true, private: false}
	for bucket, wantPublic := range cases {
		p := doctor.ProbeBucket(context.Background(), nil, doctor.BucketTarget{Endpoint: endpoint, Bucket: bucket})
		got := len(doctor.CheckBucket(p)) > 0
		t.Logf("%s: listable %v readable %v err %v answers %q", bucket, p.Listable, p.Readable, p.Err, p.Answers)
		if p.Err != nil || got != wantPublic {
			t.Errorf("bucket %s flagged public = %v (err %v), want %v", bucket, got, p.Err, wantPublic)
		}
	}
}

// s3Request sends a SigV4-signed request (region us-east-1) with the test
// harness's credentials.
func s3Request(t *testing.T, endpoint, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, endpoint+"/"+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	signV4(req, []byte(body), os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"), os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"), time.Now().UTC())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %s: %s", method, path, resp.Status, msg)
	}
}

// signV4 adds an AWS Signature Version 4 Authorization header for S3.
func signV4(req *http.Request, body []byte, key, secret string, now time.Time) {
	date, stamp := now.Format("20060102"), now.Format("20060102T150405Z")
	payload := hexSHA256(body)
	req.Header.Set("x-amz-date", stamp)
	req.Header.Set("x-amz-content-sha256", payload)
	signed := "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{req.Method, req.URL.EscapedPath(), canonicalQuery(req.URL.Query()),
		"host:" + req.URL.Host + "\nx-amz-content-sha256:" + payload + "\nx-amz-date:" + stamp + "\n", signed, payload}, "\n")
	scope := date + "/us-east-1/s3/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + stamp + "\n" + scope + "\n" + hexSHA256([]byte(canonical))
	k := hmacSHA256([]byte("AWS4"+secret), date)
	for _, part := range []string{"us-east-1", "s3", "aws4_request"} {
		k = hmacSHA256(k, part)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		key, scope, signed, hex.EncodeToString(hmacSHA256(k, toSign))))
}

func canonicalQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(q.Get(k)))
	}
	return strings.Join(parts, "&")
}

func hexSHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// publicReadPolicy lets anyone read objects of bucket, and list it too when
// list is set (MinIO's "public" versus "download" anonymous policies).
func publicReadPolicy(bucket string, list bool) string {
	listing := ""
	if list {
		listing = fmt.Sprintf(`{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:ListBucket"],"Resource":["arn:aws:s3:::%s"]},`, bucket)
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[%s`+
		`{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, listing, bucket)
}
