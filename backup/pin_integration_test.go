package backup_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
)

// TestPinnedSnapshotUnderWrites backs up a collection while another
// goroutine inserts and deletes rows. On a server that pins (manifest
// snapshot.pinned), the backup must hold exactly the rows that existed at
// the snapshot timestamp: the first rows, plus every insert the server
// stamped at or before it, minus every delete stamped at or before it.
// Servers that do not pin must say so in the manifest. It runs on every
// server of MILVAULT_MATRIX_TARGETS (else MILVAULT_TEST_TARGETS).
func TestPinnedSnapshotUnderWrites(t *testing.T) {
	if spec := os.Getenv("MILVAULT_MATRIX_TARGETS"); spec != "" {
		t.Setenv("MILVAULT_TEST_TARGETS", spec)
	}
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		if strings.HasPrefix(c.Version(), "v2.2.") {
			t.Skip("Milvus 2.2.16: a strong-consistency query did not return while another client inserted and deleted every 20 ms (seen here: the backup's first Query blocked for minutes); unresolved")
		}
		ctx := context.Background()
		name := fmt.Sprintf("pin_%d", time.Now().UnixNano()%1e9)
		createPinCollection(t, c, name)
		const first = 3000
		if _, err := pinInsert(ctx, c, name, 0, first); err != nil {
			t.Fatal(err)
		}
		s, _ := local.New(filepath.Join(t.TempDir(), "repo"))
		r, err := repo.OpenOrInit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		w := &pinWriter{c: c, name: name, next: first}
		stop := w.start(ctx)
		res, err := backup.Run(ctx, backup.Deps{Milvus: c, Repo: r}, backup.Params{Collections: []string{name}, QueryBatchRows: 100})
		stop()
		if err != nil {
			t.Fatal(err)
		}
		if w.err != nil {
			t.Fatal(w.err)
		}
		snap := res.Manifest.Snapshot
		t.Logf("%s: snapshot ts %d pinned %v; writer inserted %d and deleted %d rows during the backup", tg.Name, snap.Timestamp, snap.Pinned, len(w.inserted), len(w.deleted))
		if len(w.inserted) == 0 {
			t.Fatal("the writer inserted nothing while the backup ran")
		}
		want := w.expected(first, snap.Timestamp)
		got := backupKeys(t, c, r, res)
		if !snap.Pinned {
			t.Logf("%s does not pin: the backup holds %d rows, the collection had %d at the snapshot", tg.Name, len(got), len(want))
			// Rows written during the backup may or may not be in it, but
			// every row that existed throughout must be.
			deleted := map[int64]bool{}
			for _, d := range w.deleted {
				deleted[d.from] = true
			}
			var lost []int64
			for k := int64(0); k < first; k++ {
				if !deleted[k] && !got[k] {
					lost = append(lost, k)
				}
			}
			if len(lost) > 0 {
				t.Fatalf("unpinned backup lost %d rows that existed throughout: %v", len(lost), head(lost))
			}
			return
		}
		if missing, extra := diffKeys(want, got); len(missing)+len(extra) > 0 {
			t.Fatalf("pinned backup differs from the collection at ts %d: missing %v, extra %v", snap.Timestamp, head(missing), head(extra))
		}
	})
}

// TestScanPinsAtTimestamp flushes a collection, then inserts and deletes
// rows, then scans it at the flush timestamp: a scan that reports itself
// pinned (ScanResult.SessionTs) must return exactly the rows of the flush,
// one that does not must return every row that existed both at the flush
// and after the later writes, and may or may not return the later writes.
// (Until it found the keys by name, this test read the first field of each
// batch as the keys; the server does not keep the order of output fields,
// so it counted 256-512 of the rows and blamed Milvus 2.2/2.3 for losing
// them.)
func TestScanPinsAtTimestamp(t *testing.T) {
	if spec := os.Getenv("MILVAULT_MATRIX_TARGETS"); spec != "" {
		t.Setenv("MILVAULT_TEST_TARGETS", spec)
	}
	testenv.ForEach(t, func(t *testing.T, tg testenv.Target, c *milvus.Client) {
		ctx := context.Background()
		name := fmt.Sprintf("pinscan_%d", time.Now().UnixNano()%1e9)
		createPinCollection(t, c, name)
		const first = 500
		if _, err := pinInsert(ctx, c, name, 0, first); err != nil {
			t.Fatal(err)
		}
		ts, err := c.Flush(ctx, "default", name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pinInsert(ctx, c, name, first, 100); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Service().Delete(ctx, &milvuspb.DeleteRequest{DbName: "default", CollectionName: name, Expr: "pk in [0, 1, 2]"}); err != nil {
			t.Fatal(err)
		}
		keys := map[int64]bool{}
		pk := &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_Int64}
		res, err := c.Scan(ctx, milvus.ScanRequest{Database: "default", Collection: name, PrimaryKey: pk, BatchRows: 128, GuaranteeTs: ts}, func(b milvus.Batch) error {
			for _, k := range batchKeys(b) {
				keys[k] = true
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: flush ts %d, scan pinned at %d, %d rows (%d at the flush, %d now)", tg.Name, ts, res.SessionTs, len(keys), first, first+97)
		if ts == 0 || res.SessionTs == 0 {
			// Not pinned: the server guarantees only that every read
			// reflects at least the flush. Every row present at the flush
			// and still present now must be there; the later writes (keys
			// 0-2 deleted, 500-599 inserted) may or may not be.
			kept := map[int64]bool{}
			for k := int64(3); k < first; k++ {
				kept[k] = true
			}
			missing, _ := diffKeys(kept, keys)
			var extra []int64
			for k := range keys {
				if k < 0 || k >= first+100 {
					extra = append(extra, k)
				}
			}
			if len(missing)+len(extra) > 0 {
				t.Fatalf("unpinned scan lost rows that existed throughout: missing %v, never inserted %v", head(missing), head(extra))
			}
			return
		}
		want := map[int64]bool{}
		for k := int64(0); k < first; k++ {
			want[k] = true
		}
		if missing, extra := diffKeys(want, keys); len(missing)+len(extra) > 0 {
			t.Fatalf("pinned scan differs from the collection at the flush: missing %v, extra %v", head(missing), head(extra))
		}
	})
}

func createPinCollection(t *testing.T, c *milvus.Client, name string) {
	t.Helper()
	ctx := context.Background()
	s := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{FieldID: 100, Name: "pk", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{FieldID: 101, Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "4"}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: s, ShardsNum: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	if err := c.CreateIndex(ctx, "default", name, "v", "v_idx", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
}

// pinInsert inserts keys [from, from+n) and returns the server's timestamp
// of the insert.
func pinInsert(ctx context.Context, c *milvus.Client, name string, from, n int64) (uint64, error) {
	keys := make([]int64, n)
	vec := make([]float32, 4*n)
	for i := range keys {
		keys[i] = from + int64(i)
		vec[4*i] = float32(keys[i])
	}
	resp, err := c.Service().Insert(ctx, &milvuspb.InsertRequest{DbName: "default", CollectionName: name, NumRows: uint32(n),
		FieldsData: []*schemapb.FieldData{
			{FieldName: "pk", Type: schemapb.DataType_Int64, Field: &schemapb.FieldData_Scalars{Scalars: &schemapb.ScalarField{Data: &schemapb.ScalarField_LongData{LongData: &schemapb.LongArray{Data: keys}}}}},
			{FieldName: "v", Type: schemapb.DataType_FloatVector, Field: &schemapb.FieldData_Vectors{Vectors: &schemapb.VectorField{Dim: 4, Data: &schemapb.VectorField_FloatVector{FloatVector: &schemapb.FloatArray{Data: vec}}}}},
		}})
	if err == nil && resp.GetStatus().GetCode() != 0 {
		err = fmt.Errorf("insert: %s", resp.GetStatus().GetReason())
	}
	return resp.GetTimestamp(), err
}

// pinWriter inserts new rows and deletes old ones until stopped, recording
// the server's timestamp of each.
type pinWriter struct {
	c                 *milvus.Client
	name              string
	next              int64
	inserted, deleted []stamped
	err               error
}

type stamped struct {
	from, n int64
	ts      uint64
}

func (w *pinWriter) start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for del := int64(0); ctx.Err() == nil; del += 7 {
			ts, err := pinInsert(ctx, w.c, w.name, w.next, 50)
			if err != nil {
				if ctx.Err() == nil {
					w.err = err
				}
				return
			}
			w.inserted = append(w.inserted, stamped{w.next, 50, ts})
			w.next += 50
			dr, err := w.c.Service().Delete(ctx, &milvuspb.DeleteRequest{DbName: "default", CollectionName: w.name, Expr: fmt.Sprintf("pk in [%d]", del)})
			if err == nil && dr.GetStatus().GetCode() == 0 {
				w.deleted = append(w.deleted, stamped{del, 1, dr.GetTimestamp()})
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// expected returns the keys present at ts.
func (w *pinWriter) expected(first int64, ts uint64) map[int64]bool {
	keys := map[int64]bool{}
	for k := int64(0); k < first; k++ {
		keys[k] = true
	}
	for _, s := range w.inserted {
		if s.ts <= ts {
			for k := s.from; k < s.from+s.n; k++ {
				keys[k] = true
			}
		}
	}
	for _, s := range w.deleted {
		if s.ts <= ts {
			delete(keys, s.from)
		}
	}
	return keys
}

// backupKeys restores the backup under another name and reads its keys.
func backupKeys(t *testing.T, c *milvus.Client, r *repo.Repository, res *backup.Result) map[int64]bool {
	t.Helper()
	ctx := context.Background()
	target := res.Manifest.Collections[0].Name + "_r"
	if _, err := restore.Run(ctx, restore.Deps{Milvus: c, Repo: r}, res.Manifest, restore.Params{Target: target, Load: restore.LoadAlways}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", target) })
	keys := map[int64]bool{}
	pk := &schemapb.FieldSchema{Name: "pk", DataType: schemapb.DataType_Int64}
	_, err := c.Scan(ctx, milvus.ScanRequest{Database: "default", Collection: target, PrimaryKey: pk, BatchRows: 1000}, func(b milvus.Batch) error {
		for _, f := range b.Fields {
			if f.GetFieldName() == "pk" {
				for _, k := range f.GetScalars().GetLongData().GetData() {
					keys[k] = true
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// batchKeys returns the int64 primary keys ("pk") of a scan batch. The
// server does not keep the order of output fields: a vector field may come
// first.
func batchKeys(b milvus.Batch) []int64 {
	for _, f := range b.Fields {
		if f.GetFieldName() == "pk" {
			return f.GetScalars().GetLongData().GetData()
		}
	}
	return nil
}

func diffKeys(want, got map[int64]bool) (missing, extra []int64) {
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	return missing, extra
}

func head(ks []int64) string {
	if len(ks) > 10 {
		return fmt.Sprint(ks[:10]) + fmt.Sprintf(" and %d more", len(ks)-10)
	}
	return strings.TrimSpace(fmt.Sprint(ks))
}
