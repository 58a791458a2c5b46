package doctor

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvault/milvault/milvus"
)

// LiveConn is a connection to a Milvus server (milvus.Client satisfies it).
type LiveConn interface {
	Version() string
	Service() milvuspb.MilvusServiceClient
	Close() error
}

// Dialer opens a connection with the given token ("" for none).
type Dialer func(ctx context.Context, token string) (LiveConn, error)

// defaultRootToken is the password Milvus ships root with.
const defaultRootToken = "root:Milvus"

// GatherLive asks the server at address everything the checks need. Only a
// failure to connect with token is an error; unanswered questions stay nil.
// Whether the server speaks TLS comes from a handshake (milvus.ProbeTLS)
// checked against the system's roots; GatherLiveTLS takes the client's TLS
// settings.
func GatherLive(ctx context.Context, address, token string, dial Dialer) (LiveFacts, error) {
	return GatherLiveTLS(ctx, address, token, dial, nil)
}

// GatherLiveTLS is GatherLive with the TLS configuration the client uses
// (its CA and name decide whether the certificate counts as verified).
func GatherLiveTLS(ctx context.Context, address, token string, dial Dialer, conf *tls.Config) (LiveFacts, error) {
	f := LiveFacts{Address: address}
	if st, err := milvus.ProbeTLS(ctx, address, conf); err == nil {
		f.TLS, f.TLSProbe = st.Offered, &st
	}
	conn, err := dial(ctx, token)
	if err != nil {
		return f, fmt.Errorf("connect to %s: %w", address, err)
	}
	defer conn.Close()
	f.Version = conn.Version()
	readSystemInfo(ctx, conn.Service(), &f)
	f.Collections, _ = listCollections(ctx, conn.Service())
	f.Anonymous = canList(ctx, dial, "")
	if f.Anonymous != nil && !*f.Anonymous {
		f.DefaultRoot = canList(ctx, dial, defaultRootToken)
	}
	return f, nil
}

// canList reports whether a connection with token may list collections
// (nil when the answer is unclear, e.g. the server went away).
func canList(ctx context.Context, dial Dialer, token string) *bool {
	yes, no := true, false
	conn, err := dial(ctx, token)
	if err != nil {
		if isDenied(err) {
			return &no
		}
		return nil
	}
	defer conn.Close()
	resp, err := conn.Service().ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{})
	if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		if err == nil || isDenied(err) {
			return &no
		}
		return nil
	}
	return &yes
}

func isDenied(err error) bool {
	s := strings.ToLower(err.Error())
	return strings.Contains(s, "auth") || strings.Contains(s, "credential") || strings.Contains(s, "permission") || strings.Contains(s, "unauthenticated")
}

// listCollections returns every collection in every database.
func listCollections(ctx context.Context, svc milvuspb.MilvusServiceClient) ([]CollectionRef, error) {
	dbs := []string{"default"}
	if resp, err := svc.ListDatabases(ctx, &milvuspb.ListDatabasesRequest{}); err == nil && len(resp.GetDbNames()) > 0 {
		dbs = resp.GetDbNames()
	}
	out := []CollectionRef{}
	for _, db := range dbs {
		resp, err := svc.ShowCollections(ctx, &milvuspb.ShowCollectionsRequest{DbName: db})
		if err != nil {
			return nil, fmt.Errorf("list collections of %s: %w", db, err)
		}
		for _, name := range resp.GetCollectionNames() {
			out = append(out, CollectionRef{Database: db, Name: name})
		}
	}
	return out, nil
}

// systemInfo is the part of GetMetrics system_info the doctor reads.
type systemInfo struct {
	Nodes []struct {
		Infos struct {
			Type       string `json:"type"`
			SystemInfo struct {
				DeployMode   string `json:"deploy_mode"`
				BuildVersion string `json:"build_version"`
			} `json:"system_info"`
			Config map[string]any `json:"system_configurations"`
		} `json:"infos"`
	} `json:"nodes_info"`
}

func readSystemInfo(ctx context.Context, svc milvuspb.MilvusServiceClient, f *LiveFacts) {
	resp, err := svc.GetMetrics(ctx, &milvuspb.GetMetricsRequest{Request: `{"metric_type":"system_info"}`})
	if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		return
	}
	parseSystemInfo(resp.GetResponse(), f)
}

// parseSystemInfo fills deploy mode, build and bucket from a system_info
// answer; malformed answers leave f unchanged.
func parseSystemInfo(raw string, f *LiveFacts) {
	var si systemInfo
	if json.Unmarshal([]byte(raw), &si) != nil {
		return
	}
	for _, n := range si.Nodes {
		f.DeployMode = firstNonEmpty(f.DeployMode, n.Infos.SystemInfo.DeployMode)
		f.BuildVersion = firstNonEmpty(f.BuildVersion, n.Infos.SystemInfo.BuildVersion)
		if b, ok := n.Infos.Config["minio_bucket_name"].(string); ok {
			f.Bucket = firstNonEmpty(f.Bucket, b)
		}
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ProbeHealth asks the management port (9091 on a real Milvus) for
// /healthz and returns its answer, or "" when it does not answer.
func ProbeHealth(ctx context.Context, client *http.Client, base string) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/healthz", nil)
	if err != nil {
		return ""
	}
	resp, err := client.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	return fmt.Sprintf("%s/healthz: %d %s", base, resp.StatusCode, strings.TrimSpace(string(body)))
}
