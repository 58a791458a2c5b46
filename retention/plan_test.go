package retention

import (
	"fmt"
	"testing"
	"time"

	"github.com/milvault/milvault/manifest"
)

func TestPlan(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	file := manifest.File{Size: 100}
	coll := func(name string) manifest.Collection {
		return manifest.Collection{Database: "default", Name: name, Partitions: []manifest.Partition{{Files: []manifest.File{file}}}}
	}
	var ms []*manifest.Manifest
	for i := range 4 {
		ms = append(ms, &manifest.Manifest{ID: fmt.Sprintf("docs%d", i), CreatedAt: now.Add(-time.Duration(i) * time.Hour), Collections: []manifest.Collection{coll("docs")}})
		ms = append(ms, &manifest.Manifest{ID: fmt.Sprintf("both%d", i), CreatedAt: now.Add(-time.Duration(i) * time.Hour), Collections: []manifest.Collection{coll("users"), coll("docs")}})
	}
	p := Policy{KeepLast: 1}
	all := Plan(p, ms, "", now)
	kept := map[string]bool{}
	for _, v := range all {
		if v.Keep {
			kept[v.Manifest.ID] = true
		}
	}
	if len(all) != 8 || len(kept) != 2 || !kept["docs0"] || !kept["both0"] {
		t.Fatalf("Plan(keep-last 1) over two collection sets kept %v of %d; want docs0 and both0 of 8", kept, len(all))
	}
	if got := Freed(all); got != 3*100+3*200 {
		t.Errorf("Freed = %d, want %d", got, 900)
	}
	users := Plan(p, ms, "default.users", now)
	if len(users) != 4 || users[0].Group != "default.docs,default.users" {
		t.Fatalf("Plan for users judged %d backups (first group %q); want the 4 that hold users", len(users), users[0].Group)
	}
}
