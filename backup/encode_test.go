package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/internal/fakemilvus"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// encodeFixture is a fake server holding collection "c" (3000 rows of
// 512-dim vectors over "_default" and "p1") and the parameters that cut
// each partition into 15 files of one 100-row query batch each.
func encodeFixture(t *testing.T) (*fakemilvus.Server, Params) {
	t.Helper()
	s := fakemilvus.New()
	if err := s.Seed(context.Background(), fakemilvus.Seed{Name: "c", Rows: 3000, Dim: 512, Partitions: []string{"p1"}, Loaded: true}); err != nil {
		t.Fatal(err)
	}
	return s, Params{Collections: []string{"c"}, ChunkBytes: 64 << 10, QueryBatchRows: 100}
}

// putLog is a store that records the names of the data files it stores.
type putLog struct {
	repo.Store
	mu   sync.Mutex
	puts []string
}

func (s *putLog) Put(ctx context.Context, name string, r io.Reader) error {
	if strings.HasSuffix(name, ".parquet") {
		s.mu.Lock()
		s.puts = append(s.puts, name)
		s.mu.Unlock()
	}
	return s.Store.Put(ctx, name, r)
}

func newTestRepo(t *testing.T, s repo.Store) *repo.Repository {
	t.Helper()
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEncodeWorkersWriteTheSameFiles backs up the same collection with one
// and with four encode workers: every partition must have the same files,
// in the same order, with the same rows, and byte for byte the same
// content once the backup id (in each file's footer) is masked.
func TestEncodeWorkersWriteTheSameFiles(t *testing.T) {
	ctx := context.Background()
	s, p := encodeFixture(t)
	var ms []*manifest.Manifest
	var rs []*repo.Repository
	for _, workers := range []int{1, 4} {
		r := newTestRepo(t, mem.New())
		p.EncodeWorkers = workers
		res, err := Run(ctx, Deps{Milvus: s, Repo: r}, p)
		if err != nil {
			t.Fatalf("%d workers: %v", workers, err)
		}
		ms, rs = append(ms, res.Manifest), append(rs, r)
	}
	one, four := ms[0].Collections[0], ms[1].Collections[0]
	for pi, p1 := range one.Partitions {
		p4 := four.Partitions[pi]
		if len(p1.Files) < 10 || len(p1.Files) != len(p4.Files) || p1.Rows != p4.Rows {
			t.Fatalf("partition %s: %d files, %d rows with one worker; %d files, %d rows with four (want equal, and at least 10 files)",
				p1.Name, len(p1.Files), p1.Rows, len(p4.Files), p4.Rows)
		}
		for fi := range p1.Files {
			a := storedBytes(t, rs[0], p1.Files[fi], ms[0].ID)
			b := storedBytes(t, rs[1], p4.Files[fi], ms[1].ID)
			if p1.Files[fi].Rows != p4.Files[fi].Rows || !bytes.Equal(a, b) {
				t.Errorf("partition %s file %d: %d rows, %d bytes with one worker; %d rows, %d bytes with four; want identical",
					p1.Name, fi, p1.Files[fi].Rows, len(a), p4.Files[fi].Rows, len(b))
			}
		}
	}
}

// storedBytes reads a stored file with the backup id masked.
func storedBytes(t *testing.T, r *repo.Repository, f manifest.File, id string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.ReadFile(context.Background(), f, &buf); err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(buf.Bytes(), []byte(id), []byte("<id>"))
}

// TestEncodeFaultAbortsEveryFile fails the encode of file 4 of the first
// partition while later files are being encoded alongside it: the backup
// fails with that fault, nothing from file 4 on was ever stored, and no
// data file or spool file is left.
func TestEncodeFaultAbortsEveryFile(t *testing.T) {
	ctx := context.Background()
	s, p := encodeFixture(t)
	store := &putLog{Store: mem.New()}
	r := newTestRepo(t, store)
	p.EncodeWorkers, p.SpoolDir = 4, t.TempDir()
	injected := errors.New("injected encode fault")
	inFlight := 0
	p.encodeFault = func(index int) error {
		if index != 4 {
			return nil
		}
		time.Sleep(100 * time.Millisecond) // let the next files start
		spools, _ := filepath.Glob(filepath.Join(p.SpoolDir, "*"))
		inFlight = len(spools)
		return injected
	}
	_, err := Run(ctx, Deps{Milvus: s, Repo: r}, p)
	if !errors.Is(err, injected) {
		t.Fatalf("backup error = %v, want the injected fault", err)
	}
	if inFlight < 2 {
		t.Fatalf("%d spool files at the fault, want several in flight; the test proves nothing", inFlight)
	}
	for _, name := range store.puts {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(name), "part-%05d.parquet", &n); err != nil || n >= 4 {
			t.Errorf("stored %s: nothing from the failed file on may be stored", name)
		}
	}
	if len(store.puts) == 0 {
		t.Error("no file stored before the fault; the test proves nothing")
	}
	t.Logf("%d files stored before the fault, %d spool files in flight at it", len(store.puts), inFlight)
	if files, _ := store.List(ctx, "data/"); len(files) != 0 {
		t.Errorf("data/ still holds %d files", len(files))
	}
	if spools, _ := filepath.Glob(filepath.Join(p.SpoolDir, "*")); len(spools) != 0 {
		t.Errorf("spool files left: %v", spools)
	}
}

// TestResumeWithEncodeWorkers interrupts a backup with four encode workers
// (Milvus answers Unavailable in the middle of the first partition, once
// several files are stored), checks that the journal names an unbroken
// run of files from part-00000, resumes it with four workers, and compares
// every row of the result, in order, with a one-worker backup.
func TestResumeWithEncodeWorkers(t *testing.T) {
	ctx := context.Background()
	s, p := encodeFixture(t)
	p.EncodeWorkers = 1
	sr := newTestRepo(t, mem.New())
	straight, err := Run(ctx, Deps{Milvus: s, Repo: sr}, p)
	if err != nil {
		t.Fatal(err)
	}
	store := mem.New()
	r := newTestRepo(t, store)
	s.SetHook(func(op string, n int) error {
		if op != "scan" || n != 11 {
			return nil
		}
		for range 500 { // wait for a few stored files
			if files, _ := store.List(ctx, "data/"); len(files) >= 4 {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return status.Error(codes.Unavailable, "injected: server went away")
	})
	p.EncodeWorkers = 4
	_, err = Run(ctx, Deps{Milvus: s, Repo: r}, p)
	var ie *InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("interrupted backup: %v, want an InterruptedError", err)
	}
	s.SetHook(nil)
	checkJournalPrefix(t, r, ie.ID)
	p.Resume = true
	res, err := Run(ctx, Deps{Milvus: s, Repo: r}, p)
	if err != nil {
		t.Fatal(err)
	}
	if res.Manifest.ID != ie.ID {
		t.Errorf("resumed backup %s, want %s", res.Manifest.ID, ie.ID)
	}
	want := backupRows(t, sr, straight.Manifest)
	if got := backupRows(t, r, res.Manifest); !slices.Equal(got, want) {
		t.Errorf("resumed backup holds %d rows, want the one-worker backup's %d rows in the same order", len(got), len(want))
	}
}

// checkJournalPrefix fails unless the journal of backup id names files
// part-00000 to part-<n-1> of the partition in progress, in order.
func checkJournalPrefix(t *testing.T, r *repo.Repository, id string) {
	t.Helper()
	data, err := r.ReadJournal(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var j journal
	if err := json.Unmarshal(data, &j); err != nil || j.Current == nil {
		t.Fatalf("journal %s: %v, %+v", data, err, j.Current)
	}
	if len(j.Current.Files) < 2 {
		t.Fatalf("journal names %d files of the partition in progress, want several; the test proves nothing", len(j.Current.Files))
	}
	t.Logf("interrupted with %d files of %s journaled", len(j.Current.Files), j.Current.Partition)
	for i, f := range j.Current.Files {
		if want := fmt.Sprintf("part-%05d.parquet", i); filepath.Base(f.Path) != want {
			t.Errorf("journal file %d is %s, want %s (no gap)", i, f.Path, want)
		}
	}
}

// backupRows reads every row of m's data files in manifest order, as one
// string per row (primary key and vector).
func backupRows(t *testing.T, r *repo.Repository, m *manifest.Manifest) []string {
	t.Helper()
	var out []string
	for _, c := range m.Collections {
		sch := &schemapb.CollectionSchema{}
		if err := protojson.Unmarshal(c.Schema, sch); err != nil {
			t.Fatal(err)
		}
		for _, p := range c.Partitions {
			for _, f := range p.Files {
				out = append(out, fileRows(t, r, f, sch)...)
			}
		}
	}
	return out
}

func fileRows(t *testing.T, r *repo.Repository, f manifest.File, sch *schemapb.CollectionSchema) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.ReadFile(context.Background(), f, &buf); err != nil {
		t.Fatal(err)
	}
	fr, err := columnar.OpenFile(context.Background(), bytes.NewReader(buf.Bytes()), sch, 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	var out []string
	for {
		rec, err := fr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for i := range int(rec.NumRows()) {
			var row []string
			for _, col := range rec.Columns() {
				row = append(row, col.ValueStr(i))
			}
			out = append(out, strings.Join(row, "|"))
		}
		rec.Release()
	}
}
