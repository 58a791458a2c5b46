package doctor

import (
	"errors"
	"testing"
)

func TestCheckProtection(t *testing.T) {
	for _, c := range []struct {
		name string
		p    RepoProtection
		want Severity
		n    int
	}{
		{"neither", RepoProtection{Bucket: "b"}, Warning, 1},
		{"versioning only", RepoProtection{Bucket: "b", Versioning: true}, Info, 0},
		{"lock without retention", RepoProtection{Bucket: "b", Versioning: true, ObjectLock: true}, Info, 1},
		{"lock with retention", RepoProtection{Bucket: "b", Versioning: true, ObjectLock: true, RepoLock: "governance 24h0m0s"}, Info, 0},
		{"not asked", RepoProtection{Bucket: "b", Err: errors.New("denied")}, Info, 0},
	} {
		got := CheckProtection(c.p)
		if len(got) != c.n || (c.n > 0 && got[0].Severity != c.want) {
			t.Errorf("%s: CheckProtection = %+v; want %d finding(s) of severity %s", c.name, got, c.n, c.want)
		}
	}
	r := Diagnose(Params{Coverage: &Coverage{Protection: &RepoProtection{Bucket: "b", Err: errors.New("denied")}}})
	found := false
	for _, u := range r.Undetermined {
		found = found || u == "whether repository bucket b keeps versions or object locks: denied"
	}
	if !found {
		t.Errorf("Diagnose does not report the unasked protection: %v", r.Undetermined)
	}
}
