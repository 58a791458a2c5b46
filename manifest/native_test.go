package manifest

import "testing"

func TestSharingOf(t *testing.T) {
	f := func(p string, n int64) File { return File{Path: p, Size: n, Checksum: "sha256:00"} }
	m := func(id string, files ...File) *Manifest {
		var bl []Binlog
		for _, x := range files {
			bl = append(bl, Binlog{Kind: BinlogInsert, File: x})
		}
		return &Manifest{ID: id, Options: Options{Mode: ModeNative}, Collections: []Collection{{Segments: []Segment{{Binlogs: bl}}}}}
	}
	a := m("a", f("blobs/aa/1", 10), f("blobs/bb/2", 20), f("blobs/bb/2", 20))
	b := m("b", f("blobs/bb/2", 20), f("blobs/cc/3", 5))
	got := SharingOf(a, []*Manifest{a, b})
	if want := (Sharing{Files: 2, Bytes: 30, Shared: 20}); got != want {
		t.Fatalf("SharingOf = %+v, want %+v", got, want)
	}
}
