package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/repo"
)

// textColumns types the named columns of a text file by the target's
// fields: a column is its field's Arrow type (utf8 when no field has its
// name, which the plan then reports), and rawJSON says it holds JSON values
// stored as JSON text (JSON fields, $meta, sparse vectors).
func textColumns(target *schemapb.CollectionSchema, names []string) (*arrow.Schema, []bool, error) {
	full, err := columnar.ArrowSchema(target)
	if err != nil {
		return nil, nil, err
	}
	kinds := map[string]schemapb.DataType{}
	for _, f := range columnar.StoredFields(target) {
		kinds[f.GetName()] = f.GetDataType()
	}
	fields := make([]arrow.Field, len(names))
	raw := make([]bool, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String, Nullable: true}
		if idx := full.FieldIndices(n); len(idx) > 0 {
			fields[i].Type = full.Field(idx[0]).Type
		}
		raw[i] = kinds[n] == schemapb.DataType_JSON || kinds[n] == schemapb.DataType_SparseFloatVector
	}
	return arrow.NewSchema(fields, nil), raw, nil
}

// appendValue appends a decoded JSON value (json.Number for numbers) to b.
func appendValue(b array.Builder, v any, rawJSON bool) error {
	if v == nil {
		b.AppendNull()
		return nil
	}
	switch b := b.(type) {
	case *array.StringBuilder:
		if rawJSON {
			data, err := json.Marshal(v)
			b.Append(string(data))
			return err
		}
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("%v is not a string", v)
		}
		b.Append(s)
	case *array.BooleanBuilder:
		x, ok := v.(bool)
		if !ok {
			return fmt.Errorf("%v is not a boolean", v)
		}
		b.Append(x)
	case *array.ListBuilder:
		items, ok := v.([]any)
		if !ok {
			return fmt.Errorf("%v is not a list", v)
		}
		b.Append(true)
		for _, it := range items {
			if err := appendValue(b.ValueBuilder(), it, false); err != nil {
				return err
			}
		}
	default:
		return appendNumber(b, v)
	}
	return nil
}

// appendNumber appends a JSON number to a numeric builder, refusing values
// that do not fit its type.
func appendNumber(b array.Builder, v any) error {
	n, ok := v.(json.Number)
	if !ok {
		return fmt.Errorf("%v is not a number", v)
	}
	s := n.String()
	var err error
	switch b := b.(type) {
	case *array.Int8Builder:
		var x int64
		x, err = strconv.ParseInt(s, 10, 8)
		b.Append(int8(x))
	case *array.Int16Builder:
		var x int64
		x, err = strconv.ParseInt(s, 10, 16)
		b.Append(int16(x))
	case *array.Int32Builder:
		var x int64
		x, err = strconv.ParseInt(s, 10, 32)
		b.Append(int32(x))
	case *array.Int64Builder:
		var x int64
		x, err = strconv.ParseInt(s, 10, 64)
		b.Append(x)
	case *array.Uint8Builder:
		var x uint64
		x, err = strconv.ParseUint(s, 10, 8)
		b.Append(uint8(x))
	case *array.Float32Builder:
		var x float64
		x, err = strconv.ParseFloat(s, 32)
		b.Append(float32(x))
	case *array.Float64Builder:
		var x float64
		x, err = strconv.ParseFloat(s, 64)
		b.Append(x)
	default:
		return fmt.Errorf("no text decoding for column type %s", b.Type())
	}
	return err
}

// textRecords builds record batches from rows of decoded values.
type textRecords struct {
	schema    *arrow.Schema
	raw       []bool
	batchRows int64
	next      func() ([]any, error) // one row in column order; io.EOF at the end
	line      int
	closer    io.Closer
}

func (t *textRecords) Schema() *arrow.Schema { return t.schema }
func (t *textRecords) Close() error          { return t.closer.Close() }

func (t *textRecords) Next() (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, t.schema)
	defer b.Release()
	rows := int64(0)
	for rows < t.batchRows {
		vals, err := t.next()
		if errors.Is(err, io.EOF) {
			break
		}
		t.line++
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", t.line, err)
		}
		for i, v := range vals {
			if err := appendValue(b.Field(i), v, t.raw[i]); err != nil {
				return nil, fmt.Errorf("line %d, column %s: %w", t.line, t.schema.Field(i).Name, err)
			}
		}
		rows++
	}
	if rows == 0 {
		return nil, io.EOF
	}
	return b.NewRecordBatch(), nil
}

// openJSONL reads JSON lines whose first line names the columns (every
// line must have the same keys, as export writes them).
func openJSONL(ctx context.Context, src repo.Store, name string, target *schemapb.CollectionSchema, batchRows int64) (*textRecords, error) {
	rc, err := src.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(rc, 1<<20)
	first, err := br.Peek(1)
	var names []string
	if err == nil && len(first) > 0 {
		names, err = jsonlKeys(br)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, fmt.Errorf("line 1: %w", err)
	}
	sch, raw, err := textColumns(target, names)
	if err != nil {
		rc.Close()
		return nil, err
	}
	dec := json.NewDecoder(br)
	dec.UseNumber()
	next := func() ([]any, error) {
		var row map[string]any
		if err := dec.Decode(&row); err != nil {
			return nil, err
		}
		if len(row) != len(names) {
			return nil, fmt.Errorf("%d keys, the first line has %d", len(row), len(names))
		}
		vals := make([]any, len(names))
		for i, n := range names {
			v, ok := row[n]
			if !ok {
				return nil, fmt.Errorf("no key %q", n)
			}
			vals[i] = v
		}
		return vals, nil
	}
	return &textRecords{schema: sch, raw: raw, batchRows: batchRows, next: next, closer: rc}, nil
}

// jsonlKeys returns the keys of the first line, in their order, without
// consuming it.
func jsonlKeys(br *bufio.Reader) ([]string, error) {
	line, err := br.Peek(br.Size()) // less than Size only at the end of the file
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	} else if err == nil {
		return nil, fmt.Errorf("the first line is longer than %d bytes", br.Size())
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (%v)", err)
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// openCSV reads CSV with a header of column names: text fields take the
// cell as is (an empty cell is null only in a nullable text field), other
// cells are JSON values and empty cells nulls.
func openCSV(ctx context.Context, src repo.Store, name string, target *schemapb.CollectionSchema, batchRows int64) (*textRecords, error) {
	rc, err := src.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	r := csv.NewReader(bufio.NewReaderSize(rc, 1<<20))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, fmt.Errorf("header: %w", err)
	}
	names := append([]string(nil), header...)
	sch, raw, err := textColumns(target, names)
	if err != nil {
		rc.Close()
		return nil, err
	}
	nullable := map[string]bool{}
	for _, f := range columnar.StoredFields(target) {
		nullable[f.GetName()] = f.GetNullable()
	}
	next := func() ([]any, error) {
		cells, err := r.Read()
		if err != nil {
			return nil, err
		}
		vals := make([]any, len(cells))
		for i, c := range cells {
			if vals[i], err = csvValue(c, sch.Field(i), raw[i], nullable[names[i]]); err != nil {
				return nil, fmt.Errorf("column %s: %w", names[i], err)
			}
		}
		return vals, nil
	}
	return &textRecords{schema: sch, raw: raw, batchRows: batchRows, next: next, closer: rc}, nil
}

func csvValue(cell string, f arrow.Field, rawJSON, nullable bool) (any, error) {
	text := f.Type.ID() == arrow.STRING && !rawJSON
	switch {
	case cell == "" && (!text || nullable):
		return nil, nil
	case text:
		return cell, nil
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(cell)))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}
