package pitr_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/guard"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/pitr"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
)

// guardPort is the address of the running test's guard listener (a free
// loopback port, set when the guard starts).
var guardPort string

// state is the collection as the application saw it: key -> value.
type state map[int64]int64

// step is one acknowledged write and the state right after it.
type step struct {
	what  string
	ts    uint64
	after state
}

// world runs the workload through the guard and records every step.
type world struct {
	t     *testing.T
	app   *milvus.Client // through the guard
	coll  string
	mu    sync.Mutex
	cur   state
	steps []step
}

func milvus23(t *testing.T) string {
	t.Helper()
	for _, tg := range testenv.Targets(t) {
		if tg.Name == "milvus23" {
			return tg.Address
		}
	}
	t.Skip("MILVAULT_TEST_TARGETS has no milvus23 target (start it: scripts/milvus-env.sh start milvus23)")
	return ""
}

func startGuard(t *testing.T, addr string, r *repo.Repository) *capture.Writer {
	t.Helper()
	up, err := guard.Dial(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	g, err := guard.New(guard.Config{Upstream: up, UpstreamAddress: addr, Repo: r, Collections: guard.PolicyAllow})
	if err != nil {
		t.Fatal(err)
	}
	w, err := capture.Open(context.Background(), r, capture.Options{GuardID: "pitr-test", CommitInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	g.Capture(w, guard.CaptureFailClosed)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	guardPort = ln.Addr().String()
	srv := g.Server()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Stop(); w.Close(context.Background()) })
	return w
}

// guardedRepo returns the milvus23 address and a new repository that a
// capturing guard (fail-closed, at guardPort) records into, or skips.
func guardedRepo(t *testing.T) (string, *repo.Repository) {
	t.Helper()
	addr := milvus23(t)
	st, err := local.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Init(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	startGuard(t, addr, r)
	return addr, r
}

func columns(ids []int64, val int64) []*schemapb.FieldData {
	vals := make([]int64, len(ids))
	vecs := make([]float32, 4*len(ids))
	for i := range ids {
		vals[i] = val
	}
	for i := range vecs {
		vecs[i] = rand.Float32()
	}
	return []*schemapb.FieldData{milvus.Int64Column("id", ids), milvus.Int64Column("val", vals), milvus.FloatVectorColumn("vec", 4, vecs)}
}

func ids(from, to int64) []int64 {
	var out []int64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func (w *world) record(what string, resp *milvuspb.MutationResult, err error, apply func(state)) {
	w.t.Helper()
	if err == nil && resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		err = fmt.Errorf("%s", resp.GetStatus().GetReason())
	}
	if err != nil {
		w.t.Errorf("%s: %v", what, err)
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	apply(w.cur)
	w.steps = append(w.steps, step{what: what, ts: resp.GetTimestamp(), after: maps.Clone(w.cur)})
}

func (w *world) insert(keys []int64, val int64) {
	resp, err := w.app.Service().Insert(context.Background(), &milvuspb.InsertRequest{CollectionName: w.coll, FieldsData: columns(keys, val), NumRows: uint32(len(keys))})
	w.record(fmt.Sprintf("insert %d..%d=%d", keys[0], keys[len(keys)-1], val), resp, err, func(s state) {
		for _, k := range keys {
			s[k] = val
		}
	})
}

// insertInto inserts into a partition.
func (w *world) insertInto(partition string, keys []int64, val int64) {
	resp, err := w.app.Service().Insert(context.Background(), &milvuspb.InsertRequest{CollectionName: w.coll, PartitionName: partition, FieldsData: columns(keys, val), NumRows: uint32(len(keys))})
	w.record(fmt.Sprintf("insert %s %d..%d=%d", partition, keys[0], keys[len(keys)-1], val), resp, err, func(s state) {
		for _, k := range keys {
			s[k] = val
		}
	})
}

func (w *world) upsert(keys []int64, val int64) {
	resp, err := w.app.Service().Upsert(context.Background(), &milvuspb.UpsertRequest{CollectionName: w.coll, FieldsData: columns(keys, val), NumRows: uint32(len(keys))})
	w.record(fmt.Sprintf("upsert %d..%d=%d", keys[0], keys[len(keys)-1], val), resp, err, func(s state) {
		for _, k := range keys {
			s[k] = val
		}
	})
}

func (w *world) delete(keys []int64) {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = strconv.FormatInt(k, 10)
	}
	expr := "id in [" + strings.Join(parts, ",") + "]"
	resp, err := w.app.Service().Delete(context.Background(), &milvuspb.DeleteRequest{CollectionName: w.coll, Expr: expr})
	if err == nil && resp.GetTimestamp() == 0 {
		// Milvus 2.3 does not say when a delete happened: any timestamp
		// allocated after its answer is later.
		var ts *milvuspb.AllocTimestampResponse
		ts, err = w.app.Service().AllocTimestamp(context.Background(), &milvuspb.AllocTimestampRequest{})
		resp.Timestamp = ts.GetTimestamp()
	}
	w.record("delete "+expr, resp, err, func(s state) {
		for _, k := range keys {
			delete(s, k)
		}
	})
}

// at returns the state the application saw at ts: the one after the
// newest acknowledged write at or before ts.
func (w *world) at(ts uint64) state {
	w.mu.Lock()
	defer w.mu.Unlock()
	s, best := state{}, uint64(0)
	for _, st := range w.steps {
		if st.ts <= ts && st.ts >= best {
			best, s = st.ts, st.after
		}
	}
	return s
}

func readState(t *testing.T, c *milvus.Client, coll string) state {
	t.Helper()
	ctx := context.Background()
	resp, err := c.Service().Query(ctx, &milvuspb.QueryRequest{CollectionName: coll, Expr: "id >= 0", OutputFields: []string{"id", "val"},
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong, QueryParams: []*commonpb.KeyValuePair{{Key: "limit", Value: "16000"}}})
	if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("query %s: %v %s", coll, err, resp.GetStatus().GetReason())
	}
	s := state{}
	var keys, vals []int64
	for _, f := range resp.GetFieldsData() {
		switch f.GetFieldName() {
		case "id":
			keys = f.GetScalars().GetLongData().GetData()
		case "val":
			vals = f.GetScalars().GetLongData().GetData()
		}
	}
	for i, k := range keys {
		if _, dup := s[k]; dup {
			t.Errorf("%s holds key %d twice", coll, k)
		}
		s[k] = vals[i]
	}
	return s
}

func diff(got, want state) string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := got[k]; !ok || v != want[k] {
			out = append(out, fmt.Sprintf("key %d: got %v (present %v), want %d", k, v, ok, want[k]))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(got)) {
		if _, ok := want[k]; !ok {
			out = append(out, fmt.Sprintf("key %d: got %d, want no row", k, got[k]))
		}
	}
	if len(out) == 0 {
		return ""
	}
	if len(out) > 10 {
		out = append(out[:10], fmt.Sprintf("... %d differences", len(out)))
	}
	return fmt.Sprint(out)
}

func createCollection(t *testing.T, c *milvus.Client) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("pitr_%d", rand.Uint32())
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "val", DataType: schemapb.DataType_Int64},
		{Name: "vec", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "4"}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	if err := c.CreatePartition(ctx, "default", name, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "vec", "vec_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	return name
}

func takeBackup(t *testing.T, c *milvus.Client, r *repo.Repository, coll string) string {
	t.Helper()
	res, err := backup.Run(context.Background(), backup.Deps{Milvus: c, Repo: r, ToolVersion: "test"}, backup.Params{Collections: []string{coll}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Manifest.ID
}

func connect(t *testing.T, addr string) *milvus.Client {
	t.Helper()
	c, err := milvus.Connect(context.Background(), milvus.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestPointInTimeRestore runs inserts, upserts and deletes through a
// capturing guard with a backup before and one in the middle (with writes
// while it is read), then restores the collection at several times and
// compares every row with what the application had seen acknowledged.
func TestPointInTimeRestore(t *testing.T) {
	addr, r := guardedRepo(t)
	ctx := context.Background()
	direct := connect(t, addr)
	w := &world{t: t, app: connect(t, guardPort), coll: createCollection(t, direct), cur: state{}}

	w.insert(ids(1, 20), 1)
	b0 := takeBackup(t, direct, r, w.coll)
	// A backup counts from its completion time (wall clock) on; Milvus's
	// timestamps lag the wall clock by up to their update step (50 ms).
	time.Sleep(300 * time.Millisecond)
	w.upsert(ids(5, 10), 2)
	w.delete([]int64{1, 2, 3})
	w.insert(ids(21, 30), 3)
	w.insertInto("p1", ids(200, 205), 7)
	during := make(chan struct{})
	go func() { // writes while the middle backup is read
		defer close(during)
		for k := int64(100); k < 106; k++ {
			w.insert([]int64{k}, 4)
			time.Sleep(50 * time.Millisecond)
		}
	}()
	b1 := takeBackup(t, direct, r, w.coll)
	<-during
	time.Sleep(300 * time.Millisecond)
	w.delete([]int64{21, 22})
	w.upsert(ids(1, 3), 5)
	w.delete([]int64{100, 5})
	w.insert(ids(31, 35), 6)
	w.insertInto("p1", ids(206, 209), 8)
	w.delete([]int64{200})
	if t.Failed() {
		t.FailNow()
	}
	m1, err := r.Find(ctx, b1)
	if err != nil {
		t.Fatal(err)
	}
	inWindow := 0
	for _, s := range w.steps {
		if s.ts > m1.Snapshot.Timestamp && s.ts <= capture.HybridTS(m1.CompletedAt) {
			inWindow++
		}
	}
	t.Logf("%d acknowledged writes fell inside the middle backup's read window (after its snapshot, before its completion)", inWindow)
	ts := func(what string) uint64 {
		for _, s := range w.steps {
			if s.what == what {
				return s.ts
			}
		}
		t.Fatalf("no step %q", what)
		return 0
	}
	// A delete's own timestamp is unknown on 2.3 (see delete): times are
	// chosen where the application knows the state, at the exact
	// timestamp of an insert or upsert or after a delete's answer.
	betweenDeletes := ts("upsert 1..3=5")
	cases := []struct {
		name string
		at   uint64
		base string
	}{
		{"before the middle backup", ts("upsert 5..10=2"), b0},
		{"right after a delete", ts("delete id in [1,2,3]"), b0},
		{"while the middle backup was read", m1.Snapshot.Timestamp + 1, b0},
		{"between two deletes after the backup", betweenDeletes, b1},
		{"at the last write", ts("delete id in [200]"), b1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := fmt.Sprintf("%s_at%d", w.coll, i)
			w.restoreAndCompare(t, direct, r, target, tc.at, tc.base, fmt.Sprint(tc.at))
			if i == len(cases)-1 {
				checkPartition(t, direct, target, "p1", 9) // 200..209 less 200
			}
		})
	}
	all, err := capture.Read(ctx, r, capture.Query{Database: "default", Collection: w.coll})
	if err != nil {
		t.Fatal(err)
	}
	if len(all.Records) != len(w.steps) {
		t.Errorf("the capture log holds %d writes, the application saw %d acknowledged", len(all.Records), len(w.steps))
	}
}

// restoreAndCompare restores the world's collection as it was at ts into
// target (dropped at the end of the test) and compares every row with
// what the application saw then; base is the backup the restore must
// start from, when says "at what" in messages.
func (w *world) restoreAndCompare(t *testing.T, direct *milvus.Client, r *repo.Repository, target string, at uint64, base, when string) {
	t.Helper()
	t.Cleanup(func() { direct.DropCollection(context.Background(), "default", target) })
	res, err := pitr.Run(context.Background(), pitr.Deps{Milvus: direct, Repo: r}, pitr.Params{Collection: w.coll, At: at,
		Restore: restore.Params{Target: target, Load: restore.LoadAlways}})
	if err != nil {
		t.Fatal(err)
	}
	if res.BackupID != base {
		t.Errorf("base backup %s, want %s", res.BackupID, base)
	}
	want := w.at(at)
	if got := readState(t, direct, target); diff(got, want) != "" {
		t.Errorf("restored at %s (%d rows, replayed %v) differs from the state the application saw:\n%s", when, len(got), res.Counts, diff(got, want))
	}
}

// checkPartition counts the rows of one partition of coll.
func checkPartition(t *testing.T, c *milvus.Client, coll, partition string, want int) {
	t.Helper()
	resp, err := c.Service().Query(context.Background(), &milvuspb.QueryRequest{CollectionName: coll, Expr: "id >= 0", OutputFields: []string{"id"},
		PartitionNames: []string{partition}, ConsistencyLevel: commonpb.ConsistencyLevel_Strong})
	if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("query %s/%s: %v %s", coll, partition, err, resp.GetStatus().GetReason())
	}
	var got int
	for _, f := range resp.GetFieldsData() {
		if f.GetFieldName() == "id" {
			got = len(f.GetScalars().GetLongData().GetData())
		}
	}
	if got != want {
		t.Errorf("partition %s of %s holds %d rows, want %d (replayed writes keep their partition)", partition, coll, got, want)
	}
}

// TestPointInTimeRestoreAutoID replays inserts into an auto_id collection:
// the captured requests carry no keys, so the replay must use the keys
// Milvus answered, and the restored collection holds the same keys.
func TestPointInTimeRestoreAutoID(t *testing.T) {
	addr, r := guardedRepo(t)
	ctx := context.Background()
	direct, app := connect(t, addr), connect(t, guardPort)
	coll := fmt.Sprintf("pitr_auto_%d", rand.Uint32())
	schema := &schemapb.CollectionSchema{Name: coll, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true, AutoID: true},
		{Name: "vec", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "4"}}},
	}}
	if err := direct.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.DropCollection(context.Background(), "default", coll) })
	if err := direct.CreateIndex(ctx, "default", coll, "vec", "vec_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	takeBackup(t, direct, r, coll)
	time.Sleep(300 * time.Millisecond)
	vecs := make([]float32, 4*10)
	resp, err := app.Service().Insert(ctx, &milvuspb.InsertRequest{CollectionName: coll, NumRows: 10, FieldsData: []*schemapb.FieldData{milvus.FloatVectorColumn("vec", 4, vecs)}})
	if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("insert: %v %v", err, resp.GetStatus())
	}
	keys := resp.GetIDs().GetIntId().GetData()
	target := coll + "_at"
	t.Cleanup(func() { direct.DropCollection(context.Background(), "default", target) })
	res, err := pitr.Run(ctx, pitr.Deps{Milvus: direct, Repo: r}, pitr.Params{Collection: coll, At: resp.GetTimestamp(),
		Restore: restore.Params{Target: target, Load: restore.LoadAlways}})
	if err != nil {
		t.Fatal(err)
	}
	got := readKeys(t, direct, target)
	if !slices.Equal(got, slices.Sorted(slices.Values(keys))) || res.Replayed != 1 {
		t.Errorf("restored keys %v (replayed %d), want the 10 keys Milvus generated %v", got, res.Replayed, keys)
	}
}

func readKeys(t *testing.T, c *milvus.Client, coll string) []int64 {
	t.Helper()
	resp, err := c.Service().Query(context.Background(), &milvuspb.QueryRequest{CollectionName: coll, Expr: "id >= 0", OutputFields: []string{"id"},
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong})
	if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		t.Fatalf("query %s: %v %s", coll, err, resp.GetStatus().GetReason())
	}
	for _, f := range resp.GetFieldsData() {
		if f.GetFieldName() == "id" {
			return slices.Sorted(slices.Values(f.GetScalars().GetLongData().GetData()))
		}
	}
	return nil
}
