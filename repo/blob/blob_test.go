package blob

import (
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/storetest"
)

func openTest(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestContractMem runs the store contract over gocloud's in-memory bucket,
// once with the MD5 it reports and once without (verification by re-read).
func TestContractMem(t *testing.T) {
	for _, url := range []string{"mem://", "mem://?nomd5=true", "mem:///some/prefix"} {
		t.Run(url, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) repo.Store { return openTest(t, url) })
		})
	}
}

func TestParseLocation(t *testing.T) {
	tests := []struct {
		url                     string
		scheme, bucket, prefix  string
		driverURL, errSubstring string
	}{
		{url: "s3://b", scheme: "s3", bucket: "b", driverURL: "s3://b?response_checksum_validation=when_required"},
		{url: "s3://b/p/q/?region=us-east-1&endpoint=http://127.0.0.1:9000&use_path_style=true", scheme: "s3", bucket: "b", prefix: "p/q/",
			driverURL: "s3://b?endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=us-east-1&response_checksum_validation=when_required&use_path_style=true"},
		{url: "gs://b/backups", scheme: "gs", bucket: "b", prefix: "backups/", driverURL: "gs://b"},
		{url: "azblob://c/x", scheme: "azblob", bucket: "c", prefix: "x/", driverURL: "azblob://c"},
		{url: "mem://", scheme: "mem", driverURL: "mem:"},
		{url: "ftp://b", errSubstring: `scheme "ftp" is not supported`},
		{url: "s3:///p", errSubstring: "names no bucket"},
		{url: "s3://b/a/../c", errSubstring: `".."`},
		{url: "s3://AKIA:hunter22@b/p", errSubstring: "holds credentials"},
		{url: "s3://b/%zz", errSubstring: "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			l, err := parseLocation(tt.url)
			if tt.errSubstring != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errSubstring) {
					t.Fatalf("error = %v, want one containing %q", err, tt.errSubstring)
				}
				if strings.Contains(err.Error(), "hunter22") {
					t.Errorf("error %q repeats the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if l.scheme != tt.scheme || l.bucket != tt.bucket || l.prefix != tt.prefix || l.driverURL() != tt.driverURL {
				t.Errorf("got %s %q %q %s, want %s %q %q %s", l.scheme, l.bucket, l.prefix, l.driverURL(), tt.scheme, tt.bucket, tt.prefix, tt.driverURL)
			}
		})
	}
}

func TestLocationRedactsSecrets(t *testing.T) {
	tests := []struct{ url, want string }{
		{"s3://b/p?region=r", "s3://b/p/?region=r"},
		{"s3://b?endpoint=https://u:pw123456@minio:9000&region=r", "s3://b?endpoint=https%3A%2F%2Fu%3AREDACTED%40minio%3A9000&region=r"},
		{"azblob://c?sas_token=sv%3D2020%26sig%3Dabcdef&domain=d", "azblob://c?domain=d&sas_token=REDACTED"},
		{"gs://b?access_id=x&private_key=-----BEGIN", "gs://b?access_id=x&private_key=REDACTED"},
		{"mem://", "mem://"},
	}
	for _, tt := range tests {
		l, err := parseLocation(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.String(); got != tt.want {
			t.Errorf("Location(%s) = %s, want %s", tt.url, got, tt.want)
		}
	}
}

func TestErrorsScrubSecrets(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t-value")
	s := openTest(t, "mem://")
	err := s.wrap("put", "f", errors.New("signature mismatch for s3cr3t-value"))
	if strings.Contains(err.Error(), "s3cr3t-value") || !strings.Contains(err.Error(), "put f in mem://: signature mismatch for REDACTED") {
		t.Errorf("error = %q, want the secret redacted", err)
	}
}

func TestIsTransient(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"not found", fmt.Errorf("stat x: %w", repo.ErrNotFound), false},
		{"cancelled", context.Canceled, false},
		{"request timeout", fmt.Errorf("get: %w", context.DeadlineExceeded), true},
		{"S3 SlowDown", &smithy.GenericAPIError{Code: "SlowDown"}, true},
		{"S3 AccessDenied", &smithy.GenericAPIError{Code: "AccessDenied"}, false},
		{"HTTP 503", statusErr(503), true},
		{"HTTP 429", statusErr(429), true},
		{"HTTP 400", statusErr(400), false},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, false},
		{"network timeout", &net.OpError{Op: "read", Err: timeoutErr{}}, true},
		{"corrupted upload", &VerifyError{Name: "x"}, true},
		{"plain", errors.New("bad"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTransient(tt.err); got != tt.want {
				t.Errorf("IsTransient(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

type statusErr int

func (e statusErr) Error() string       { return fmt.Sprintf("HTTP %d", int(e)) }
func (e statusErr) HTTPStatusCode() int { return int(e) }

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestMultipartETag(t *testing.T) {
	// S3's documented rule: hex(md5(md5(part1) || md5(part2) ...)) "-" count.
	tests := []struct {
		name     string
		data     string
		partSize int64
		writes   []int
	}{
		{"one short part", "abc", 5, []int{3}},
		{"exact parts", "abcdefghij", 5, []int{10}},
		{"split writes", "abcdefghij", 5, []int{3, 4, 3}},
		{"short last part", "abcdefghijkl", 5, []int{1, 11}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDigest(tt.partSize)
			rest := tt.data
			for _, n := range tt.writes {
				d.Write([]byte(rest[:n]))
				rest = rest[n:]
			}
			if got, want := d.multipartETag(), referenceETag(tt.data, int(tt.partSize)); got != want {
				t.Errorf("multipartETag = %s, want %s", got, want)
			}
		})
	}
}

// referenceETag computes an S3 multipart ETag the slow, obvious way.
func referenceETag(data string, partSize int) string {
	var sums []byte
	n := 0
	for ; len(data) > 0; n++ {
		part := data[:min(partSize, len(data))]
		data = data[len(part):]
		sum := md5.Sum([]byte(part))
		sums = append(sums, sum[:]...)
	}
	return fmt.Sprintf("%x-%d", md5.Sum(sums), n)
}

// TestVerifyCatchesCorruption overwrites an uploaded object behind Put's
// back and checks that verification fails, by MD5 and by re-read.
func TestVerifyCatchesCorruption(t *testing.T) {
	for _, url := range []string{"mem://", "mem://?nomd5=true"} {
		t.Run(url, func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t, url)
			d, err := s.upload(ctx, "k", strings.NewReader("the real content"))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.bucket.WriteAll(ctx, "k", []byte("the fake content"), nil); err != nil {
				t.Fatal(err)
			}
			err = s.verify(ctx, "k", "k", d)
			var ve *VerifyError
			if !errors.As(err, &ve) || !IsTransient(err) {
				t.Errorf("verify = %v, want a transient *VerifyError", err)
			}
		})
	}
}

func TestNotFoundIsMapped(t *testing.T) {
	s := openTest(t, "mem://")
	_, err := s.Stat(context.Background(), "nope")
	if !errors.Is(err, repo.ErrNotFound) {
		t.Errorf("Stat(missing) = %v, want repo.ErrNotFound", err)
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"s3://b/p?region=r", "s3://b/p/?region=r"},
		{"s3://key:pw@b/p", "s3://REDACTED"},
		{"gs://b?private_key=xyz", "gs://b?private_key=REDACTED"},
		{"/srv/backups/milvus", "/srv/backups/milvus"},
		{"./repo", "./repo"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
