package doctor

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// fakeS3 answers anonymous requests the way MinIO does for a bucket with
// the given anonymous policy: "none", "download" (GetObject) or "public"
// (GetObject and ListBucket).
func fakeS3(policy string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		listing := r.URL.Query().Get("list-type") != ""
		switch {
		case listing && policy == "public":
			w.Write([]byte(`<?xml version="1.0"?><ListBucketResult><Name>b</Name><Contents><Key>files/insert_log/1</Key></Contents></ListBucketResult>`))
		case !listing && policy != "none" && strings.HasSuffix(r.URL.Path, "/files/insert_log/1"):
			w.WriteHeader(http.StatusPartialContent)
			w.Write([]byte("x"))
		case !listing && policy != "none":
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`<Error><Code>NoSuchKey</Code></Error>`))
		default:
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>`))
		}
	}))
}

func TestProbeBucket(t *testing.T) {
	cases := []struct {
		policy             string
		listable, readable bool
		want               []string
	}{
		{"none", false, false, []string{}},
		{"download", false, true, []string{"critical public-bucket"}},
		{"public", true, true, []string{"critical public-bucket"}},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			srv := fakeS3(c.policy)
			defer srv.Close()
			p := ProbeBucket(context.Background(), srv.Client(), BucketTarget{Endpoint: srv.URL, Bucket: "b"})
			if p.Err != nil || p.Listable != c.listable || p.Readable != c.readable {
				t.Fatalf("probe = listable %v readable %v err %v (%q), want %v %v", p.Listable, p.Readable, p.Err, p.Answers, c.listable, c.readable)
			}
			if got := summarize(CheckBucket(p)); !slices.Equal(got, c.want) {
				t.Errorf("findings %q, want %q", got, c.want)
			}
		})
	}
}

func TestProbeBucketUnreachable(t *testing.T) {
	srv := fakeS3("public")
	srv.Close()
	p := ProbeBucket(context.Background(), nil, BucketTarget{Endpoint: srv.URL, Bucket: "b"})
	if p.Err == nil || len(CheckBucket(p)) != 0 {
		t.Errorf("probe of a closed server: err %v, findings %v; want an error and no findings", p.Err, CheckBucket(p))
	}
	r := Diagnose(Params{Buckets: []BucketProbe{p}})
	if !slices.ContainsFunc(r.Undetermined, func(s string) bool { return strings.Contains(s, "whether bucket b is public") }) {
		t.Errorf("undetermined = %q, want the bucket named", r.Undetermined)
	}
}

func TestBucketTargets(t *testing.T) {
	cases := []struct {
		name, doc string
		want      []string
	}{
		{"milvus.yaml", "minio:\n  address: m.svc\n  port: 9000\n  bucketName: b\n", []string{"http://m.svc:9000/b"}},
		{"ssl, default bucket", "minio:\n  address: s3.example.com\n  port: 443\n  useSSL: true\n", []string{"https://s3.example.com:443/a-bucket"}},
		{"no address", "minio:\n  bucketName: b\n", nil},
		{"compose env", "services:\n  s:\n    image: milvusdb/milvus\n    environment:\n      MINIO_ADDRESS: minio:9000\n      MINIO_BUCKETNAME: x\n", []string{"http://minio:9000/x"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in, err := ParseFile("f.yaml", []byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, b := range BucketTargets(in) {
				got = append(got, b.Endpoint+"/"+b.Bucket)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}
