package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/columnar"
)

// column says how to encode one stored field as text.
type column struct {
	name    string
	rawJSON bool // the column holds JSON text (JSON, $meta, sparse vectors)
}

func columnsOf(schema *schemapb.CollectionSchema) []column {
	var out []column
	for _, f := range columnar.StoredFields(schema) {
		dt := f.GetDataType()
		out = append(out, column{name: f.GetName(), rawJSON: dt == schemapb.DataType_JSON || dt == schemapb.DataType_SparseFloatVector})
	}
	return out
}

// value returns row i of arr as a value encoding/json writes as the
// exported form: lists as JSON arrays of numbers (bytes too), JSON text as
// itself, nulls as nil.
func value(arr arrow.Array, i int, rawJSON bool) (any, error) {
	if arr.IsNull(i) {
		return nil, nil
	}
	switch a := arr.(type) {
	case *array.List:
		start, end := a.ValueOffsets(i)
		items := make([]any, 0, end-start)
		for j := int(start); j < int(end); j++ {
			v, err := value(a.ListValues(), j, false)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		return items, nil
	case *array.String:
		if rawJSON {
			raw := json.RawMessage(a.Value(i))
			if !json.Valid(raw) {
				return nil, fmt.Errorf("row %d holds invalid JSON", i)
			}
			return raw, nil
		}
		return a.Value(i), nil
	}
	return arr.GetOneForMarshal(i), nil
}

// jsonlEncoder writes one JSON object per row, keys in field order.
type jsonlEncoder struct {
	cols []column
	w    *bufio.Writer
}

func newJSONLEncoder(schema *schemapb.CollectionSchema, w io.Writer) *jsonlEncoder {
	return &jsonlEncoder{cols: columnsOf(schema), w: bufio.NewWriterSize(w, 64<<10)}
}

func (e *jsonlEncoder) Write(rec arrow.RecordBatch) error {
	for i := 0; i < int(rec.NumRows()); i++ {
		e.w.WriteByte('{')
		for c, col := range e.cols {
			if c > 0 {
				e.w.WriteByte(',')
			}
			v, err := value(rec.Column(c), i, col.rawJSON)
			if err != nil {
				return fmt.Errorf("field %s: %w", col.name, err)
			}
			if err := writeJSON(e.w, col.name); err != nil {
				return err
			}
			e.w.WriteByte(':')
			if err := writeJSON(e.w, v); err != nil {
				return fmt.Errorf("field %s, row %d: %w", col.name, i, err)
			}
		}
		e.w.WriteString("}\n")
	}
	return nil
}

func (e *jsonlEncoder) Close() error { return e.w.Flush() }

// writeJSON writes v without the newline json.Encoder adds.
func writeJSON(w *bufio.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = w.Write(data)
	return err
}

// csvEncoder writes a header of field names, then one line per row: text
// as is, numbers and booleans as JSON writes them, lists and JSON values
// as JSON text, nulls as empty cells.
type csvEncoder struct {
	cols   []column
	w      *csv.Writer
	header bool
	cells  []string
}

func newCSVEncoder(schema *schemapb.CollectionSchema, w io.Writer) *csvEncoder {
	return &csvEncoder{cols: columnsOf(schema), w: csv.NewWriter(w)}
}

func (e *csvEncoder) Write(rec arrow.RecordBatch) error {
	if err := e.writeHeader(); err != nil {
		return err
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		e.cells = e.cells[:0]
		for c, col := range e.cols {
			cell, err := csvCell(rec.Column(c), i, col.rawJSON)
			if err != nil {
				return fmt.Errorf("field %s, row %d: %w", col.name, i, err)
			}
			e.cells = append(e.cells, cell)
		}
		if err := e.w.Write(e.cells); err != nil {
			return err
		}
	}
	return nil
}

func (e *csvEncoder) writeHeader() error {
	if e.header {
		return nil
	}
	e.header = true
	names := make([]string, len(e.cols))
	for i, c := range e.cols {
		names[i] = c.name
	}
	return e.w.Write(names)
}

func csvCell(arr arrow.Array, i int, rawJSON bool) (string, error) {
	v, err := value(arr, i, rawJSON)
	if err != nil || v == nil {
		return "", err
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	data, err := json.Marshal(v)
	return string(data), err
}

// Close writes the header of a file without rows, then flushes.
func (e *csvEncoder) Close() error {
	if err := e.writeHeader(); err != nil {
		return err
	}
	e.w.Flush()
	return e.w.Error()
}
