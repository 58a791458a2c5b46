package backup_test

import (
	"context"
	"errors"
	"testing"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/fakemilvus"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
)

// splittingFake adds the key split of *milvus.Client to the fake server:
// it reads the keys through the fake's Scan and cuts them into n ranges.
type splittingFake struct{ *fakemilvus.Server }

func (f splittingFake) SplitKeys(ctx context.Context, req milvus.ScanRequest, n int) ([]any, error) {
	var keys []any
	req.BatchRows = 1000
	_, err := f.Scan(ctx, req, func(b milvus.Batch) error {
		for _, fd := range b.Fields {
			if fd.GetFieldName() != req.PrimaryKey.GetName() {
				continue
			}
			for _, k := range fd.GetScalars().GetLongData().GetData() {
				keys = append(keys, k)
			}
		}
		return nil
	})
	if err != nil || len(keys) < n {
		return nil, err
	}
	var bounds []any
	for k := 1; k < n; k++ {
		bounds = append(bounds, keys[k*len(keys)/n-1])
	}
	return bounds, nil
}

// TestShardedBackupWithoutServer begins a 3-shard backup of a released
// collection, runs the shards out of order, checks that the commit refuses
// while one is missing and that a finished shard rerun reads nothing, then
// commits and checks rows per partition, checksums, and that the load state
// the begin step changed is put back.
func TestShardedBackupWithoutServer(t *testing.T) {
	ctx := context.Background()
	s := seeded(t, false)
	r, _ := fakeRepo(t)
	deps := backup.Deps{Milvus: splittingFake{s}, Repo: r}
	id, err := backup.BeginShards(ctx, deps, backup.Params{Collections: []string{"c"}, ChunkBytes: 1 << 20}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := s.LoadState(ctx, "default", "c"); st != milvus.LoadStateLoaded {
		t.Fatalf("load state after begin = %s, want loaded", st)
	}
	var total int64
	for _, i := range []int{2, 0} {
		res, err := backup.RunShard(ctx, deps, id, i, 3, backup.ShardOptions{})
		if err != nil {
			t.Fatal(err)
		}
		total += res.Rows
	}
	var missing *backup.ShardsMissingError
	if _, err := backup.CommitShards(ctx, deps, id); !errors.As(err, &missing) || len(missing.Missing) != 1 || missing.Missing[0] != 1 {
		t.Fatalf("commit with shard 1 missing: %v, want a ShardsMissingError naming shard 1", err)
	}
	if _, err := backup.RunShard(ctx, deps, id, 1, 4, backup.ShardOptions{}); err == nil {
		t.Error("a shard with the wrong shard count ran")
	}
	res, err := backup.RunShard(ctx, deps, id, 1, 3, backup.ShardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	total += res.Rows
	if again, err := backup.RunShard(ctx, deps, id, 1, 3, backup.ShardOptions{}); err != nil || !again.AlreadyDone || again.Rows != 0 {
		t.Errorf("rerun of a finished shard = %+v, %v; want already done", again, err)
	}
	if res.Rows == 0 || total != 3000 {
		t.Errorf("shards read %d rows (shard 1: %d), want 3000 in all and some in each", total, res.Rows)
	}
	committed, err := backup.CommitShards(ctx, deps, id)
	if err != nil {
		t.Fatal(err)
	}
	m := committed.Manifest
	for _, p := range m.Collections[0].Partitions {
		if p.Rows != 1500 {
			t.Errorf("partition %s holds %d rows, want 1500", p.Name, p.Rows)
		}
	}
	if err := r.CheckFiles(ctx, m, m.Files(), progress.Nop); err != nil {
		t.Errorf("sharded backup does not verify: %v", err)
	}
	if st, _ := s.LoadState(ctx, "default", "c"); st != milvus.LoadStateNotLoaded {
		t.Errorf("load state after commit = %s, want not loaded (put back)", st)
	}
	if _, err := backup.RunShard(ctx, deps, id, 0, 3, backup.ShardOptions{}); err == nil {
		t.Error("a shard of a committed backup ran")
	}
}
