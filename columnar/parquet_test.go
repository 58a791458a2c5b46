package columnar

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// closeRecorder is a writer that notes whether it was closed.
type closeRecorder struct {
	bytes.Buffer
	closed bool
}

func (c *closeRecorder) Close() error {
	c.closed = true
	return nil
}

// writeFile writes records of 10 rows each of fields to a Parquet file.
func writeFile(t *testing.T, fields []testField, records int, opts WriterOptions) (*closeRecorder, *FileWriter) {
	t.Helper()
	coll := schemaOf("c", fields, false)
	sch, err := ArrowSchema(coll)
	if err != nil {
		t.Fatal(err)
	}
	out := &closeRecorder{}
	fw, err := NewFileWriter(out, sch, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewBuilder(memory.DefaultAllocator, coll)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for i := 0; i < records; i++ {
		rows := rowRange(10*i, 10*i+10)
		if err := b.Append(columns(t, fields, rows, compactNulls), len(rows)); err != nil {
			t.Fatal(err)
		}
		writeRecord(t, b, fw)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	return out, fw
}

func TestFileWriterOptions(t *testing.T) {
	fields := []testField{pkField(), vectorFields()[0], scalarFields()[7]}
	tests := []struct {
		name  string
		opts  WriterOptions
		codec compress.Compression
	}{
		{"default is zstd", WriterOptions{}, compress.Codecs.Zstd},
		{"zstd level 22", WriterOptions{Compression: "zstd", Level: 22}, compress.Codecs.Zstd},
		{"none", WriterOptions{Compression: "none"}, compress.Codecs.Uncompressed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Metadata = map[string]string{"collection": "c", "note": "ünïcode"}
			out, fw := writeFile(t, fields, 3, tt.opts)
			if out.closed {
				t.Error("Close closed the underlying writer")
			}
			if fw.BytesWritten() != int64(out.Len()) {
				t.Errorf("BytesWritten = %d, file has %d bytes", fw.BytesWritten(), out.Len())
			}
			pf, err := file.NewParquetReader(bytes.NewReader(out.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			if pf.NumRowGroups() != 3 {
				t.Errorf("%d row groups, want one per Write (3)", pf.NumRowGroups())
			}
			cc, err := pf.MetaData().RowGroup(0).ColumnChunk(1)
			if err != nil {
				t.Fatal(err)
			}
			if got := cc.Compression(); got != tt.codec {
				t.Errorf("compression %v, want %v", got, tt.codec)
			}
			// Vectors carry no min/max statistics; scalars keep theirs.
			if set, _ := cc.StatsSet(); set {
				t.Errorf("vector column %s has statistics", cc.PathInSchema())
			}
			if pk, _ := pf.MetaData().RowGroup(0).ColumnChunk(0); pk != nil {
				if set, _ := pk.StatsSet(); !set {
					t.Errorf("primary key column %s has no statistics", pk.PathInSchema())
				}
			}
			r, err := OpenFile(context.Background(), bytes.NewReader(out.Bytes()), schemaOf("c", fields, false), 100)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got := r.Metadata(); len(got) != 2 || got["collection"] != "c" || got["note"] != "ünïcode" {
				t.Errorf("metadata %v, want the two keys written", got)
			}
		})
	}
}

func TestNewFileWriterRejectsBadOptions(t *testing.T) {
	sch, err := ArrowSchema(schemaOf("c", []testField{pkField()}, false))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts WriterOptions
		want string
	}{
		{"level too high", WriterOptions{Level: 23}, "zstd level 23 is not in [1, 22]"},
		{"negative level", WriterOptions{Compression: "zstd", Level: -1}, "zstd level -1"},
		{"unknown codec", WriterOptions{Compression: "snappy"}, `unknown compression "snappy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewFileWriter(io.Discard, sch, tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestOpenFileBatches(t *testing.T) {
	fields := []testField{pkField(), arrayFields()[7]}
	out, _ := writeFile(t, fields, 3, WriterOptions{})
	r, err := OpenFile(context.Background(), bytes.NewReader(out.Bytes()), schemaOf("c", fields, false), 7)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var sizes []int64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, rec.NumRows())
		rec.Release()
	}
	total := int64(0)
	for _, n := range sizes {
		if n > 7 {
			t.Errorf("batch of %d rows, want at most 7", n)
		}
		total += n
	}
	if total != 30 || r.NumRows() != 30 {
		t.Errorf("read %d rows in %v, NumRows %d, want 30", total, sizes, r.NumRows())
	}
	if _, err := r.Next(); !errors.Is(err, io.EOF) {
		t.Errorf("Next after the end: %v, want io.EOF", err)
	}
}

func TestOpenFileChecksSchema(t *testing.T) {
	fields := []testField{pkField(), vectorFields()[0], scalarFields()[7]}
	out, _ := writeFile(t, fields, 1, WriterOptions{})
	binary := []testField{pkField(), {&schemapb.FieldSchema{Name: "v_float", DataType: schemapb.DataType_BinaryVector, TypeParams: params("dim", "8")}, nil}, fields[2]}
	tests := []struct {
		name   string
		fields []testField
		want   string
	}{
		{"field added", append(append([]testField{}, fields...), scalarFields()[0]), `column "f_bool": missing`},
		{"field dropped", fields[:2], `column "f_varchar": not a stored field of the collection`},
		{"type changed", binary, `float32, nullable>, want list<item: uint8, nullable>`},
		{"order changed", []testField{fields[0], fields[2], fields[1]}, `column "f_varchar": found column "v_float" in its place`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenFile(context.Background(), bytes.NewReader(out.Bytes()), schemaOf("c", tt.fields, false), 10)
			var sme *SchemaMismatchError
			if !errors.As(err, &sme) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want a SchemaMismatchError containing %q", err, tt.want)
			}
		})
	}
}

func TestOpenFileRejectsBadInput(t *testing.T) {
	coll := schemaOf("c", []testField{pkField()}, false)
	if _, err := OpenFile(context.Background(), bytes.NewReader([]byte("not parquet at all")), coll, 10); err == nil {
		t.Error("opened a file that is not Parquet")
	}
	out, _ := writeFile(t, []testField{pkField()}, 1, WriterOptions{})
	if _, err := OpenFile(context.Background(), bytes.NewReader(out.Bytes()), coll, 0); err == nil {
		t.Error("opened with a batch size of 0")
	}
}

func TestFileWriterRejectsOtherSchemas(t *testing.T) {
	sch, err := ArrowSchema(schemaOf("c", []testField{pkField()}, false))
	if err != nil {
		t.Fatal(err)
	}
	fw, err := NewFileWriter(io.Discard, sch, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := []testField{pkField(), scalarFields()[0]}
	b, err := NewBuilder(memory.DefaultAllocator, schemaOf("c", other, false))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	if err := b.Append(columns(t, other, rowRange(0, 2), compactNulls), 2); err != nil {
		t.Fatal(err)
	}
	rec := b.NewRecord()
	defer rec.Release()
	if err := fw.Write(rec); err == nil || !strings.Contains(err.Error(), "schema") {
		t.Errorf("got %v, want a schema error", err)
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fw.Write(rec); err == nil {
		t.Error("Write after Close succeeded")
	}
}
