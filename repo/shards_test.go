package repo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/milvault/milvault/repo"
)

// TestShardedBackupKeptByCleanup checks that an uncommitted sharded backup
// whose shards all stopped is neither cleaned up, nor reported as a
// leftover, nor offered for --resume, while an interrupted plain backup
// is; and that DeleteShardFiles empties one shard folder only.
func TestShardedBackupKeptByCleanup(t *testing.T) {
	ctx := context.Background()
	r, s := newRepo(t)
	if err := r.WriteShardRecord(ctx, "sharded", repo.ShardPlanRecord, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	s.Put(ctx, "data/sharded/db/c/p/shard-0001/part-00000.parquet", strings.NewReader("x"))
	s.Put(ctx, "data/sharded/db/c/p/shard-0000/part-00000.parquet", strings.NewReader("x"))
	s.Put(ctx, "pending/sharded.json", strings.NewReader(`{"id":"sharded","host":"`+hostname()+`","pid":999999999}`))
	if found, err := r.HasLeftovers(ctx); err != nil || found {
		t.Fatalf("HasLeftovers = %v, %v with only a sharded backup; want false", found, err)
	}
	s.Put(ctx, "data/plain/journal.json", strings.NewReader("x"))
	if ids, err := r.Resumable(ctx); err != nil || strings.Join(ids, ",") != "plain" {
		t.Fatalf("Resumable = %v, %v; want only plain", ids, err)
	}
	l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	cleaned, err := r.CleanStale(ctx, l)
	if err != nil || strings.Join(cleaned, ",") != "plain" {
		t.Fatalf("CleanStale cleaned %v, %v; want only plain", cleaned, err)
	}
	if err := r.DeleteShardFiles(ctx, "plain", "db/"); err == nil {
		t.Error("DeleteShardFiles succeeded on a backup that is not sharded")
	}
	if err := r.DeleteShardFiles(ctx, "sharded", "shards/"); err == nil {
		t.Error("DeleteShardFiles succeeded on the shard records")
	}
	if err := r.DeleteShardFiles(ctx, "sharded", "db/c/p/shard-0001/"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "data/sharded/db/c/p/shard-0001/part-00000.parquet"); err == nil {
		t.Error("DeleteShardFiles left the shard's file")
	}
	if _, err := s.Stat(ctx, "data/sharded/db/c/p/shard-0000/part-00000.parquet"); err != nil {
		t.Errorf("DeleteShardFiles removed another shard's file: %v", err)
	}
	if data, err := r.ReadShardRecord(ctx, "sharded", repo.ShardPlanRecord); err != nil || string(data) != "{}" {
		t.Errorf("plan record = %q, %v", data, err)
	}
}
