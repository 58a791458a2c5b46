package repo_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/repo/mem"
)

func TestParseObjectLock(t *testing.T) {
	for _, c := range []struct {
		in   string
		mode string
		secs int64
		bad  bool
	}{
		{in: "1d", mode: repo.LockGovernance, secs: 86400},
		{in: "compliance:30d", mode: repo.LockCompliance, secs: 30 * 86400},
		{in: "governance:36h", mode: repo.LockGovernance, secs: 36 * 3600},
		{in: "legal:1d", bad: true},
		{in: "0s", bad: true},
		{in: "1.5d", bad: true},
		{in: "", bad: true},
	} {
		got, err := repo.ParseObjectLock(c.in)
		if c.bad {
			if err == nil || errkind.Of(err) != errkind.Usage {
				t.Errorf("ParseObjectLock(%q) = %+v, %v; want a usage error", c.in, got, err)
			}
			continue
		}
		if err != nil || got.Mode != c.mode || got.RetentionSeconds != c.secs {
			t.Errorf("ParseObjectLock(%q) = %+v, %v; want %s %ds", c.in, got, err, c.mode, c.secs)
		}
	}
}

// commitLocked writes and commits a one-file backup id through the
// repository's own write paths.
func commitLocked(t *testing.T, r *repo.Repository, id string) *manifest.Manifest {
	t.Helper()
	ctx := context.Background()
	m := testManifest(id, "")
	fw, err := r.CreateFile(ctx, m.Files()[0].Path, checksum.SHA256, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write([]byte("12345")); err != nil {
		t.Fatal(err)
	}
	f, err := fw.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m.Collections[0].Partitions[0].Files[0] = manifest.File{Path: f.Path, Size: f.Size, Rows: 2, Checksum: f.Checksum}
	if err := r.Commit(ctx, m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestObjectLockRefusesEarlyDelete(t *testing.T) {
	ctx := context.Background()
	s := mem.New()
	r, err := repo.InitWith(ctx, s, repo.InitOptions{ObjectLock: &repo.ObjectLock{Mode: repo.LockCompliance, RetentionSeconds: 86400}})
	if err != nil {
		t.Fatal(err)
	}
	if re, err := repo.Open(ctx, s); err != nil || re.Config().ObjectLock == nil || re.Config().ObjectLock.RetentionSeconds != 86400 {
		t.Fatalf("reopened config = %+v, %v; want the object lock recorded", re.Config(), err)
	}
	m := commitLocked(t, r, "b1")
	err = r.Delete(ctx, nil, m.ID)
	var re *repo.RetainedError
	if !errors.As(err, &re) || errkind.Of(err) != errkind.Conflict {
		t.Fatalf("Delete = %v; want a *RetainedError", err)
	}
	if d := time.Until(re.Until); d < 23*time.Hour || d > 25*time.Hour || !strings.Contains(err.Error(), "can be deleted from then on") {
		t.Fatalf("Delete says %q (until in %s); want about 24h and when", err, d)
	}
	files, _ := r.BackupFiles(ctx, m.ID)
	if len(files) != 2 {
		t.Fatalf("after the refused delete %d files remain, want the manifest and the data file", len(files))
	}
	// The store beneath refuses too (a stand-in for S3 Object Lock).
	if err := s.Delete(ctx, m.Files()[0].Path); err == nil {
		t.Fatal("the memory store deleted a retained file")
	}
}

func TestObjectLockExpires(t *testing.T) {
	ctx := context.Background()
	r, err := repo.InitWith(ctx, mem.New(), repo.InitOptions{ObjectLock: &repo.ObjectLock{Mode: repo.LockGovernance, RetentionSeconds: 1}})
	if err != nil {
		t.Fatal(err)
	}
	m := commitLocked(t, r, "b1")
	if err := r.Delete(ctx, nil, m.ID); err == nil {
		t.Fatal("Delete within the retention succeeded")
	}
	time.Sleep(2100 * time.Millisecond)
	if err := r.Delete(ctx, nil, m.ID); err != nil {
		t.Fatalf("Delete after the retention: %v", err)
	}
}

func TestObjectLockLocalFilesReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.InitWith(ctx, s, repo.InitOptions{ObjectLock: &repo.ObjectLock{Mode: repo.LockGovernance, RetentionSeconds: 3600}})
	if err != nil {
		t.Fatal(err)
	}
	m := commitLocked(t, r, "b1")
	l, _, err := r.Lock(ctx, repo.LockOptions{Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"config.json", manifest.Path(m.ID), m.Files()[0].Path} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm()&0o222 != 0 {
			t.Errorf("%s: mode %v, %v; want read-only", name, fi.Mode(), err)
		}
	}
	locks, _ := filepath.Glob(filepath.Join(dir, "locks", "*"))
	for _, p := range locks {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm()&0o200 == 0 {
			t.Errorf("lock %s: mode %v, %v; locks must stay writable", p, fi.Mode(), err)
		}
	}
	if len(locks) == 0 {
		t.Fatal("no lock file found")
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	var re *repo.RetainedError
	if err := r.Delete(ctx, nil, m.ID); !errors.As(err, &re) {
		t.Fatalf("Delete of a retained local backup = %v; want a *RetainedError", err)
	}
	if _, err := r.Find(ctx, m.ID); err != nil {
		t.Fatalf("backup gone after refused delete: %v", err)
	}
}
