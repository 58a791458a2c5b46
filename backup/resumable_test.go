package backup

import (
	"context"
	"testing"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/mem"
)

// TestFindResumable: of several interrupted backups, the newest (by id) of the
// same selection and options is found; another selection's, another
// compression's and a native one are not; ResumeID resumes the older one.
func TestFindResumable(t *testing.T) {
	ctx := context.Background()
	r, err := repo.OpenOrInit(ctx, mem.New())
	if err != nil {
		t.Fatal(err)
	}
	interrupted := func(coll, compression, mode string) string {
		m := &manifest.Manifest{ID: r.NewID(), Selection: manifest.Selection{Databases: []string{"default"}, Collections: []string{coll}},
			Options: manifest.Options{Compression: compression, Checksum: "sha256", Mode: mode}}
		storeFile(t, r, m.ID, "a")
		jr := &journaler{r: r, j: journal{Manifest: m}}
		if err := jr.save(ctx); err != nil {
			t.Fatal(err)
		}
		return m.ID
	}
	older, newer := interrupted("docs", "zstd", ""), interrupted("docs", "zstd", "")
	if newer < older { // ids made in the same second order by their random tail
		older, newer = newer, older
	}
	other := interrupted("other", "zstd", "")
	interrupted("docs", "none", "")
	interrupted("docs", "zstd", manifest.ModeNative)
	for _, tc := range []struct {
		p    Params
		want string
	}{
		{Params{Collections: []string{"docs"}}, newer},
		{Params{Collections: []string{"other"}}, other},
		{Params{Collections: []string{"third"}}, ""},
	} {
		got, err := FindResumable(ctx, r, tc.p)
		if err != nil || got != tc.want {
			t.Errorf("FindResumable(%v) = %q, %v; want %q (older %s)", tc.p.Collections, got, err, tc.want, older)
		}
	}
	p, _ := Params{Collections: []string{"docs"}, ResumeID: older}.normalize()
	s, err := loadResume(ctx, r, p)
	if err != nil || s.Manifest.ID != older {
		t.Fatalf("resume of the named backup %s: %v, %v", older, s, err)
	}
}
