package doctor

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"

	"github.com/milvault/milvault/milvus"
)

// systemInfo235 is an abridged GetMetrics answer of the PyPI milvus 2.3.5
// server the test scripts run.
const systemInfo235 = `{"nodes_info":[{"infos":{"type":"querynode","system_info":{"deploy_mode":"STANDALONE","build_version":"v2.3.5-lite"},"system_configurations":{"simd_type":"auto"}}},
{"infos":{"type":"indexnode","system_info":{"deploy_mode":"STANDALONE","build_version":"v2.3.5-lite"},"system_configurations":{"minio_bucket_name":"a-bucket"}}}]}`

func TestParseSystemInfo(t *testing.T) {
	var f LiveFacts
	parseSystemInfo(systemInfo235, &f)
	if f.DeployMode != "STANDALONE" || f.BuildVersion != "v2.3.5-lite" || f.Bucket != "a-bucket" || f.Kind() != "embedded" {
		t.Errorf("facts = %+v, kind %s", f, f.Kind())
	}
	var g LiveFacts
	parseSystemInfo("{not json", &g)
	if g.DeployMode != "" || g.BuildVersion != "" || g.Bucket != "" {
		t.Errorf("malformed answer changed facts: %+v", g)
	}
}

func TestCheckLive(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name string
		f    LiveFacts
		want []string
	}{
		{"embedded build, open", LiveFacts{BuildVersion: "v2.3.5-lite", DeployMode: "STANDALONE", Anonymous: &yes},
			[]string{"critical live-server", "warning access-control", "warning access-control"}},
		{"milvus lite", LiveFacts{Version: "milvus_lite-3.2.2", Anonymous: &yes, TLS: true}, []string{"warning access-control", "warning live-server"}},
		{"cluster, locked, TLS", LiveFacts{BuildVersion: "v2.4.1", DeployMode: "CLUSTER", Anonymous: &no, DefaultRoot: &no, TLS: true}, []string{}},
		{"default root password", LiveFacts{DeployMode: "CLUSTER", Anonymous: &no, DefaultRoot: &yes, TLS: true}, []string{"warning access-control"}},
		{"TLS verified", LiveFacts{DeployMode: "CLUSTER", Anonymous: &no, DefaultRoot: &no, TLS: true,
			TLSProbe: &milvus.TLSState{Offered: true, Verified: true}}, []string{}},
		{"TLS unverified", LiveFacts{DeployMode: "CLUSTER", Anonymous: &no, DefaultRoot: &no, TLS: true,
			TLSProbe: &milvus.TLSState{Offered: true, Problem: "x509: certificate signed by unknown authority"}}, []string{"warning access-control"}},
		{"no TLS", LiveFacts{DeployMode: "CLUSTER", Anonymous: &no, DefaultRoot: &no, TLSProbe: &milvus.TLSState{}}, []string{"warning access-control"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := summarize(CheckLive(c.f)); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// fakeService answers the calls GatherLive makes; it embeds the interface so
// that any other call panics (and fails the test).
type fakeService struct {
	milvuspb.MilvusServiceClient
	denied bool
}

func (s fakeService) status() *commonpb.Status {
	if s.denied {
		return &commonpb.Status{ErrorCode: commonpb.ErrorCode_PermissionDenied, Reason: "auth failed"}
	}
	return &commonpb.Status{}
}

func (s fakeService) GetMetrics(ctx context.Context, in *milvuspb.GetMetricsRequest, _ ...grpc.CallOption) (*milvuspb.GetMetricsResponse, error) {
	return &milvuspb.GetMetricsResponse{Status: s.status(), Response: systemInfo235}, nil
}

func (s fakeService) ListDatabases(ctx context.Context, in *milvuspb.ListDatabasesRequest, _ ...grpc.CallOption) (*milvuspb.ListDatabasesResponse, error) {
	return &milvuspb.ListDatabasesResponse{Status: s.status(), DbNames: []string{"default", "sales"}}, nil
}

func (s fakeService) ShowCollections(ctx context.Context, in *milvuspb.ShowCollectionsRequest, _ ...grpc.CallOption) (*milvuspb.ShowCollectionsResponse, error) {
	return &milvuspb.ShowCollectionsResponse{Status: s.status(), CollectionNames: []string{in.GetDbName() + "_c"}}, nil
}

type fakeConn struct{ svc fakeService }

func (c fakeConn) Version() string                       { return "v2.3.5" }
func (c fakeConn) Service() milvuspb.MilvusServiceClient { return c.svc }
func (c fakeConn) Close() error                          { return nil }

func TestGatherLive(t *testing.T) {
	// The server accepts only token "admin:secret".
	dial := func(ctx context.Context, token string) (LiveConn, error) {
		if token == "" {
			return fakeConn{fakeService{denied: true}}, nil
		}
		if token != "admin:secret" {
			return nil, errors.New("Milvus refused the credentials: auth failed")
		}
		return fakeConn{}, nil
	}
	f, err := GatherLive(context.Background(), "127.0.0.1:19530", "admin:secret", dial)
	if err != nil {
		t.Fatal(err)
	}
	if *f.Anonymous || f.DefaultRoot == nil || *f.DefaultRoot || f.TLS {
		t.Errorf("access facts: anonymous %v default root %v tls %v", *f.Anonymous, f.DefaultRoot, f.TLS)
	}
	want := []CollectionRef{{"default", "default_c"}, {"sales", "sales_c"}}
	if !slices.Equal(f.Collections, want) || f.Kind() != "embedded" {
		t.Errorf("collections %v kind %s", f.Collections, f.Kind())
	}
	if _, err := GatherLive(context.Background(), "x", "wrong", dial); err == nil {
		t.Error("GatherLive with refused credentials: no error")
	}
}
