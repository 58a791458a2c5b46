package repo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

func testManifest(id, name string) *manifest.Manifest {
	f := manifest.File{Path: manifest.DataPrefix(id) + "default/c/_default/part-00000.parquet", Size: 5, Rows: 2,
		Checksum: "sha256:" + strings.Repeat("ab", 32)}
	return &manifest.Manifest{
		FormatVersion: manifest.FormatVersion, ID: id, Name: name, CreatedAt: time.Now().UTC(),
		Collections: []manifest.Collection{{Database: "default", Name: "c", Schema: []byte(`{}`), Rows: 2,
			Partitions: []manifest.Partition{{Name: "_default", Rows: 2, Files: []manifest.File{f}}}}},
	}
}

func newRepo(t *testing.T) (*repo.Repository, *mem.Store) {
	t.Helper()
	s := mem.New()
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r, s
}

func TestCommitRequiresFilesAndIsVisibleLast(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	m := testManifest("b1", "first")
	l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	stop, err := r.Begin(ctx, l, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if err := r.Commit(ctx, m); err == nil {
		t.Fatal("Commit before data files were written succeeded")
	}
	if got, _, _ := r.List(ctx); len(got) != 0 {
		t.Fatalf("List = %d backups before commit, want 0", len(got))
	}
	if err := s.Put(ctx, m.Files()[0].Path, strings.NewReader("12345")); err != nil {
		t.Fatal(err)
	}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	got, problems, err := r.List(ctx)
	if err != nil || len(problems) != 0 || len(got) != 1 || got[0].ID != "b1" {
		t.Fatalf("List = %v, %v, %v; want [b1]", got, problems, err)
	}
	byName, err := r.Find(ctx, "first")
	if err != nil || byName.ID != "b1" {
		t.Fatalf("Find(first) = %v, %v", byName, err)
	}
	m2 := testManifest("b2", "first")
	s.Put(ctx, m2.Files()[0].Path, strings.NewReader("12345"))
	if err := r.Commit(ctx, m2); err == nil || !strings.Contains(err.Error(), "already exists") || errkind.Of(err) != errkind.Conflict {
		t.Fatalf("Commit with duplicate name error = %v, want 'already exists'", err)
	}
}

func TestFindUnknownListsAvailable(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	m := testManifest("b1", "nightly")
	s.Put(ctx, m.Files()[0].Path, strings.NewReader("12345"))
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	_, err := r.Find(ctx, "nope")
	var nf *repo.BackupNotFoundError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "b1 (nightly)") {
		t.Fatalf("Find(nope) error = %v, want BackupNotFoundError listing b1 (nightly)", err)
	}
	if _, err := r.Find(ctx, "../etc"); err == nil || !strings.Contains(err.Error(), "invalid backup") {
		t.Fatalf("Find(../etc) error = %v, want invalid", err)
	}
}

func TestMalformedManifestIsReported(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	s.Put(ctx, "manifests/bad.json", strings.NewReader(`{"format_version": 1, "id": "bad"`))
	got, problems, err := r.List(ctx)
	if err != nil || len(got) != 0 || len(problems) != 1 || !strings.Contains(problems[0].Error(), "malformed manifest") {
		t.Fatalf("List = %v, %v, %v; want one 'malformed manifest' problem", got, problems, err)
	}
	if _, err := r.Find(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "malformed manifest") {
		t.Fatalf("Find(bad) error = %v, want malformed manifest", err)
	}
}

func TestCleanStaleRemovesUncommittedData(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	// A fresh marker counts as running; data without any marker is stale,
	// as is a marker of a process gone from this host.
	stop, err := r.Begin(ctx, l, "running")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	s.Put(ctx, "data/running/x.parquet", strings.NewReader("x"))
	s.Put(ctx, "data/orphan/x.parquet", strings.NewReader("x"))
	s.Put(ctx, "pending/dead.json", strings.NewReader(`{"id":"dead","host":"`+hostname()+`","pid":999999999}`))
	s.Put(ctx, "data/dead/x.parquet", strings.NewReader("x"))
	if _, err := r.CleanStale(ctx, nil); err == nil {
		t.Fatal("CleanStale without a lock succeeded")
	}
	cleaned, err := r.CleanStale(ctx, l)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sorted(cleaned), ",") != "dead,orphan" {
		t.Fatalf("cleaned %v, want dead and orphan", cleaned)
	}
	if _, err := s.Stat(ctx, "data/running/x.parquet"); err != nil {
		t.Fatalf("running backup's data was removed: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	_, err := repo.Open(ctx, s)
	var nre *repo.NoRepositoryError
	if !errors.As(err, &nre) || nre.Foreign {
		t.Fatalf("Open(empty) = %v, want NoRepositoryError", err)
	}
	s.Put(ctx, "something-else.txt", strings.NewReader("x"))
	if _, err := repo.OpenOrInit(ctx, s); err == nil || !strings.Contains(err.Error(), "not a milvault repository") {
		t.Fatalf("OpenOrInit(foreign) = %v, want 'not a milvault repository'", err)
	}
}

func TestInit(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	if _, err := repo.Init(ctx, s); err != nil {
		t.Fatalf("Init(empty) = %v", err)
	}
	if _, err := repo.Open(ctx, s); err != nil {
		t.Fatalf("Open after Init = %v", err)
	}
	var ee *repo.ExistsError
	if _, err := repo.Init(ctx, s); !errors.As(err, &ee) {
		t.Fatalf("second Init = %v, want ExistsError", err)
	}
	foreign := mem.New()
	for _, name := range []string{"a.txt", "b.txt", "c.txt", "d.txt", "e.txt"} {
		foreign.Put(ctx, name, strings.NewReader("x"))
	}
	var nre *repo.NoRepositoryError
	_, err := repo.Init(ctx, foreign)
	if !errors.As(err, &nre) || !nre.Foreign || !strings.Contains(err.Error(), "a.txt, b.txt, c.txt, 2 more") {
		t.Fatalf("Init(foreign) = %v, want NoRepositoryError naming the files", err)
	}
	if files, _ := foreign.List(ctx, ""); len(files) != 5 {
		t.Fatalf("Init(foreign) left %d files, want the 5 it found", len(files))
	}
}

func TestProofsRecordedAndDeletedWithBackup(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	m := testManifest("b1", "")
	s.Put(ctx, m.Files()[0].Path, strings.NewReader("12345"))
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	r.RecordProof(ctx, repo.Proof{BackupID: "b1", Kind: repo.ProofChecksum, OK: true, At: t0})
	r.RecordProof(ctx, repo.Proof{BackupID: "b1", Kind: repo.ProofDrill, OK: false, At: t0.Add(time.Hour)})
	ps, err := r.Proofs(ctx)
	if err != nil || len(ps["b1"]) != 2 {
		t.Fatalf("Proofs = %v, %v; want 2 for b1", ps, err)
	}
	last, ok := repo.LastSuccess(ps["b1"])
	if !ok || last.Kind != repo.ProofChecksum {
		t.Fatalf("LastSuccess = %+v, %v; want the checksum proof", last, ok)
	}
	if err := r.Delete(ctx, nil, "b1"); err != nil {
		t.Fatal(err)
	}
	if files, _ := s.List(ctx, "proofs/"); len(files) != 0 {
		t.Fatalf("proofs left after delete: %v", files)
	}
}
