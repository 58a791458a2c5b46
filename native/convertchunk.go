package native

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// DefaultConvertChunkBytes is about how much raw row data one chunk of a
// conversion holds (see scanChunked).
const DefaultConvertChunkBytes = 64 << 20

// liveRow is one live row of a partition being converted: its primary
// key, and where it is (segment index, row in the segment).
type liveRow struct {
	key any
	ts  int64
	seg int
	row int
}

// scanChunked streams the live rows of segs in primary-key order with
// bounded memory. A first pass reads only the primary-key and timestamp
// columns of each segment and keeps, per key, the newest version that no
// later delete removed (deletes: the latest delete timestamp per key). The
// sorted live rows are then cut into chunks of about s.chunkBytes of
// raw data; for each chunk, the binlogs holding its rows are decoded one
// segment at a time, its rows taken out, and the chunk emitted in key
// order. Memory: the keys of the partition (tens of bytes a row), the
// binlogs of one segment that hold a chunk's rows (Milvus writes a binlog
// per field per flush or compaction), and one chunk. A binlog whose rows
// fall in k chunks is decoded k times (about once when keys grow with
// insertion, as auto ids do).
func (s *binlogSource) scanChunked(ctx context.Context, schema *schemapb.CollectionSchema, segs []manifest.Segment, deletes map[any]uint64, batch int, fn func(milvus.Batch) error) (milvus.ScanResult, error) {
	var res milvus.ScanResult
	live, ends, err := s.liveRows(ctx, schema, segs, deletes)
	if err != nil {
		return res, err
	}
	chunk := max(1, s.chunkBytes/milvus.EstimateRowBytes(schema))
	for start := 0; start < len(live); start += chunk {
		t, err := s.decodeChunk(ctx, segs, ends, live[start:min(start+chunk, len(live))])
		if err != nil {
			return res, err
		}
		r, err := t.emit(schema, batch, fn)
		t.release()
		res.Rows += r.Rows
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// liveRows is the first pass of scanChunked: the live rows of segs, sorted
// by primary key, and for each segment where each of its primary-key
// binlogs ends (cumulative row counts; every field's binlogs split the
// rows alike, so a chunk reads only the binlogs holding its rows).
func (s *binlogSource) liveRows(ctx context.Context, schema *schemapb.CollectionSchema, segs []manifest.Segment, deletes map[any]uint64) ([]liveRow, [][]int, error) {
	pk := milvus.PrimaryField(schema)
	if pk == nil {
		return nil, nil, errors.New("no primary key field")
	}
	newest := map[any]liveRow{}
	ends := make([][]int, len(segs))
	for i, seg := range segs {
		logs := insertLogs(seg)
		keys, segEnds, err := s.readLogs(ctx, logs[pk.GetFieldID()], nil)
		if err != nil {
			return nil, nil, fmt.Errorf("segment %d: %w", seg.ID, err)
		}
		ts, _, err := s.readLogs(ctx, logs[timestampField], nil)
		if err == nil {
			err = eachKey(keys, ts, func(row int, key any, ts int64) {
				if old, seen := newest[key]; !seen || ts > old.ts {
					newest[key] = liveRow{key: key, ts: ts, seg: i, row: row}
				}
			})
		}
		release(keys)
		release(ts)
		if err != nil {
			return nil, nil, fmt.Errorf("segment %d: %w", seg.ID, err)
		}
		ends[i] = segEnds
	}
	out := make([]liveRow, 0, len(newest))
	for k, r := range newest {
		// A delete removes rows written strictly before it: an upsert's
		// delete and insert share one timestamp (Milvus 2.3).
		if del, ok := deletes[k]; !ok || del <= uint64(r.ts) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b liveRow) int { return compareKeys(a.key, b.key) })
	return out, ends, nil
}

// insertLogs returns the insert logs of seg by field id, each field's in
// log-id order.
func insertLogs(seg manifest.Segment) map[int64][]manifest.Binlog {
	out := map[int64][]manifest.Binlog{}
	for _, b := range seg.Binlogs {
		if b.Kind == manifest.BinlogInsert {
			out[b.Field] = append(out[b.Field], b)
		}
	}
	for _, logs := range out {
		slices.SortFunc(logs, func(a, b manifest.Binlog) int { return cmp.Compare(logNumber(a.LogID), logNumber(b.LogID)) })
	}
	return out
}

// readLogs decodes the binlogs of logs that pick accepts (by index; nil
// accepts all), and returns where each binlog of logs ends (cumulative
// rows, counted only over the ones read when pick is set).
func (s *binlogSource) readLogs(ctx context.Context, logs []manifest.Binlog, pick func(k int) bool) ([]arrow.Array, []int, error) {
	var out []arrow.Array
	var ends []int
	n := 0
	for k, b := range logs {
		if pick != nil && !pick(k) {
			continue
		}
		arrs, err := s.readBinlog(ctx, b.File)
		if err != nil {
			release(out)
			return nil, nil, fmt.Errorf("field %d: %w", b.Field, err)
		}
		for _, a := range arrs {
			n += a.Len()
		}
		out, ends = append(out, arrs...), append(ends, n)
	}
	return out, ends, nil
}

func release(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// eachKey calls fn for every row of a segment's key and timestamp chunks.
func eachKey(keys, ts []arrow.Array, fn func(row int, key any, ts int64)) error {
	if len(keys) == 0 && len(ts) == 0 {
		return nil // a segment without rows
	}
	row := 0
	ti, toff := 0, 0
	for _, kc := range keys {
		key := keyReader(kc)
		if key == nil {
			return fmt.Errorf("primary key column is %s", kc.DataType())
		}
		for i := range kc.Len() {
			for ti < len(ts) && toff >= ts[ti].Len() {
				ti, toff = ti+1, 0
			}
			tc, ok := tsAt(ts, ti)
			if !ok {
				return errors.New("segment files lack timestamps for some rows")
			}
			fn(row, key(i), tc.Value(toff))
			row, toff = row+1, toff+1
		}
	}
	return nil
}

func tsAt(ts []arrow.Array, i int) (*array.Int64, bool) {
	if i >= len(ts) {
		return nil, false
	}
	a, ok := ts[i].(*array.Int64)
	return a, ok
}

// decodeChunk decodes the rows of rows (sorted by key) from their
// segments, one segment at a time, into a table whose live order is the
// key order.
func (s *binlogSource) decodeChunk(ctx context.Context, segs []manifest.Segment, ends [][]int, rows []liveRow) (*table, error) {
	bySeg := map[int][]int{} // segment index -> positions in rows
	for p, r := range rows {
		bySeg[r.seg] = append(bySeg[r.seg], p)
	}
	order := make([]int, 0, len(bySeg))
	for i := range bySeg {
		order = append(order, i)
	}
	slices.Sort(order)
	perField := map[int64][]arrow.Array{}
	t := &table{cols: map[int64]arrow.Array{}, live: make([]int, len(rows))}
	next := 0
	for _, i := range order {
		positions := bySeg[i]
		if err := s.takeRows(ctx, segs[i], ends[i], rows, positions, perField); err != nil {
			releaseAll(perField)
			return nil, fmt.Errorf("segment %d: %w", segs[i].ID, err)
		}
		for _, p := range positions {
			t.live[p] = next
			next++
		}
	}
	for id, chunks := range perField {
		col, err := array.Concatenate(chunks, memory.DefaultAllocator)
		release(chunks)
		if err != nil {
			t.release()
			return nil, err
		}
		t.cols[id] = col
	}
	return t, nil
}

// takeRows appends to perField, per field, the rows of rows at positions
// (all in segment seg, whose binlogs end at ends), reading only the
// binlogs that hold them.
func (s *binlogSource) takeRows(ctx context.Context, seg manifest.Segment, ends []int, rows []liveRow, positions []int, perField map[int64][]arrow.Array) error {
	need := map[int]bool{}
	for _, p := range positions {
		need[binlogOf(ends, rows[p].row)] = true
	}
	// A row's index among the rows of the binlogs read.
	base, n := make([]int, len(ends)), 0
	for k := range ends {
		base[k] = n
		if need[k] {
			n += ends[k] - start(ends, k)
		}
	}
	picked, all := int64Array(len(positions)), int64Array(len(positions))
	defer picked.Release()
	defer all.Release()
	for _, p := range positions {
		r := rows[p].row
		k := binlogOf(ends, r)
		picked.Append(int64(base[k] + r - start(ends, k)))
		all.Append(int64(r))
	}
	pickedIdx, allIdx := picked.NewArray(), all.NewArray()
	defer pickedIdx.Release()
	defer allIdx.Release()
	for id, logs := range insertLogs(seg) {
		// Binlogs that do not split the rows as the key's do are read whole.
		pick, idx := func(k int) bool { return need[k] }, pickedIdx
		if len(logs) != len(ends) {
			pick, idx = nil, allIdx
		}
		arrs, _, err := s.readLogs(ctx, logs, pick)
		if err != nil {
			return err
		}
		col, err := array.Concatenate(arrs, memory.DefaultAllocator)
		release(arrs)
		if err != nil {
			return err
		}
		taken, err := compute.TakeArray(ctx, col, idx)
		col.Release()
		if err != nil {
			return fmt.Errorf("field %d: %w", id, err)
		}
		perField[id] = append(perField[id], taken)
	}
	return nil
}

func int64Array(n int) *array.Int64Builder {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.Reserve(n)
	return b
}

// binlogOf is the index of the binlog holding row, given where each ends.
func binlogOf(ends []int, row int) int {
	k, _ := slices.BinarySearch(ends, row+1)
	return k
}

// start is the first row of binlog k.
func start(ends []int, k int) int {
	if k == 0 {
		return 0
	}
	return ends[k-1]
}

func releaseAll(perField map[int64][]arrow.Array) {
	for _, chunks := range perField {
		release(chunks)
	}
}
