package fakemilvus

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/milvus"
)

// row holds one value per schema field, in schema order: int64, string or
// []float32.
type row []any

// Insert stores a batch of columns; each must have rows values, and every
// field but an auto-id key must be present.
func (s *Server) Insert(ctx context.Context, db, coll, partition string, fields []*schemapb.FieldData, rows int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.enter("insert"); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.get(db, coll)
	if err != nil {
		return err
	}
	if partition == "" {
		partition = "_default"
	}
	if !slices.Contains(c.partitions, partition) {
		return &milvus.PartitionNotFoundError{Database: db, Collection: coll, Partition: partition, Available: c.partitions}
	}
	batch, err := c.toRows(fields, rows)
	if err != nil {
		return fmt.Errorf("insert into %s.%s: %w", db, coll, err)
	}
	c.rows[partition] = append(c.rows[partition], batch...)
	return nil
}

// toRows turns columns into rows, generating keys for an auto-id key.
func (c *collection) toRows(fields []*schemapb.FieldData, n int) ([]row, error) {
	out := make([]row, n)
	for i := range out {
		out[i] = make(row, len(c.schema.Fields))
	}
	for fi, f := range c.schema.Fields {
		if f.GetIsPrimaryKey() && f.GetAutoID() {
			for i := range out {
				out[i][fi] = c.nextKey
				c.nextKey++
			}
			continue
		}
		i := slices.IndexFunc(fields, func(d *schemapb.FieldData) bool { return d.GetFieldName() == f.GetName() })
		if i < 0 {
			return nil, fmt.Errorf("field %s is missing", f.GetName())
		}
		vals, err := values(f, fields[i])
		if err != nil {
			return nil, err
		}
		if len(vals) != n {
			return nil, fmt.Errorf("field %s has %d values, want %d", f.GetName(), len(vals), n)
		}
		for r, v := range vals {
			out[r][fi] = v
		}
	}
	return out, nil
}

// values splits one column into per-row values.
func values(f *schemapb.FieldSchema, d *schemapb.FieldData) ([]any, error) {
	var out []any
	switch f.GetDataType() {
	case schemapb.DataType_Int64:
		for _, v := range d.GetScalars().GetLongData().GetData() {
			out = append(out, v)
		}
	case schemapb.DataType_VarChar:
		for _, v := range d.GetScalars().GetStringData().GetData() {
			out = append(out, v)
		}
	case schemapb.DataType_FloatVector:
		dim := int(d.GetVectors().GetDim())
		flat := d.GetVectors().GetFloatVector().GetData()
		if dim <= 0 || len(flat)%dim != 0 {
			return nil, fmt.Errorf("field %s: %d floats do not make dim-%d vectors", f.GetName(), len(flat), dim)
		}
		for i := 0; i < len(flat); i += dim {
			out = append(out, slices.Clone(flat[i:i+dim]))
		}
	}
	return out, nil
}

// column builds the FieldData of field fi over rows.
func column(f *schemapb.FieldSchema, fi int, rows []row) *schemapb.FieldData {
	switch f.GetDataType() {
	case schemapb.DataType_Int64:
		v := make([]int64, len(rows))
		for i, r := range rows {
			v[i] = r[fi].(int64)
		}
		return milvus.Int64Column(f.GetName(), v)
	case schemapb.DataType_VarChar:
		v := make([]string, len(rows))
		for i, r := range rows {
			v[i] = r[fi].(string)
		}
		return milvus.VarCharColumn(f.GetName(), v)
	}
	var flat []float32
	dim := 0
	for _, r := range rows {
		vec := r[fi].([]float32)
		dim = len(vec)
		flat = append(flat, vec...)
	}
	return milvus.FloatVectorColumn(f.GetName(), dim, flat)
}

// Scan delivers the selected rows in ascending primary-key order (after
// req.After and up to req.Until when set; req.Workers is ignored), in
// batches of req.BatchRows, from a snapshot taken when it starts. Like a
// server, it refuses a collection whose selected partitions are not loaded.
func (s *Server) Scan(ctx context.Context, req milvus.ScanRequest, fn func(milvus.Batch) error) (milvus.ScanResult, error) {
	c, rows, err := s.snapshot(req)
	if err != nil {
		return milvus.ScanResult{}, err
	}
	var res milvus.ScanResult
	for start := 0; start < len(rows); start += req.BatchRows {
		if err := s.step(ctx, "scan"); err != nil {
			return res, fmt.Errorf("read %s.%s: %w", req.Database, req.Collection, err)
		}
		b := rows[start:min(start+req.BatchRows, len(rows))]
		fields := make([]*schemapb.FieldData, len(c.schema.Fields))
		for fi, f := range c.schema.Fields {
			fields[fi] = column(f, fi, b)
		}
		if err := fn(milvus.Batch{Fields: fields, Rows: len(b)}); err != nil {
			return res, err
		}
		res.Rows += int64(len(b))
	}
	return res, nil
}

// step runs the hook for op outside a snapshot and checks ctx.
func (s *Server) step(ctx context.Context, op string) error {
	s.mu.Lock()
	err := s.enter(op)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return ctx.Err()
}

// snapshot returns the collection and a sorted copy of the selected rows.
func (s *Server) snapshot(req milvus.ScanRequest) (*collection, []row, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.get(req.Database, req.Collection)
	if err != nil {
		return nil, nil, err
	}
	if req.BatchRows <= 0 {
		return nil, nil, fmt.Errorf("read %s.%s: batch size %d", req.Database, req.Collection, req.BatchRows)
	}
	parts := req.Partitions
	if len(parts) == 0 {
		parts = c.partitions
	}
	var rows []row
	for _, p := range parts {
		if !c.loaded[p] {
			return nil, nil, fmt.Errorf("read %s.%s: partition %s is not loaded", req.Database, req.Collection, p)
		}
		rows = append(rows, c.rows[p]...)
	}
	pk := slices.IndexFunc(c.schema.Fields, func(f *schemapb.FieldSchema) bool { return f.GetIsPrimaryKey() })
	slices.SortFunc(rows, func(a, b row) int { return compareKeys(a[pk], b[pk]) })
	// After and Until bound the keys, as the real scan does.
	rows = slices.DeleteFunc(rows, func(r row) bool {
		return (req.After != nil && compareKeys(r[pk], req.After) <= 0) || (req.Until != nil && compareKeys(r[pk], req.Until) > 0)
	})
	return c, rows, nil
}

func compareKeys(a, b any) int {
	if x, ok := a.(int64); ok {
		return cmp.Compare(x, b.(int64))
	}
	return cmp.Compare(a.(string), b.(string))
}

// Rows returns the rows of db.coll (all partitions), sorted by primary key,
// as maps from field name to value, for tests to compare.
func (s *Server) Rows(db, coll string) ([]map[string]any, error) {
	s.mu.Lock()
	c, err := s.get(db, coll)
	var rows []row
	if err == nil {
		for _, p := range c.partitions {
			rows = append(rows, c.rows[p]...)
		}
	}
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	pk := slices.IndexFunc(c.schema.Fields, func(f *schemapb.FieldSchema) bool { return f.GetIsPrimaryKey() })
	slices.SortFunc(rows, func(a, b row) int { return compareKeys(a[pk], b[pk]) })
	out := make([]map[string]any, len(rows))
	for i, r := range rows {
		out[i] = map[string]any{}
		for fi, f := range c.schema.Fields {
			out[i][f.GetName()] = r[fi]
		}
	}
	return out, nil
}

func fieldIndex(s *schemapb.CollectionSchema, name string) int {
	return slices.IndexFunc(s.GetFields(), func(f *schemapb.FieldSchema) bool { return f.GetName() == name })
}
