package repo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/milvault/milvault/manifest"
)

// A sharded backup is written by several processes into one uncommitted
// backup id (see backup.BeginShards). Its records (the plan every shard
// reads, and one record per finished shard) live in the backup's data
// folder, under shards/, sealed like manifests in an encrypted repository.
// An uncommitted backup with a plan is never removed as an interrupted
// backup (CleanStale, HasLeftovers and Resumable skip it): its shards may
// still run, or be rerun, until it is committed or aborted
// (backup.AbortShards).

// ShardPlanRecord is the name of a sharded backup's plan record.
const ShardPlanRecord = "plan.json"

func shardRecordPath(id, name string) string { return manifest.DataPrefix(id) + "shards/" + name }

// WriteShardRecord stores record name of sharded backup id.
func (r *Repository) WriteShardRecord(ctx context.Context, id, name string, data []byte) error {
	data, err := r.sealBytes(data)
	if err != nil {
		return fmt.Errorf("record %s of sharded backup %s: %w", name, id, err)
	}
	if err := r.store.Put(ctx, shardRecordPath(id, name), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("record %s of sharded backup %s: %w", name, id, err)
	}
	return nil
}

// ReadShardRecord returns record name of sharded backup id; the error wraps
// ErrNotFound when there is none.
func (r *Repository) ReadShardRecord(ctx context.Context, id, name string) ([]byte, error) {
	p := shardRecordPath(id, name)
	rc, err := r.store.Open(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("record %s of sharded backup %s: %w", name, id, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("record %s of sharded backup %s: %w", name, id, err)
	}
	return r.unsealBytes(p, data)
}

// DeleteShardRecord removes record name of sharded backup id (once the
// backup is committed); a missing record is no error.
func (r *Repository) DeleteShardRecord(ctx context.Context, id, name string) error {
	err := r.store.Delete(ctx, shardRecordPath(id, name))
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// isSharded reports whether uncommitted backup id has a shard plan.
func (r *Repository) isSharded(ctx context.Context, id string) bool {
	_, err := r.store.Stat(ctx, shardRecordPath(id, ShardPlanRecord))
	return err == nil
}

// DeleteShardFiles removes every file under folder (relative to the data
// folder of backup id, ending in "/") of uncommitted sharded backup id, so
// that a rerun shard starts from an empty folder.
func (r *Repository) DeleteShardFiles(ctx context.Context, id, folder string) error {
	if !r.isSharded(ctx, id) || !strings.HasSuffix(folder, "/") || strings.HasPrefix(folder, "shards/") {
		return fmt.Errorf("delete %s of backup %s: not a shard's folder of an uncommitted sharded backup", folder, id)
	}
	if _, err := r.store.Stat(ctx, manifest.Path(id)); err == nil {
		return fmt.Errorf("delete %s of backup %s: the backup is committed", folder, id)
	}
	if err := r.deletePrefix(ctx, manifest.DataPrefix(id)+folder); err != nil {
		return fmt.Errorf("delete %s of backup %s: %w", folder, id, err)
	}
	return nil
}
