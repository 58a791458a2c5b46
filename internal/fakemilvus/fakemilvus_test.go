package fakemilvus_test

import (
	"context"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/fakemilvus"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/restore"
)

var (
	_ backup.Milvus  = (*fakemilvus.Server)(nil)
	_ restore.Milvus = (*fakemilvus.Server)(nil)
)

// TestScanOrderAndLoad checks the two promises the pipelines rely on: Scan
// refuses unloaded partitions, and delivers every selected row once in
// ascending key order whatever the insertion order.
func TestScanOrderAndLoad(t *testing.T) {
	ctx := context.Background()
	s := fakemilvus.New()
	if err := s.Seed(ctx, fakemilvus.Seed{Name: "c", Rows: 25, Dim: 4, Partitions: []string{"p1"}}); err != nil {
		t.Fatal(err)
	}
	pk := &milvus.ScanRequest{Database: "default", Collection: "c", BatchRows: 7}
	desc, err := s.Describe(ctx, "default", "c")
	if err != nil {
		t.Fatal(err)
	}
	pk.PrimaryKey = milvus.PrimaryField(desc.GetSchema())
	if _, err := s.Scan(ctx, *pk, func(milvus.Batch) error { return nil }); err == nil || !strings.Contains(err.Error(), "not loaded") {
		t.Fatalf("scan of an unloaded collection: err = %v, want 'not loaded'", err)
	}
	if err := s.Load(ctx, "default", "c", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		partitions []string
		want       int
	}{{nil, 25}, {[]string{"_default"}, 13}, {[]string{"p1"}, 12}}
	for _, tt := range tests {
		req := *pk
		req.Partitions = tt.partitions
		var keys []int64
		res, err := s.Scan(ctx, req, func(b milvus.Batch) error {
			if b.Rows > 7 {
				t.Errorf("batch of %d rows, want at most 7", b.Rows)
			}
			keys = append(keys, b.Fields[0].GetScalars().GetLongData().GetData()...)
			return nil
		})
		if err != nil || res.Rows != int64(tt.want) || len(keys) != tt.want {
			t.Fatalf("scan %v: %d rows (%d keys), %v; want %d", tt.partitions, res.Rows, len(keys), err, tt.want)
		}
		for i := 1; i < len(keys); i++ {
			if keys[i] <= keys[i-1] {
				t.Fatalf("scan %v: key %d after %d, want ascending", tt.partitions, keys[i], keys[i-1])
			}
		}
	}
}

// TestInsertChecksColumns refuses a batch whose columns disagree with its
// row count or lack a field.
func TestInsertChecksColumns(t *testing.T) {
	ctx := context.Background()
	s := fakemilvus.New()
	if err := s.Seed(ctx, fakemilvus.Seed{Name: "c", Rows: 1, Dim: 2}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		fields int // how many of id, title, v to send
		rows   int
		want   string
	}{
		{"short column", 3, 3, "has 2 values, want 3"},
		{"missing field", 2, 2, "field v is missing"},
	}
	for _, tt := range tests {
		cols := []*schemapb.FieldData{
			milvus.Int64Column("id", []int64{10, 11}),
			milvus.VarCharColumn("title", []string{"a", "b"}),
			milvus.FloatVectorColumn("v", 2, []float32{1, 2, 3, 4}),
		}[:tt.fields]
		err := s.Insert(ctx, "default", "c", "", cols, tt.rows)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	if n, _ := s.RowCount(ctx, "default", "c"); n != 1 {
		t.Errorf("row count after refused inserts = %d, want 1", n)
	}
}
