package guard

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/mem"
)

// capturingGuard is a guard with capture on in front of milvus23, over a
// repository whose second capture segment cannot be written (the repository
// "fails" once, as a full disk or an unreachable bucket would).
type capturingGuard struct {
	app     *milvus.Client // through the guard
	direct  *milvus.Client
	repo    *repo.Repository
	writer  *capture.Writer
	metrics *CaptureMetrics
	coll    string
}

func startCapturingGuard(t *testing.T, mode CaptureMode) *capturingGuard {
	t.Helper()
	var addr string
	for _, tg := range testenv.Targets(t) {
		if tg.Name == "milvus23" {
			addr = tg.Address
		}
	}
	if addr == "" {
		t.Skip("MILVAULT_TEST_TARGETS has no milvus23 target (capture needs Milvus 2.3)")
	}
	ctx := context.Background()
	// The 2nd segment fails (segment names start with their 20-digit
	// first timestamp; the writer's heartbeats do not count).
	st := faulty.New(mem.New(), 1, faulty.Rule{Ops: []faulty.Op{faulty.Put}, Prefix: repo.CapturePrefix + "t/0", Nth: 2, Kind: faulty.Permanent})
	r, err := repo.Init(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	cg := &capturingGuard{repo: r, metrics: NewCaptureMetrics(prometheus.NewRegistry())}
	up, err := Dial(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	g, err := New(Config{Upstream: up, UpstreamAddress: addr, Repo: r})
	if err != nil {
		t.Fatal(err)
	}
	cg.writer, err = capture.Open(ctx, r, capture.Options{GuardID: "t", CommitInterval: 20 * time.Millisecond, Observer: cg.metrics})
	if err != nil {
		t.Fatal(err)
	}
	g.Capture(cg.writer, mode)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().String()
	srv := g.Server()
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	if cg.direct, err = milvus.Connect(ctx, milvus.Config{Address: addr}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.direct.Close() })
	if cg.app, err = milvus.Connect(ctx, milvus.Config{Address: port}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.app.Close() })
	cg.coll = "capture_" + strconv.Itoa(int(rand.Uint32()))
	schema := &schemapb.CollectionSchema{Name: cg.coll, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "vec", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}},
	}}
	if err := cg.direct.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cg.direct.DropCollection(context.Background(), "default", cg.coll) })
	return cg
}

func (cg *capturingGuard) insert(t *testing.T, id int64) *milvuspb.MutationResult {
	t.Helper()
	resp, err := cg.app.Service().Insert(context.Background(), &milvuspb.InsertRequest{CollectionName: cg.coll, NumRows: 1,
		FieldsData: []*schemapb.FieldData{milvus.Int64Column("id", []int64{id}), milvus.FloatVectorColumn("vec", 2, []float32{1, 2})}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestCaptureFailOpenRecordsGap(t *testing.T) {
	cg := startCapturingGuard(t, CaptureFailOpen)
	first := cg.insert(t, 1) // its segment is the one that fails
	if first.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("fail-open answered %v", first.GetStatus())
	}
	time.Sleep(200 * time.Millisecond) // let the failed commit happen
	if got := testutil.ToFloat64(cg.metrics.lostRecords); got != 1 {
		t.Errorf("milvault_guard_capture_lost_records_total = %v, want 1", got)
	}
	if got := testutil.ToFloat64(cg.metrics.gaps); got != 1 {
		t.Errorf("milvault_guard_capture_gaps_total = %v, want 1", got)
	}
	second := cg.insert(t, 2)
	if err := cg.writer.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, err := capture.Read(context.Background(), cg.repo, capture.Query{Database: "default", Collection: cg.coll, From: first.GetTimestamp() - 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].TS != second.GetTimestamp() {
		t.Errorf("records = %d, want only the second insert", len(res.Records))
	}
	if len(res.Gaps) != 1 || res.Gaps[0].To != first.GetTimestamp() || res.Gaps[0].Records != 1 {
		t.Errorf("gaps = %+v, want the first insert's timestamp %d as a gap of one write", res.Gaps, first.GetTimestamp())
	}
	if got := testutil.ToFloat64(cg.metrics.gapOpen); got != 0 {
		t.Errorf("milvault_guard_capture_failing = %v, want 0 once a commit succeeded", got)
	}
}

func TestCaptureFailClosedAnswersError(t *testing.T) {
	cg := startCapturingGuard(t, CaptureFailClosed)
	first := cg.insert(t, 1)
	reason := first.GetStatus().GetReason()
	if first.GetStatus().GetErrorCode() == commonpb.ErrorCode_Success || !strings.Contains(reason, "could not be written to the capture log") || !strings.Contains(reason, "Milvus applied") {
		t.Fatalf("fail-closed answered %v, want the capture error", first.GetStatus())
	}
	second := cg.insert(t, 2)
	if second.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("second insert: %v", second.GetStatus())
	}
	cg.writer.Close(context.Background())
	res, err := capture.Read(context.Background(), cg.repo, capture.Query{Database: "default", Collection: cg.coll})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 || res.Records[0].TS != second.GetTimestamp() {
		t.Errorf("%d records, want the acknowledged second insert only", len(res.Records))
	}
}
