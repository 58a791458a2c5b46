package backup

import (
	"strings"
	"testing"
)

func TestNormalizeRejects(t *testing.T) {
	tests := []struct {
		name   string
		p      Params
		wantIn string
	}{
		{"bad name", Params{Name: "../x"}, "invalid backup name"},
		{"all dbs with collection", Params{AllDatabases: true, Collections: []string{"a"}}, "do not combine"},
		{"partition without collection", Params{Partitions: []string{"p"}}, "exactly one --collection"},
		{"partition with two collections", Params{Partitions: []string{"p"}, Collections: []string{"a", "b"}}, "exactly one --collection"},
		{"compression", Params{Compression: "gzip"}, "use zstd or none"},
		{"level", Params{CompressionLevel: 40}, "out of range"},
		{"chunk", Params{ChunkBytes: 10}, "too small"},
		{"query batch", Params{QueryBatchRows: 20000}, "out of range"},
		{"negative query batch", Params{QueryBatchRows: -1}, "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.p.normalize()
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Fatalf("normalize(%+v) error = %v, want %q", tt.p, err, tt.wantIn)
			}
		})
	}
}

func TestNormalizeDefaults(t *testing.T) {
	p, err := Params{}.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if p.Database != "default" || p.Compression != "zstd" || p.CompressionLevel != 3 || p.Checksum != "sha256" || p.ChunkBytes != DefaultChunkBytes {
		t.Fatalf("defaults = %+v", p)
	}
}

func TestSafeName(t *testing.T) {
	tests := map[string]string{"docs": "docs", "_default": "_default", "a-b_1": "a-b_1", "../x": "x2e2e2f78", "ü": "xc3bc", ".hidden": "x2e68696464656e"}
	for in, want := range tests {
		if got := safeName(in); got != want {
			t.Errorf("safeName(%q) = %q, want %q", in, got, want)
		}
	}
}
