package milvus

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// ScanRequest selects the rows of a collection to stream.
type ScanRequest struct {
	Database   string
	Collection string
	Partitions []string // empty: all
	PrimaryKey *schemapb.FieldSchema
	BatchRows  int // rows asked for per Query call
	// GuaranteeTs, when not zero, is a hybrid timestamp every read must
	// reflect (ConsistencyLevel_Customized), such as the timestamp of the
	// flush a backup starts with. A timestamp already in the past lets the
	// server answer at once; zero asks for strong consistency, which waits
	// for the server's next time tick on every call.
	GuaranteeTs uint64
	// After, when not nil, is a key (int64 or string, the primary key's
	// type) the scan starts after: rows with keys up to and including it
	// are not read, as when a backup resumes after its last stored key.
	After any
	// Until, when not nil, is the last key (inclusive) the scan reads.
	Until any
	// Workers is how many streams read the key space at once (see
	// ScanParallel): 0 or 1 read it in one stream, AutoWorkers picks a
	// number from the query nodes holding the collection and this
	// machine's cores.
	Workers int
}

// Batch is one Query response.
type Batch struct {
	Fields []*schemapb.FieldData
	Rows   int
}

// ScanResult tells how a scan was read.
type ScanResult struct {
	// SessionTs is the timestamp the server pinned the scan at (MVCC), zero
	// when the server does not pin iterator reads.
	SessionTs uint64
	Rows      int64
	// Queries counts the Query calls made, Bounded those that read a
	// bounded key range and Probes those that read keys only.
	Queries, Bounded, Probes int
}

// Scan streams every row of the selection in ascending primary-key order,
// one batch at a time, using the server's query iterator mode.
//
// Every call reads a bounded key range, "pk > a and pk <= b" (no offset
// paging, no offset ceiling), with b chosen from the key density seen so far
// so that the range holds about one batch: an unbounded "pk > a" makes every
// segment holding larger keys return a full batch for the server to merge
// and truncate, so its cost grows with the number of segments, while a
// bounded range costs about the rows it holds. The scan starts, and goes on
// after an empty range, with a probe that reads only the keys of a few rows
// ("pk > b", limit 64): the first tells where the next range starts (or
// that no rows are left), all of them how dense the keys are there. Range
// bounds only steer the cost: the next range always starts right after the
// last key returned, so no row is skipped or read twice whatever the
// estimate. Memory is bounded by about one batch.
//
// The server must return keys in strictly ascending order; Scan checks every
// batch and fails rather than risk skipping rows.
func (c *Client) Scan(ctx context.Context, req ScanRequest, fn func(Batch) error) (ScanResult, error) {
	if req.Workers != 0 && req.Workers != 1 {
		return c.scanParallel(ctx, req, fn)
	}
	return c.scanRange(ctx, req, 0, fn)
}

// scanRange is one stream of Scan; sessionTs, when not zero, is the
// timestamp another stream of the same scan was pinned at.
func (c *Client) scanRange(ctx context.Context, req ScanRequest, sessionTs uint64, fn func(Batch) error) (ScanResult, error) {
	s, err := newScanner(c, req)
	if err != nil {
		return ScanResult{}, err
	}
	s.res.SessionTs = sessionTs
	err = s.run(ctx, fn)
	return s.res, err
}

func (c *Client) scanQuery(req ScanRequest, last any, guaranteeTs uint64) *milvuspb.QueryRequest {
	q := &milvuspb.QueryRequest{
		DbName:         req.Database,
		CollectionName: req.Collection,
		PartitionNames: req.Partitions,
		OutputFields:   []string{"*"},
		Expr:           keyAfter(req.PrimaryKey, last),
		QueryParams: []*commonpb.KeyValuePair{
			{Key: "limit", Value: strconv.Itoa(req.BatchRows)},
			{Key: "iterator", Value: "true"},
			{Key: "reduce_stop_for_best", Value: "true"},
		},
	}
	c.setReadTimestamp(q, guaranteeTs)
	if c.travels() {
		legacyQuery(q, req.PrimaryKey)
	}
	return q
}

// keyAfter returns the filter "pk > last" ("" for the first batch).
func keyAfter(pk *schemapb.FieldSchema, last any) string {
	switch v := last.(type) {
	case int64:
		return fmt.Sprintf("%s > %d", pk.GetName(), v)
	case string:
		return fmt.Sprintf("%s > %s", pk.GetName(), strconv.Quote(v))
	}
	return ""
}

func findField(fields []*schemapb.FieldData, name string) *schemapb.FieldData {
	for _, f := range fields {
		if f.GetFieldName() == name {
			return f
		}
	}
	return nil
}

// checkAscending returns the number of keys in the batch and the last key,
// and fails when the keys are not strictly ascending after last.
func checkAscending(keys *schemapb.FieldData, pk *schemapb.FieldSchema, last any) (int, any, error) {
	if keys == nil {
		return 0, nil, nil
	}
	switch pk.GetDataType() {
	case schemapb.DataType_Int64:
		return ascending(keys.GetScalars().GetLongData().GetData(), last)
	case schemapb.DataType_VarChar, schemapb.DataType_String:
		return ascending(keys.GetScalars().GetStringData().GetData(), last)
	}
	return 0, nil, fmt.Errorf("unsupported primary key type %s", pk.GetDataType())
}

func ascending[K int64 | string](ids []K, last any) (int, any, error) {
	prev, has := last.(K)
	for _, id := range ids {
		if has && id <= prev {
			return 0, nil, fmt.Errorf("server returned primary keys out of order (%q after %q); cannot stream this collection safely", fmt.Sprint(id), fmt.Sprint(prev))
		}
		prev, has = id, true
	}
	if len(ids) == 0 {
		return 0, nil, nil
	}
	return len(ids), ids[len(ids)-1], nil
}

// Get reads the rows with the given primary keys (int64 or string values)
// with strong consistency. The collection must be queryable (loaded).
func (c *Client) Get(ctx context.Context, db, coll string, pk *schemapb.FieldSchema, keys []any) ([]*schemapb.FieldData, error) {
	parts := make([]string, len(keys))
	for i, k := range keys {
		if s, ok := k.(string); ok {
			parts[i] = strconv.Quote(s)
		} else {
			parts[i] = fmt.Sprint(k)
		}
	}
	resp, err := c.svc.Query(ctx, &milvuspb.QueryRequest{
		DbName: db, CollectionName: coll, OutputFields: []string{"*"},
		Expr:             fmt.Sprintf("%s in [%s]", pk.GetName(), strings.Join(parts, ",")),
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
	})
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("read keys from %s.%s: %w", db, coll, err)
	}
	return resp.GetFieldsData(), nil
}
