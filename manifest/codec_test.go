package manifest

import (
	"strings"
	"testing"
	"time"
)

func valid() *Manifest {
	return &Manifest{
		FormatVersion: FormatVersion, ID: "20261121T000000Z-abcdef", CreatedAt: time.Unix(0, 0).UTC(),
		Collections: []Collection{{Database: "default", Name: "c", Schema: []byte(`{"name":"c"}`), Rows: 3,
			Partitions: []Partition{{Name: "_default", Rows: 3, Files: []File{{
				Path: "data/20261121T000000Z-abcdef/default/c/_default/part-00000.parquet", Size: 10, Rows: 3,
				Checksum: "sha256:" + strings.Repeat("0", 64)}}}}}},
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	data, err := Encode(valid())
	if err != nil {
		t.Fatal(err)
	}
	m, err := Decode(data)
	if err != nil || m.TotalRows() != 3 || len(m.Files()) != 1 {
		t.Fatalf("Decode(Encode(valid)) = %v, %v", m, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(m *Manifest)
		raw    string
		wantIn string
	}{
		{name: "garbage", raw: "{not json", wantIn: "malformed manifest"},
		{name: "unknown field", raw: `{"format_version":1,"surprise":true}`, wantIn: "unknown field"},
		{name: "trailing data", raw: `{"format_version":1}{}`, wantIn: "trailing data"},
		{name: "newer version", edit: func(m *Manifest) { m.FormatVersion = 99 }, wantIn: "upgrade milvault"},
		{name: "traversal id", edit: func(m *Manifest) { m.ID = "../x" }, wantIn: "invalid backup id"},
		{name: "file outside backup", edit: func(m *Manifest) { m.Collections[0].Partitions[0].Files[0].Path = "data/other/x.parquet" }, wantIn: "outside"},
		{name: "dotdot path", edit: func(m *Manifest) {
			m.Collections[0].Partitions[0].Files[0].Path = "data/20261121T000000Z-abcdef/../../config.json"
		}, wantIn: "outside"},
		{name: "bad checksum", edit: func(m *Manifest) { m.Collections[0].Partitions[0].Files[0].Checksum = "sha256:xyz" }, wantIn: "bad sha256"},
		{name: "row mismatch", edit: func(m *Manifest) { m.Collections[0].Rows = 4 }, wantIn: "partitions hold 3 rows"},
		{name: "no collections", edit: func(m *Manifest) { m.Collections = nil }, wantIn: "no collections"},
		{name: "file twice", edit: func(m *Manifest) {
			p := &m.Collections[0].Partitions[0]
			p.Files = append(p.Files, p.Files[0])
			p.Rows, m.Collections[0].Rows = 6, 6
		}, wantIn: "listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.edit != nil {
				m := valid()
				tt.edit(m)
				raw = mustMarshal(t, m)
			}
			_, err := Decode(raw)
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tt.wantIn)
			}
		})
	}
}
