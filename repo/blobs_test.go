package repo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

func nativeManifest(id string, files ...manifest.File) *manifest.Manifest {
	var bl []manifest.Binlog
	for _, f := range files {
		bl = append(bl, manifest.Binlog{Kind: manifest.BinlogInsert, Field: 100, LogID: "1", File: f})
	}
	return &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: id, CreatedAt: time.Now().UTC(),
		Options: manifest.Options{Mode: manifest.ModeNative, Checksum: "sha256"},
		Collections: []manifest.Collection{{Database: "default", Name: "c", Schema: []byte(`{}`),
			Segments: []manifest.Segment{{ID: 1, Binlogs: bl}}}}}
}

func putBlob(t *testing.T, r *repo.Repository, content string) (manifest.File, bool) {
	t.Helper()
	b, err := r.PutBlob(context.Background(), strings.NewReader(content), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return b.File, b.Stored
}

func TestPutBlobIsContentAddressed(t *testing.T) {
	r, _ := newRepo(t)
	a, stored := putBlob(t, r, "segment bytes")
	if !stored || !strings.HasPrefix(a.Path, "blobs/") || a.Size != 13 || !strings.HasPrefix(a.Checksum, "sha256:") {
		t.Fatalf("first PutBlob = %+v stored %v", a, stored)
	}
	if !strings.HasSuffix(a.Path, strings.TrimPrefix(a.Checksum, "sha256:")) {
		t.Fatalf("path %s is not the digest %s", a.Path, a.Checksum)
	}
	b, stored := putBlob(t, r, "segment bytes")
	if stored || b != a {
		t.Fatalf("same bytes again = %+v stored %v, want %+v not stored", b, stored, a)
	}
	if err := r.ReadFile(context.Background(), a, nil); err != nil {
		t.Fatalf("stored blob does not read back: %v", err)
	}
}

func TestDeleteCollectsOnlyUnreferencedBlobs(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	shared, _ := putBlob(t, r, "shared")
	own1, _ := putBlob(t, r, "only in b1")
	own2, _ := putBlob(t, r, "only in b2")
	orphan, _ := putBlob(t, r, "left by a killed backup")
	for _, m := range []*manifest.Manifest{nativeManifest("b1", shared, own1), nativeManifest("b2", shared, own2)} {
		if err := r.Commit(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Delete(ctx, nil, "b1"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		f    manifest.File
		want bool
	}{{shared, true}, {own2, true}, {own1, false}, {orphan, false}} {
		_, err := s.Stat(ctx, c.f.Path)
		if got := err == nil; got != c.want {
			t.Errorf("%s present = %v after deleting b1, want %v", c.f.Path, got, c.want)
		}
	}
}

func TestCollectBlobsKeepsAllWhenAManifestIsUnreadable(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	f, _ := putBlob(t, r, "maybe referenced")
	if err := s.Put(ctx, manifest.Path("broken"), strings.NewReader("{not json")); err != nil {
		t.Fatal(err)
	}
	l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	_, err = r.CollectBlobs(ctx, l)
	var ue *repo.UnreadableManifestsError
	if !errors.As(err, &ue) {
		t.Fatalf("CollectBlobs = %v, want *UnreadableManifestsError", err)
	}
	if _, err := s.Stat(ctx, f.Path); err != nil {
		t.Fatalf("blob removed despite an unreadable manifest: %v", err)
	}
}

func TestCollectBlobsNeedsExclusiveLock(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	l, _, err := r.Lock(ctx, repo.LockOptions{Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	if _, err := r.CollectBlobs(ctx, l); err == nil {
		t.Fatal("CollectBlobs under a shared lock succeeded")
	}
}

func TestSourceHintsFollowTheirFiles(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	kept, _ := putBlob(t, r, "kept")
	gone, _ := putBlob(t, r, "gone")
	for src, f := range map[string]manifest.File{"obj/kept": kept, "obj/gone": gone} {
		if err := r.RememberSource(ctx, src, f); err != nil {
			t.Fatal(err)
		}
	}
	known, err := r.KnownSources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if known[r.SourceKey("obj/kept")] != kept || known[r.SourceKey("obj/gone")] != gone {
		t.Fatalf("KnownSources = %+v", known)
	}
	if err := r.Commit(ctx, nativeManifest("b1", kept)); err != nil {
		t.Fatal(err)
	}
	l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	got, err := r.CollectBlobs(ctx, l)
	if err != nil || got.Files != 1 {
		t.Fatalf("CollectBlobs = %+v, %v; want the one unreferenced file", got, err)
	}
	known, _ = r.KnownSources(ctx)
	if _, ok := known[r.SourceKey("obj/gone")]; ok || len(known) != 1 {
		t.Fatalf("after collection KnownSources = %+v, want only the kept file's hint", known)
	}
}
