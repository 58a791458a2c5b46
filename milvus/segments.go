package milvus

import (
	"context"
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
)

// Segment is one persisted segment of a collection, as data coord lists it.
type Segment struct {
	ID          int64
	PartitionID int64
	Rows        int64 // rows written to the segment, deleted ones included
	State       commonpb.SegmentState
}

// Sealed reports a segment whose files are complete and immutable (flushed).
func (s Segment) Sealed() bool { return s.State == commonpb.SegmentState_Flushed }

// PersistentSegments lists the persisted segments of a collection
// (GetPersistentSegmentInfo).
func (c *Client) PersistentSegments(ctx context.Context, db, coll string) ([]Segment, error) {
	resp, err := c.svc.GetPersistentSegmentInfo(ctx, &milvuspb.GetPersistentSegmentInfoRequest{DbName: db, CollectionName: coll})
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("segments of %s.%s: %w", db, coll, err)
	}
	var out []Segment
	for _, s := range resp.GetInfos() {
		out = append(out, Segment{ID: s.GetSegmentID(), PartitionID: s.GetPartitionID(), Rows: s.GetNumRows(), State: s.GetState()})
	}
	return out, nil
}

// PartitionIDs maps the partition names of a collection to their ids.
func (c *Client) PartitionIDs(ctx context.Context, db, coll string) (map[string]int64, error) {
	resp, err := c.svc.ShowPartitions(ctx, &milvuspb.ShowPartitionsRequest{DbName: db, CollectionName: coll})
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("list partitions of %s.%s: %w", db, coll, err)
	}
	ids := resp.GetPartitionIDs()
	out := map[string]int64{}
	for i, name := range resp.GetPartitionNames() {
		if i < len(ids) {
			out[name] = ids[i]
		}
	}
	return out, nil
}

// ImportBinlogs starts a bulk import, in binlog ("backup") mode, of the
// segment files under insertRoot and deltaRoot (folders as the server's
// object storage names them, holding <segment>/<field>/<log> and
// <segment>/<log>) into a partition, and returns the ids of the tasks it started. The
// collection's field ids must be those the files were written with. A
// rejected request is an *ImportRefusedError.
func (c *Client) ImportBinlogs(ctx context.Context, db, coll, partition, insertRoot, deltaRoot string) ([]int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cctx, cancel := importContext(ctx)
	defer cancel()
	resp, err := c.svc.Import(cctx, &milvuspb.ImportRequest{
		DbName: db, CollectionName: coll, PartitionName: partition,
		Files:   []string{insertRoot, deltaRoot},
		Options: []*commonpb.KeyValuePair{{Key: "backup", Value: "true"}},
	})
	if isUnimplemented(err) {
		err = fmt.Errorf("%w: %v", ErrImportUnsupported, err)
	}
	if err := check(resp, err); err != nil {
		return nil, &ImportRefusedError{File: insertRoot, Err: err}
	}
	if len(resp.GetTasks()) == 0 {
		return nil, fmt.Errorf("import %s into %s.%s: server started no task", insertRoot, db, coll)
	}
	return resp.GetTasks(), nil
}
