package backup_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/internal/fakemilvus"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
)

// shortScan is a server whose scans end early: each stops after its first
// batch, as a scan that took a short or empty answer for the end would.
// CountRows is the fake's.
type shortScan struct {
	*fakemilvus.Server
}

func (s shortScan) Scan(ctx context.Context, req milvus.ScanRequest, fn func(milvus.Batch) error) (milvus.ScanResult, error) {
	return s.Server.Scan(ctx, req, firstBatchOnly(fn))
}

// firstBatchOnly passes the first batch of a scan to fn and drops the rest.
func firstBatchOnly(fn func(milvus.Batch) error) func(milvus.Batch) error {
	seen := false
	return func(b milvus.Batch) error {
		if seen {
			return nil
		}
		seen = true
		return fn(b)
	}
}

// TestRowCountCheckCatchesShortScan backs up through a server whose scan
// ends early: the backup must fail with the numbers and leave no backup
// behind; with SkipCountCheck it is kept (short, as asked).
func TestRowCountCheckCatchesShortScan(t *testing.T) {
	ctx := context.Background()
	src := shortScan{seeded(t, true)}
	r, _ := fakeRepo(t)
	_, err := backup.Run(ctx, backup.Deps{Milvus: src, Repo: r}, backup.Params{Collections: []string{"c"}, QueryBatchRows: 100})
	var rce *backup.RowCountError
	if !errors.As(err, &rce) {
		t.Fatalf("backup of a short scan: got %v, want a *RowCountError", err)
	}
	if rce.Read != 100 || rce.Counted != 1500 || errkind.Of(err) != errkind.CheckFailed {
		t.Fatalf("got read %d counted %d kind %v, want 100, 1500, check_failed", rce.Read, rce.Counted, errkind.Of(err))
	}
	for _, want := range []string{"read 100 rows", "counts 1500", "--skip-count-check"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if ms, _, _ := r.List(ctx); len(ms) != 0 {
		t.Fatalf("the failed backup left %d backups in the repository", len(ms))
	}
	res, err := backup.Run(ctx, backup.Deps{Milvus: src, Repo: r}, backup.Params{Collections: []string{"c"}, QueryBatchRows: 100, SkipCountCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Manifest.Collections[0].Rows; got != 200 {
		t.Fatalf("with SkipCountCheck the backup holds %d rows, want the 200 the short scans read", got)
	}
}

// growing is a server that inserts a row into the partition it scans, in
// the middle of each scan (a collection written to during the backup).
type growing struct {
	*fakemilvus.Server
	next int64
}

func (s *growing) Scan(ctx context.Context, req milvus.ScanRequest, fn func(milvus.Batch) error) (milvus.ScanResult, error) {
	part := "_default"
	if len(req.Partitions) == 1 {
		part = req.Partitions[0]
	}
	s.next++
	fields := []*schemapb.FieldData{milvus.Int64Column("id", []int64{100000 + s.next}), milvus.VarCharColumn("title", []string{"new"}), milvus.FloatVectorColumn("v", 512, make([]float32, 512))}
	if err := s.Server.Insert(ctx, req.Database, req.Collection, part, fields, 1); err != nil {
		return milvus.ScanResult{}, err
	}
	return s.Server.Scan(ctx, req, fn)
}

// notes records progress notes.
type notes struct {
	progress.Progress
	mu  sync.Mutex
	got []string
}

func (n *notes) Note(msg string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.got = append(n.got, msg)
}

// TestRowCountCheckUnderWrites backs up a collection that grows during each
// partition's scan: the counts before and after differ, so no exact check
// is possible; the backup succeeds and says so.
func TestRowCountCheckUnderWrites(t *testing.T) {
	ctx := context.Background()
	src := &growing{Server: seeded(t, true)}
	r, _ := fakeRepo(t)
	n := &notes{Progress: progress.Nop}
	if _, err := backup.Run(ctx, backup.Deps{Milvus: src, Repo: r, Progress: n}, backup.Params{Collections: []string{"c"}}); err != nil {
		t.Fatal(err)
	}
	said := 0
	for _, msg := range n.got {
		if strings.Contains(msg, "written to during the backup (count(*) 1500 before the scan, 1501 after") {
			said++
		}
	}
	if said != 2 {
		t.Fatalf("want a note for each of the 2 partitions, got notes %q", n.got)
	}
}
