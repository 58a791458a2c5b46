package doctor

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// BucketTarget is an object-store bucket to probe without credentials.
type BucketTarget struct {
	Endpoint string // http(s)://host:port
	Bucket   string
	Where    Where // where the endpoint or bucket was configured
}

// BucketProbe is what an anonymous client could do with a bucket.
type BucketProbe struct {
	Target   BucketTarget
	Listable bool
	Readable bool
	// Answers records the HTTP status and S3 error code of each request,
	// e.g. "GET ?list-type=2: 403 AccessDenied".
	Answers []string
	// Err is set when the endpoint could not be asked at all.
	Err error
}

// missingKey is an object name that will not exist: an anonymous GET that
// answers NoSuchKey rather than AccessDenied proves anonymous reads are
// allowed without reading any real data.
const missingKey = "milvault-doctor-probe/does-not-exist"

// ProbeBucket asks endpoint, with no credentials, to list the bucket and to
// read an object. It never writes. A nil client means http.DefaultClient.
func ProbeBucket(ctx context.Context, client *http.Client, t BucketTarget) BucketProbe {
	if client == nil {
		client = http.DefaultClient
	}
	p := BucketProbe{Target: t}
	base := strings.TrimRight(t.Endpoint, "/") + "/" + url.PathEscape(t.Bucket)
	list, err := s3Get(ctx, client, base+"?list-type=2&max-keys=1")
	if err != nil {
		p.Err = fmt.Errorf("probe bucket %s at %s: %w", t.Bucket, t.Endpoint, err)
		return p
	}
	p.Answers = append(p.Answers, "GET /"+t.Bucket+"?list-type=2: "+list.summary())
	p.Listable = list.Status == http.StatusOK && list.ListResult
	key := missingKey
	if list.FirstKey != "" {
		key = list.FirstKey
	}
	read, err := s3Get(ctx, client, base+"/"+escapeKey(key))
	if err != nil {
		p.Err = fmt.Errorf("probe bucket %s at %s: %w", t.Bucket, t.Endpoint, err)
		return p
	}
	p.Answers = append(p.Answers, "GET /"+t.Bucket+"/"+key+": "+read.summary())
	p.Readable = read.Status == http.StatusOK || read.Status == http.StatusPartialContent || read.Code == "NoSuchKey"
	return p
}

func escapeKey(k string) string {
	parts := strings.Split(k, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// s3Answer is the part of an S3 response the probe needs.
type s3Answer struct {
	Status     int
	Code       string // S3 error code
	ListResult bool
	FirstKey   string
}

func (a s3Answer) summary() string {
	if a.Code != "" {
		return fmt.Sprintf("%d %s", a.Status, a.Code)
	}
	return fmt.Sprint(a.Status)
}

// s3Get sends an unsigned GET and decodes the start of the answer.
func s3Get(ctx context.Context, client *http.Client, u string) (s3Answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return s3Answer{}, err
	}
	req.Header.Set("Range", "bytes=0-0")
	resp, err := client.Do(req)
	if err != nil {
		return s3Answer{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var doc struct {
		XMLName  xml.Name
		Code     string   `xml:"Code"`
		Contents []string `xml:"Contents>Key"`
	}
	a := s3Answer{Status: resp.StatusCode}
	if xml.Unmarshal(body, &doc) == nil {
		a.Code, a.ListResult = doc.Code, doc.XMLName.Local == "ListBucketResult"
		if len(doc.Contents) > 0 {
			a.FirstKey = doc.Contents[0]
		}
	}
	return a, nil
}

// CheckBucket turns a probe into findings (check 3). A probe that could not
// reach the endpoint yields none; callers report it as undetermined.
func CheckBucket(p BucketProbe) []Finding {
	if p.Err != nil || (!p.Listable && !p.Readable) {
		return nil
	}
	what := "readable"
	if p.Listable {
		what = "listable"
		if p.Readable {
			what = "listable and readable"
		}
	}
	evidence := []Evidence{{Where: p.Target.Where, Value: p.Target.Endpoint + " bucket " + p.Target.Bucket}}
	for _, a := range p.Answers {
		evidence = append(evidence, Evidence{Where: Where{Path: "anonymous request"}, Value: a})
	}
	return []Finding{{Check: IDPublicBucket, Severity: Critical,
		Title:    fmt.Sprintf("Bucket %s at %s is %s without credentials", p.Target.Bucket, p.Target.Endpoint, what),
		Evidence: evidence,
		Why:      "Anyone who can reach the endpoint can copy every vector and, if writes are open too, delete the segments Milvus depends on.",
		Fix:      fmt.Sprintf("mc anonymous set none ALIAS/%s   # MinIO\naws s3api put-public-access-block --bucket %s --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true   # AWS", p.Target.Bucket, p.Target.Bucket)}}
}

// BucketTargets returns the buckets the inputs say Milvus uses, with their
// endpoints (minio.address, minio.port, minio.useSSL, minio.bucketName).
func BucketTargets(in *Inputs) []BucketTarget {
	var out []BucketTarget
	seen := map[string]bool{}
	add := func(get func(string) (Setting, bool)) {
		t, ok := bucketTarget(get)
		if ok && !seen[t.Endpoint+"/"+t.Bucket] {
			seen[t.Endpoint+"/"+t.Bucket] = true
			out = append(out, t)
		}
	}
	for _, cfg := range in.allConfigs() {
		add(cfg.Settings.Get)
	}
	in.milvusContainers(func(w Workload, c Container) {
		add(func(k string) (Setting, bool) { return in.effective(c, k) })
	})
	for _, b := range in.BackupConfigs {
		add(b.Settings.Get)
	}
	return out
}

func bucketTarget(get func(string) (Setting, bool)) (BucketTarget, bool) {
	addr, ok := get("minio.address")
	if !ok || addr.Value == "" {
		return BucketTarget{}, false
	}
	bucket, ok := get("minio.bucketName")
	if !ok {
		bucket = Setting{Value: "a-bucket"} // Milvus's default
	}
	host := addr.Value
	if port, ok := get("minio.port"); ok && !strings.Contains(host, ":") {
		host = net.JoinHostPort(host, port.Value)
	}
	scheme := "http"
	if ssl, ok := get("minio.useSSL"); ok && isTrue(ssl.Value) {
		scheme = "https"
	}
	if strings.Contains(host, "://") {
		scheme, host, _ = strings.Cut(host, "://")
	}
	return BucketTarget{Endpoint: scheme + "://" + host, Bucket: bucket.Value, Where: addr.Where}, true
}
