package offsite_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/offsite"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/faulty"
	"github.com/milvault/milvault/repo/mem"
	"github.com/milvault/milvault/repo/retry"
)

// committed stores a backup of nFiles files in a new repository.
func committed(t *testing.T, id string, nFiles int) (*repo.Repository, repo.Store, *manifest.Manifest) {
	t.Helper()
	ctx := context.Background()
	s := mem.New()
	r := newRepo(t, s)
	var files []manifest.File
	for i := range nFiles {
		data := bytes.Repeat([]byte(fmt.Sprintf("file %d;", i)), 1000+i)
		path := fmt.Sprintf("%sdefault/c/_default/part-%05d.parquet", manifest.DataPrefix(id), i)
		if err := s.Put(ctx, path, bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
		h := checksum.NewWriter(nil, checksum.SHA256)
		h.Write(data)
		files = append(files, manifest.File{Path: path, Size: int64(len(data)), Rows: 1, Checksum: h.Digest()})
	}
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: id, Name: "n-" + id, CreatedAt: time.Now().UTC(),
		Collections: []manifest.Collection{{Database: "default", Name: "c", Schema: []byte(`{}`), Rows: int64(nFiles),
			Partitions: []manifest.Partition{{Name: "_default", Rows: int64(nFiles), Files: files}}}}}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	return r, s, m
}

func newRepo(t *testing.T, s repo.Store) *repo.Repository {
	t.Helper()
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sameFiles checks that dst holds every file of m byte for byte as src.
func sameFiles(t *testing.T, src, dst repo.Store, m *manifest.Manifest) {
	t.Helper()
	for _, f := range m.Files() {
		if a, b := content(t, src, f.Path), content(t, dst, f.Path); a != b {
			t.Errorf("%s differs at the destination", f.Path)
		}
	}
}

func content(t *testing.T, s repo.Store, name string) string {
	t.Helper()
	rc, err := s.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

func TestCopyThenRerun(t *testing.T) {
	ctx := context.Background()
	src, ss, m := committed(t, "20260101T000000Z-aaaaaa", 4)
	ds := mem.New()
	dst := newRepo(t, ds)
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || res.Copied != 4 || res.Present != 0 || res.AlreadyCommitted {
		t.Fatalf("Copy = %+v, %v; want 4 files copied", res, err)
	}
	got, err := dst.Find(ctx, m.Name)
	if err != nil || !got.CompletedAt.Equal(m.CompletedAt) {
		t.Fatalf("copied backup: %v, %v; want it found with the source's completion time", got, err)
	}
	sameFiles(t, ss, ds, m)
	if left, _ := ds.List(ctx, "pending/"); len(left) != 0 {
		t.Errorf("pending markers left: %v", left)
	}
	res, err = offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || !res.AlreadyCommitted || res.Copied != 0 {
		t.Errorf("rerun = %+v, %v; want already committed, nothing copied", res, err)
	}
}

func TestInterruptedCopyResumes(t *testing.T) {
	ctx := context.Background()
	src, ss, m := committed(t, "20260101T000000Z-bbbbbb", 5)
	inner := mem.New()
	dst := newRepo(t, inner)
	// The 3rd data file fails for good: two are stored, nothing is committed.
	broken := faulty.Wrap(inner, 1, faulty.Rule{Ops: []faulty.Op{faulty.Put}, Prefix: "data/", Nth: 3, Kind: faulty.Permanent})
	_, err := offsite.Copy(ctx, src, reopen(t, broken), m, offsite.Options{})
	if err == nil || !strings.Contains(err.Error(), "part-00002") {
		t.Fatalf("interrupted copy error = %v, want it to name part-00002", err)
	}
	if list, _, _ := dst.List(ctx); len(list) != 0 {
		t.Fatalf("interrupted copy is listed: %v", list)
	}
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{})
	if err != nil || res.Copied != 3 || res.Present != 2 {
		t.Fatalf("rerun = %+v, %v; want 3 copied, 2 present", res, err)
	}
	sameFiles(t, ss, inner, m)
}

func reopen(t *testing.T, s repo.Store) *repo.Repository {
	t.Helper()
	r, err := repo.Open(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWrongFileAtDestinationIsReplaced(t *testing.T) {
	ctx := context.Background()
	src, ss, m := committed(t, "20260101T000000Z-cccccc", 2)
	ds := mem.New()
	dst := newRepo(t, ds)
	f := m.Files()[1]
	ds.Put(ctx, f.Path, strings.NewReader(strings.Repeat("x", int(f.Size)))) // right size, wrong bytes
	res, err := offsite.Copy(ctx, src, dst, m, offsite.Options{SkipReadBack: true})
	if err != nil || res.Copied != 2 {
		t.Fatalf("Copy = %+v, %v; want both files copied", res, err)
	}
	sameFiles(t, ss, ds, m)
}

func TestDamagedSourceIsNotCopied(t *testing.T) {
	ctx := context.Background()
	_, ss, m := committed(t, "20260101T000000Z-dddddd", 2)
	corrupt := faulty.Wrap(ss, 1, faulty.Rule{Ops: []faulty.Op{faulty.Open}, Prefix: m.Files()[0].Path, Nth: 1, Kind: faulty.Corrupt})
	ds := mem.New()
	dst := newRepo(t, ds)
	_, err := offsite.Copy(ctx, reopen(t, corrupt), dst, m, offsite.Options{})
	var sde *offsite.SourceDamagedError
	if !errors.As(err, &sde) || sde.Path != m.Files()[0].Path {
		t.Fatalf("Copy from a corrupted source = %v, want SourceDamagedError for the first file", err)
	}
	if files, _ := ds.List(ctx, "data/"); len(files) != 0 {
		t.Errorf("damaged source wrote %d files", len(files))
	}
}

func TestCopyTakesDestinationLock(t *testing.T) {
	ctx := context.Background()
	src, _, m := committed(t, "20260101T000000Z-eeeeee", 1)
	s := mem.New()
	holder := newRepo(t, s)
	l, _, err := holder.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "backup"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	_, err = offsite.Copy(ctx, src, reopen(t, s), m, offsite.Options{})
	var le *repo.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Copy into a locked repository = %v, want LockedError", err)
	}
}

func TestCopyUnderTransientFaults(t *testing.T) {
	ctx := context.Background()
	_, ss, m := committed(t, "20260101T000000Z-ffffff", 6)
	o := retry.Options{IsTransient: faulty.IsTransient, MaxAttempts: 10, Base: time.Microsecond, Max: time.Millisecond}
	noisy := func(s repo.Store, seed uint64) repo.Store {
		return retry.Wrap(faulty.Wrap(s, seed,
			faulty.Rule{Probability: 0.1, Kind: faulty.Transient},
			faulty.Rule{Ops: []faulty.Op{faulty.Open}, Probability: 0.1, Kind: faulty.Interrupt}), o)
	}
	inner := mem.New()
	newRepo(t, inner)
	res, err := offsite.Copy(ctx, reopen(t, noisy(ss, 3)), reopen(t, noisy(inner, 4)), m, offsite.Options{})
	if err != nil || res.Copied != 6 {
		t.Fatalf("Copy under faults = %+v, %v; want 6 files copied", res, err)
	}
	sameFiles(t, ss, inner, m)
}

// TestCopyHoldsSharedLockOnSource: a copy reads its source under a shared
// lock, so it does not run while a prune or delete holds the source, and
// it coexists with another reader; a copy into the repository it reads
// from needs no second lock.
func TestCopyHoldsSharedLockOnSource(t *testing.T) {
	ctx := context.Background()
	src, ss, m := committed(t, "20260101T000000Z-abcdef", 2)
	pruning, _, err := src.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "prune"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = offsite.Copy(ctx, src, newRepo(t, mem.New()), m, offsite.Options{})
	var le *repo.LockedError
	if !errors.As(err, &le) || le.Holders[0].Operation != "prune" {
		t.Fatalf("Copy from a repository under prune = %v, want LockedError naming the prune", err)
	}
	pruning.Unlock()
	reading, _, err := src.Lock(ctx, repo.LockOptions{Operation: "restore"})
	if err != nil {
		t.Fatal(err)
	}
	defer reading.Unlock()
	dst := mem.New()
	if res, err := offsite.Copy(ctx, src, newRepo(t, dst), m, offsite.Options{}); err != nil || res.Copied != 2 {
		t.Fatalf("Copy beside a restore = %+v, %v; want 2 files copied", res, err)
	}
	sameFiles(t, ss, dst, m)
	reading.Unlock()
	if res, err := offsite.Copy(ctx, src, src, m, offsite.Options{}); err != nil || !res.AlreadyCommitted {
		t.Fatalf("Copy into its own source = %+v, %v; want already committed", res, err)
	}
	if locks, _ := src.Locks(ctx); len(locks) != 0 {
		t.Errorf("locks left at the source: %v", locks)
	}
}
