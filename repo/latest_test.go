package repo_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

func TestLatest(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	var nf *repo.BackupNotFoundError
	if _, err := r.Latest(ctx, ""); !errors.As(err, &nf) {
		t.Fatalf("Latest on an empty repository = %v, want BackupNotFoundError", err)
	}
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i, coll := range []string{"docs", "users", "docs", "users", "docs"} {
		at := base.Add(time.Duration(i) * time.Hour)
		if i == 4 {
			at = base.Add(-time.Hour) // committed last, but the oldest
		}
		m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: fmt.Sprintf("%s-b%d", at.Format("20060102T150405Z"), i), CreatedAt: at,
			Collections: []manifest.Collection{{Database: "default", Name: coll, Schema: []byte(`{}`)}}}
		if err := r.Commit(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]string{"": "b3", "docs": "b2", "default.users": "b3", "users": "b3"}
	for ref, want := range tests {
		m, err := r.Latest(ctx, ref)
		if err != nil || m.ID[len(m.ID)-2:] != want {
			t.Errorf("Latest(%q) = %v, %v; want backup %s", ref, m, err, want)
		}
	}
	if _, err := r.Latest(ctx, "nope"); !errors.As(err, &nf) || len(nf.Available) != 5 {
		t.Errorf("Latest(nope) = %v, want BackupNotFoundError listing the 5 backups", err)
	}
}
