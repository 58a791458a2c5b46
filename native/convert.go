package native

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// ConvertDeps are the services a conversion uses.
type ConvertDeps struct {
	Repo        *repo.Repository
	Progress    progress.Progress // nil means none
	ToolVersion string
	Lock        *repo.Lock // see backup.Deps.Lock
	// ChunkBytes is about how much raw row data is decoded and sorted at
	// once; 0 means DefaultConvertChunkBytes.
	ChunkBytes int
}

// Convert writes a logical (Parquet) backup of native backup m into the
// same repository, offline: it decodes m's segment files, drops the rows
// their delete logs delete (and older versions of upserted rows), sorts
// the rest by primary key and writes them as backup.Run does. Schema,
// partitions, indexes, aliases and load state are taken from m. The result
// restores by inserts into any server (Milvus Lite included) and supports
// deep verification. p names the new backup and sets its file options; its
// selection is ignored (every collection of m is converted). Memory does
// not grow with a partition's data: it holds the partition's primary keys
// (tens of bytes a row), the collection's deletes, one decoded segment and
// one chunk of about deps.ChunkBytes of rows (see scanChunked).
func Convert(ctx context.Context, deps ConvertDeps, m *manifest.Manifest, p backup.Params) (*backup.Result, error) {
	if !m.IsNative() {
		return nil, fmt.Errorf("backup %s is already a logical backup", m.ID)
	}
	src := &binlogSource{m: m, repo: deps.Repo, chunkBytes: cmp.Or(deps.ChunkBytes, DefaultConvertChunkBytes)}
	p.AllDatabases, p.Database, p.Collections, p.Partitions = true, "", nil, nil
	return backup.Run(ctx, backup.Deps{Milvus: src, Repo: deps.Repo, Progress: deps.Progress,
		ToolVersion: deps.ToolVersion, Lock: deps.Lock}, p)
}

// binlogSource serves a native backup's collections as backup.Milvus does
// a live server's.
type binlogSource struct {
	m          *manifest.Manifest
	repo       *repo.Repository
	chunkBytes int
}

var _ backup.Milvus = (*binlogSource)(nil)

func (s *binlogSource) Address() string { return "native backup " + s.m.ID }
func (s *binlogSource) Version() string { return s.m.Milvus.Version }

func (s *binlogSource) ListDatabases(context.Context) ([]string, error) {
	var out []string
	for _, c := range s.m.Collections {
		if !slices.Contains(out, c.Database) {
			out = append(out, c.Database)
		}
	}
	return out, nil
}

func (s *binlogSource) CheckDatabase(ctx context.Context, db string) error {
	dbs, _ := s.ListDatabases(ctx)
	if !slices.Contains(dbs, db) {
		return &milvus.DatabaseNotFoundError{Database: db, Available: dbs}
	}
	return nil
}

func (s *binlogSource) ListCollections(_ context.Context, db string) ([]string, error) {
	var out []string
	for _, c := range s.m.Collections {
		if c.Database == db {
			out = append(out, c.Name)
		}
	}
	return out, nil
}

func (s *binlogSource) coll(db, name string) (*manifest.Collection, error) {
	for i := range s.m.Collections {
		if c := &s.m.Collections[i]; c.Database == db && c.Name == name {
			return c, nil
		}
	}
	return nil, &milvus.CollectionNotFoundError{Database: db, Collection: name}
}

func (s *binlogSource) Describe(_ context.Context, db, name string) (*milvuspb.DescribeCollectionResponse, error) {
	c, err := s.coll(db, name)
	if err != nil {
		return nil, err
	}
	schema, err := decodeSchema(c)
	if err != nil {
		return nil, err
	}
	resp := &milvuspb.DescribeCollectionResponse{Schema: schema, CollectionID: c.ID, ShardsNum: c.ShardsNum,
		ConsistencyLevel: commonpb.ConsistencyLevel(commonpb.ConsistencyLevel_value[c.ConsistencyLevel]),
		Aliases:          c.Aliases, NumPartitions: c.NumPartitions, CollectionName: c.Name, DbName: c.Database}
	for k, v := range c.Properties {
		resp.Properties = append(resp.Properties, &commonpb.KeyValuePair{Key: k, Value: v})
	}
	return resp, nil
}

func decodeSchema(c *manifest.Collection) (*schemapb.CollectionSchema, error) {
	var schema schemapb.CollectionSchema
	if err := protojson.Unmarshal(c.Schema, &schema); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", c.QualifiedName(), err)
	}
	return &schema, nil
}

func (s *binlogSource) Partitions(_ context.Context, db, coll string) ([]string, error) {
	c, err := s.coll(db, coll)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range c.Partitions {
		out = append(out, p.Name)
	}
	return out, nil
}

func (s *binlogSource) Indexes(_ context.Context, db, coll string) ([]*milvuspb.IndexDescription, error) {
	c, err := s.coll(db, coll)
	if err != nil {
		return nil, err
	}
	var out []*milvuspb.IndexDescription
	for _, idx := range c.Indexes {
		d := &milvuspb.IndexDescription{IndexName: idx.Name, FieldName: idx.Field}
		for k, v := range idx.Params {
			d.Params = append(d.Params, &commonpb.KeyValuePair{Key: k, Value: v})
		}
		out = append(out, d)
	}
	return out, nil
}

func (s *binlogSource) Aliases(_ context.Context, db, coll string) ([]string, error) {
	c, err := s.coll(db, coll)
	if err != nil {
		return nil, err
	}
	return c.Aliases, nil
}

func (s *binlogSource) LoadState(_ context.Context, db, coll string, partitions ...string) (string, error) {
	c, err := s.coll(db, coll)
	if err != nil {
		return "", err
	}
	if len(partitions) == 1 && len(c.LoadedPartitions) > 0 {
		if slices.Contains(c.LoadedPartitions, partitions[0]) {
			return milvus.LoadStateLoaded, nil
		}
		return "not_loaded", nil
	}
	return c.LoadState, nil
}

func (s *binlogSource) RowCount(_ context.Context, db, coll string) (int64, error) {
	c, err := s.coll(db, coll)
	if err != nil {
		return 0, err
	}
	return c.ServerRowCount, nil
}

func (s *binlogSource) Flush(context.Context, string, string) (uint64, error) {
	return s.m.Snapshot.Timestamp, nil
}

func (s *binlogSource) Load(context.Context, string, string, []string) error { return nil }
func (s *binlogSource) Release(context.Context, string, string) error        { return nil }

// Scan decodes the selected partition's segment files and streams its live
// rows in primary-key order.
func (s *binlogSource) Scan(ctx context.Context, req milvus.ScanRequest, fn func(milvus.Batch) error) (milvus.ScanResult, error) {
	c, err := s.coll(req.Database, req.Collection)
	if err != nil {
		return milvus.ScanResult{}, err
	}
	if len(req.Partitions) > 1 {
		return milvus.ScanResult{}, errors.New("converting a native backup reads one partition at a time")
	}
	schema, err := decodeSchema(c)
	if err != nil {
		return milvus.ScanResult{}, err
	}
	part := "" // a partition-key collection is read whole
	if len(req.Partitions) == 1 {
		part = req.Partitions[0]
	}
	var segs []manifest.Segment
	for _, seg := range c.Segments {
		if part == "" || seg.Partition == part {
			segs = append(segs, seg)
		}
	}
	deletes, err := s.readDeletes(ctx, c)
	if err != nil {
		return milvus.ScanResult{}, fmt.Errorf("decode delete logs of %s: %w", c.QualifiedName(), err)
	}
	res, err := s.scanChunked(ctx, schema, segs, deletes, max(req.BatchRows, 1), fn)
	if err != nil {
		return res, fmt.Errorf("decode segment files of %s: %w", c.QualifiedName(), err)
	}
	return res, nil
}

// table is a chunk of a partition's decoded rows: one concatenated column
// per field id, and the order in which to emit them.
type table struct {
	cols map[int64]arrow.Array
	live []int
}

func (t *table) release() {
	for _, c := range t.cols {
		c.Release()
	}
}

func logNumber(id string) int64 { n, _ := strconv.ParseInt(id, 10, 64); return n }

// readBinlog reads a stored segment file (checked against its digest) and
// decodes its events.
func (s *binlogSource) readBinlog(ctx context.Context, f manifest.File) ([]arrow.Array, error) {
	var buf bytes.Buffer
	if err := s.repo.ReadFile(ctx, f, &buf); err != nil {
		return nil, err
	}
	payloads, err := binlogPayloads(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Path, err)
	}
	var out []arrow.Array
	for _, p := range payloads {
		a, err := payloadColumn(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Path, err)
		}
		out = append(out, a)
	}
	return out, nil
}

// readDeletes returns, per primary key, the latest delete timestamp of
// every delta log of the collection.
func (s *binlogSource) readDeletes(ctx context.Context, c *manifest.Collection) (map[any]uint64, error) {
	out := map[any]uint64{}
	for _, seg := range c.Segments {
		for _, b := range seg.Binlogs {
			if b.Kind != manifest.BinlogDelta {
				continue
			}
			arrs, err := s.readBinlog(ctx, b.File)
			if err != nil {
				return nil, err
			}
			for _, a := range arrs {
				err := eachString(a, func(v string) error {
					d, err := parseDelete(v)
					if err == nil {
						out[d.PK] = max(out[d.PK], d.TS)
					}
					return err
				})
				a.Release()
				if err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

func eachString(a arrow.Array, fn func(string) error) error {
	s, ok := a.(*array.String)
	if !ok {
		return fmt.Errorf("delta log column is %s, want utf8", a.DataType())
	}
	for i := range s.Len() {
		if err := fn(s.Value(i)); err != nil {
			return err
		}
	}
	return nil
}

// timestampField is the field id of every row's write timestamp.
const timestampField = 1

func keyReader(a arrow.Array) func(int) any {
	switch k := a.(type) {
	case *array.Int64:
		return func(i int) any { return k.Value(i) }
	case *array.String:
		return func(i int) any { return k.Value(i) }
	}
	return nil
}

func compareKeys(a, b any) int {
	if x, ok := a.(int64); ok {
		return cmp.Compare(x, b.(int64))
	}
	return cmp.Compare(a.(string), b.(string))
}

// emit streams the live rows in batches of n.
func (t *table) emit(schema *schemapb.CollectionSchema, n int, fn func(milvus.Batch) error) (milvus.ScanResult, error) {
	var res milvus.ScanResult
	for start := 0; start < len(t.live); start += n {
		rows := t.live[start:min(start+n, len(t.live))]
		var fields []*schemapb.FieldData
		for _, f := range schema.GetFields() {
			col, ok := t.cols[f.GetFieldID()]
			if !ok {
				return res, fmt.Errorf("segment files have no column for field %s (%d)", f.GetName(), f.GetFieldID())
			}
			fd, err := fieldData(f, col, rows)
			if err != nil {
				return res, err
			}
			fields = append(fields, fd)
		}
		if err := fn(milvus.Batch{Fields: fields, Rows: len(rows)}); err != nil {
			return res, err
		}
		res.Rows += int64(len(rows))
	}
	return res, nil
}
