package native

import (
	"strings"
	"testing"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

func TestParseObject(t *testing.T) {
	tests := []struct {
		kind, name string
		want       object
		err        bool
	}{
		{kind: manifest.BinlogInsert, name: "insert_log/7/8/9/100/555",
			want: object{Kind: manifest.BinlogInsert, Partition: 8, Segment: 9, Field: 100, LogID: "555"}},
		{kind: manifest.BinlogDelta, name: "delta_log/7/8/9/556",
			want: object{Kind: manifest.BinlogDelta, Partition: 8, Segment: 9, LogID: "556"}},
		{kind: manifest.BinlogStats, name: "stats_log/7/8/9/100/1",
			want: object{Kind: manifest.BinlogStats, Partition: 8, Segment: 9, Field: 100, LogID: "1"}},
		{kind: manifest.BinlogInsert, name: "insert_log/7/8/9/555", err: true},
		{kind: manifest.BinlogInsert, name: "insert_log/7/x/9/100/555", err: true},
	}
	for _, tt := range tests {
		prefix := folders[tt.kind] + "7/"
		got, err := parseObject(tt.kind, prefix, repo.FileInfo{Name: tt.name, Size: 3})
		if tt.err {
			if err == nil || !strings.Contains(err.Error(), "root path") {
				t.Errorf("%s: err = %v, want a layout error", tt.name, err)
			}
			continue
		}
		tt.want.Key, tt.want.Size = tt.name, 3
		if err != nil || got != tt.want {
			t.Errorf("%s = %+v, %v; want %+v", tt.name, got, err, tt.want)
		}
		if k := objectKey(7, manifest.Segment{ID: got.Segment, PartitionID: got.Partition},
			manifest.Binlog{Kind: got.Kind, Field: got.Field, LogID: got.LogID}); k != tt.name {
			t.Errorf("objectKey = %s, want %s", k, tt.name)
		}
	}
}

func TestCheckSegment(t *testing.T) {
	ins := func(field int64) object { return object{Kind: manifest.BinlogInsert, Field: field} }
	if err := checkSegment(1, 10, []object{ins(0), ins(1), ins(100)}); err != nil {
		t.Errorf("aligned segment: %v", err)
	}
	if err := checkSegment(1, 10, []object{ins(0), ins(1), ins(100), ins(100)}); err == nil {
		t.Error("misaligned insert logs accepted")
	}
	if err := checkSegment(1, 10, nil); err == nil {
		t.Error("sealed segment without files accepted")
	}
	if err := checkSegment(1, 0, nil); err != nil {
		t.Errorf("empty segment: %v", err)
	}
}

func TestServerRootAndVersion(t *testing.T) {
	if r, _ := serverRoot("s3://b/files?endpoint=http://x:9000"); r != "files" {
		t.Errorf("serverRoot s3 = %q, want files", r)
	}
	if r, _ := serverRoot("/var/lib/milvus/data"); r != "/var/lib/milvus/data" {
		t.Errorf("serverRoot local = %q", r)
	}
	for v, ok := range map[string]bool{"v2.3.5": true, "2.4.0-rc": true, "v2.2.16": false, "garbage": false, "v3.0.0": true} {
		if got := CheckServer(v) == nil; got != ok {
			t.Errorf("CheckServer(%q) ok = %v, want %v", v, got, ok)
		}
	}
}
