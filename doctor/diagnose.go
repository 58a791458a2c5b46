package doctor

import (
	"fmt"
	"os"
)

// Params are everything a doctor run learned; nil parts were not asked.
type Params struct {
	Inputs   *Inputs
	Live     *LiveFacts
	Coverage *Coverage
	Buckets  []BucketProbe
}

// Diagnose runs every check that applies to p and returns the sorted
// report. It does no I/O.
func Diagnose(p Params) *Report {
	r := &Report{Findings: []Finding{}, Undetermined: []string{}}
	in := p.Inputs
	if in == nil {
		in = &Inputs{}
	}
	if p.Live != nil {
		in = withLive(in, *p.Live)
		r.Add(CheckLive(*p.Live)...)
		r.Undetermined = append(r.Undetermined, LiveUnknowns(*p.Live)...)
	}
	r.Add(CheckConfig(in)...)
	for _, b := range p.Buckets {
		r.Add(CheckBucket(b)...)
		if b.Err != nil {
			r.Unknown("whether bucket %s is public: %v", b.Target.Bucket, b.Err)
		}
	}
	if p.Coverage != nil {
		r.Add(CheckCoverage(*p.Coverage)...)
		if pr := p.Coverage.Protection; pr != nil {
			r.Add(CheckProtection(*pr)...)
			if pr.Err != nil {
				r.Unknown("whether repository bucket %s keeps versions or object locks: %v", pr.Bucket, pr.Err)
			}
		}
	}
	noteMissing(r, p)
	if !p.Inspected() {
		r.NothingChecked = true
		r.Unknown("anything at all: no server, repository, bucket or configuration file of a known kind was inspected")
	}
	r.Sort()
	return r
}

// withLive adds the server's bucket as one more Milvus source for the
// bucket-agreement check (not for embedded builds, which ignore it).
func withLive(in *Inputs, f LiveFacts) *Inputs {
	if f.Bucket == "" || f.Kind() == "embedded" {
		return in
	}
	out := *in
	s := Settings{}
	s.Set(Setting{Key: "minio.bucketName", Value: f.Bucket, Where: f.apiWhere("GetMetrics system_info minio_bucket_name")})
	out.Configs = append(append([]MilvusConfig(nil), in.Configs...), MilvusConfig{Source: "live server " + f.Address, Settings: s})
	return &out
}

// noteMissing records which inputs were not given, so that a clean report
// says what it did not look at.
func noteMissing(r *Report, p Params) {
	if p.Live == nil {
		r.Unknown("the running server: no --milvus given")
	}
	if p.Inputs == nil || len(p.Inputs.Files) == 0 {
		r.Unknown("volumes, etcd and object-store layout: no --config-file given")
	}
	if p.Coverage == nil {
		r.Unknown("backup coverage: no repository given (--repo)")
	}
	if len(p.Buckets) == 0 {
		r.Unknown("whether the object-store bucket is public: no endpoint known (minio.address in a config file, or --s3-endpoint)")
	}
}

// ParseFiles reads and parses every named file.
func ParseFiles(paths []string) (*Inputs, error) {
	in := &Inputs{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read config file: %w", err)
		}
		parsed, err := ParseFile(p, data)
		if err != nil {
			return nil, err
		}
		in.Merge(parsed)
	}
	return in, nil
}
