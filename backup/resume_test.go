package backup

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// TestJournalRoundTrip records progress as a backup does and reads it back
// as --resume does: the finished and in-progress partitions, the stored
// files and the last key survive; a journal naming a missing file, another
// selection, or no journal at all are refused with the right kinds.
func TestJournalRoundTrip(t *testing.T) {
	ctx := context.Background()
	r, err := repo.OpenOrInit(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	p, _ := Params{Collections: []string{"docs"}}.normalize()
	if _, err := loadResume(ctx, r, p); errkind.Of(err) != errkind.NotFound {
		t.Fatalf("resume with nothing interrupted: %v, want not found", err)
	}
	m := &manifest.Manifest{ID: r.NewID(), Selection: manifest.Selection{Databases: []string{"default"}, Collections: []string{"docs"}},
		Options: manifest.Options{Compression: "zstd", Checksum: "sha256"}}
	f := storeFile(t, r, m.ID, "a")
	jr := &journaler{r: r, j: journal{Manifest: m}}
	jr.startCollection("default", "docs")
	if err := jr.partitionDone(ctx, manifest.Partition{Name: "p1", Rows: 1, Files: []manifest.File{f}}); err != nil {
		t.Fatal(err)
	}
	g := storeFile(t, r, m.ID, "b")
	if err := jr.fileStored(ctx, "p2", []manifest.File{g}, "key \"7\""); err != nil {
		t.Fatal(err)
	}
	s, err := loadResume(ctx, r, p)
	if err != nil {
		t.Fatal(err)
	}
	c := s.partial("default", "docs")
	if _, ok := c.done("p1"); !ok || c.inProgress("p2") == nil || c.inProgress("p1") != nil || c.LastKey.value() != "key \"7\"" {
		t.Errorf("resumed state %+v: want p1 done, p2 in progress after key \"7\"", c)
	}
	if got := len(s.storedFiles()); got != 2 {
		t.Errorf("resume names %d stored files, want 2", got)
	}
	other, _ := Params{Collections: []string{"other"}}.normalize()
	if _, err := loadResume(ctx, r, other); errkind.Of(err) != errkind.Usage || !strings.Contains(err.Error(), "same selection") {
		t.Errorf("resume with another selection: %v, want a usage error", err)
	}
	if err := jr.fileStored(ctx, "p2", []manifest.File{g, {Path: manifest.DataPrefix(m.ID) + "gone.parquet", Checksum: g.Checksum}}, int64(9)); err != nil {
		t.Fatal(err)
	}
	if _, err := loadResume(ctx, r, p); err == nil || !strings.Contains(err.Error(), "does not check") {
		t.Errorf("resume with a missing stored file: %v, want a refusal", err)
	}
}

// storeFile stores a small data file of backup id.
func storeFile(t *testing.T, r *repo.Repository, id, name string) manifest.File {
	t.Helper()
	ctx := context.Background()
	w, err := r.CreateFile(ctx, manifest.DataPrefix(id)+name+".parquet", "sha256", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("data " + name)); err != nil {
		t.Fatal(err)
	}
	f, err := w.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestResumable classifies the failures a backup keeps its files for.
func TestResumable(t *testing.T) {
	if resumable(errors.New("bad filter")) {
		t.Error("a plain error counted as Milvus going away")
	}
	if !resumable(errkind.Wrap(errkind.Unreachable, errors.New("down"))) {
		t.Error("an unreachable Milvus did not count as going away")
	}
	if !resumable(fmt.Errorf("read default.docs: %w", status.Error(codes.Unavailable, "connection refused"))) {
		t.Error("a gRPC Unavailable (server stopped) did not count as going away")
	}
	if resumable(fmt.Errorf("read: %w", status.Error(codes.InvalidArgument, "bad expr"))) {
		t.Error("a gRPC InvalidArgument counted as going away")
	}
}
