package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// A sharded backup is one logical backup written by several processes
// (for example the pods of a Kubernetes Indexed Job), in three steps:
//
//  1. BeginShards captures the collections (schema, indexes, aliases, load
//     state), flushes, loads what is not loaded, and cuts every partition
//     into n key ranges of equal row counts from one key-only pass at the
//     flush timestamp. It stores this plan in a new uncommitted backup and
//     returns its id.
//  2. RunShard(id, i, n), in any process, reads range i of every partition
//     at the plan's timestamp into its own folder (shard-<i>/) and records
//     its files when done. The split is in the plan, so every shard agrees
//     on it. A failed shard is rerun with the same arguments: it rewrites
//     its own range and leaves the other shards alone; a finished shard
//     rerun does nothing.
//  3. CommitShards requires the n shard records, reads back every file
//     they name (checksums), concatenates each partition's files in shard
//     (key) order, puts back the load state BeginShards changed, and writes
//     the manifest last.
//
// An uncommitted backup with a plan is never cleaned up as an interrupted
// one (repo.Repository.WriteShardRecord); AbortShards removes it.

// KeySplitter cuts a partition into key ranges of equal row counts
// (*milvus.Client implements it).
type KeySplitter interface {
	SplitKeys(ctx context.Context, req milvus.ScanRequest, n int) ([]any, error)
}

// MaxShards is the largest number of shards of one backup.
const MaxShards = 1024

// shardPlan is what BeginShards stores and every shard reads.
type shardPlan struct {
	Manifest    *manifest.Manifest  `json:"manifest"` // collections as captured, without data
	Shards      int                 `json:"shards"`
	Collections []plannedCollection `json:"collections"` // as Manifest.Collections
}

// plannedCollection is how a collection is read by the shards.
type plannedCollection struct {
	Snapshot   manifest.Snapshot  `json:"snapshot"`         // the timestamp it is read at
	Loaded     bool               `json:"loaded,omitempty"` // BeginShards loaded it
	Partitions []plannedPartition `json:"partitions"`
}

// plannedPartition holds the n-1 keys that end the first n-1 shards'
// ranges; none when the partition had fewer than n rows (shard 0 then
// reads it all).
type plannedPartition struct {
	Name   string        `json:"name"`
	Bounds []*journalKey `json:"bounds,omitempty"`
}

// shardRecord is what a finished shard stores: per planned collection,
// per partition, its files and rows.
type shardRecord struct {
	Shard       int                    `json:"shard"`
	Collections [][]manifest.Partition `json:"collections"`
}

func shardRecordName(i int) string { return fmt.Sprintf("shard-%04d.json", i) }

// BeginShards starts a sharded backup of what p selects, to be written by
// n shards (RunShard), and returns its id.
func BeginShards(ctx context.Context, deps Deps, p Params, n int) (string, error) {
	deps = deps.withDefaults()
	if n < 2 || n > MaxShards {
		return "", errkind.New(errkind.Usage, "%d shards out of range: use 2 to %d", n, MaxShards)
	}
	split, ok := deps.Milvus.(KeySplitter)
	if !ok {
		return "", errors.New("this Milvus client cannot split key ranges for a sharded backup")
	}
	if err := p.Validate(); err != nil {
		return "", err
	}
	p, _ = p.normalize()
	_, lctx, unlock, err := deps.Repo.Hold(ctx, deps.Lock, repo.LockOptions{Operation: "backup --shards", Wait: p.LockWait})
	if err != nil {
		return "", err
	}
	defer unlock()
	if p.Name != "" {
		if err := deps.Repo.CheckNameFree(lctx, p.Name); err != nil {
			return "", err
		}
	}
	pl, err := planShards(lctx, deps, split, p, n)
	if err != nil {
		return "", err
	}
	data, err := json.Marshal(pl)
	if err != nil {
		return "", err
	}
	id := pl.Manifest.ID
	return id, deps.Repo.WriteShardRecord(lctx, id, repo.ShardPlanRecord, data)
}

// planShards captures every target collection and splits its partitions.
func planShards(ctx context.Context, deps Deps, split KeySplitter, p Params, n int) (*shardPlan, error) {
	targets, err := plan(ctx, deps.Milvus, p)
	if err != nil {
		return nil, err
	}
	m := newManifest(deps, p, deps.Now())
	if deps.RBAC != nil {
		if m.RBAC, err = CaptureRBAC(ctx, deps.RBAC); err != nil {
			return nil, err
		}
	}
	pl := &shardPlan{Manifest: m, Shards: n}
	for _, t := range targets {
		c, err := captureCollection(ctx, deps.Milvus, t)
		if err != nil {
			return nil, err
		}
		if m.Snapshot.Timestamp == 0 {
			m.Snapshot = c.snapshot
		}
		pc, err := planCollection(ctx, deps, split, p, c, n)
		if err != nil {
			_ = putBackLoadStates(ctx, deps, pl) // of the collections planned so far
			return nil, fmt.Errorf("plan the shards of %s: %w", c.QualifiedName(), err)
		}
		m.Collections = append(m.Collections, c.Collection)
		pl.Collections = append(pl.Collections, pc)
	}
	return pl, nil
}

// planCollection loads c when it is not loaded (CommitShards puts its load
// state back) and splits each partition into n key ranges.
func planCollection(ctx context.Context, deps Deps, split KeySplitter, p Params, c *captured, n int) (plannedCollection, error) {
	pc := plannedCollection{Snapshot: c.snapshot}
	putBack, err := ensureLoaded(ctx, deps, c)
	if err != nil {
		return pc, err
	}
	pc.Loaded = c.LoadState != milvus.LoadStateLoaded || len(c.LoadedPartitions) > 0
	for _, part := range readParts(c) {
		bounds, err := split.SplitKeys(ctx, scanRequest(p, c, part), n)
		if err != nil {
			_ = putBack()
			return pc, err
		}
		pp := plannedPartition{Name: part}
		for _, b := range bounds {
			pp.Bounds = append(pp.Bounds, newJournalKey(b))
		}
		pc.Partitions = append(pc.Partitions, pp)
	}
	return pc, nil
}

// readParts lists the partitions a backup reads of c.
func readParts(c *captured) []string {
	if c.PartitionKey {
		return []string{AllPartitions}
	}
	return c.partitions
}

// scanRequest is the scan of partition part of c.
func scanRequest(p Params, c *captured, part string) milvus.ScanRequest {
	req := milvus.ScanRequest{Database: c.Database, Collection: c.Name, PrimaryKey: c.pk,
		GuaranteeTs: c.snapshot.Timestamp, Workers: p.ScanWorkers}
	if part != AllPartitions {
		req.Partitions = []string{part}
	}
	return req
}

// ShardOptions tune one shard; the plan fixes what is backed up and how
// data files are encoded.
type ShardOptions struct {
	ScanWorkers    int    // as Params.ScanWorkers
	EncodeWorkers  int    // as Params.EncodeWorkers
	QueryBatchRows int    // as Params.QueryBatchRows
	SpoolDir       string // as Params.SpoolDir
}

// ShardResult describes a finished shard.
type ShardResult struct {
	ID    string `json:"id"`
	Shard int    `json:"shard"`
	Rows  int64  `json:"rows"`
	Files int    `json:"files"`
	// AlreadyDone is true when the shard had finished before: nothing was
	// read.
	AlreadyDone bool `json:"already_done"`
}

// RunShard writes shard i of n of sharded backup id (see BeginShards). On
// failure its own files stay in its folder (rerunning the shard rewrites
// them); the other shards and the backup are left alone.
func RunShard(ctx context.Context, deps Deps, id string, i, n int, o ShardOptions) (*ShardResult, error) {
	deps = deps.withDefaults()
	l, lctx, unlock, err := deps.Repo.Hold(ctx, deps.Lock, repo.LockOptions{Operation: "backup --shard"})
	if err != nil {
		return nil, err
	}
	defer unlock()
	pl, err := readShardPlan(lctx, deps.Repo, id)
	if err != nil {
		return nil, err
	}
	if n != pl.Shards || i < 0 || i >= n {
		return nil, errkind.New(errkind.Usage, "backup %s has %d shards: run shards 0/%d to %d/%d", id, pl.Shards, pl.Shards, pl.Shards-1, pl.Shards)
	}
	if _, err := deps.Repo.ReadShardRecord(lctx, id, shardRecordName(i)); err == nil {
		return &ShardResult{ID: id, Shard: i, AlreadyDone: true}, nil
	}
	stop, err := deps.Repo.Begin(lctx, l, id) // keeps the pending marker fresh while it runs
	if err != nil {
		return nil, err
	}
	defer stop()
	rec, res, err := writeShard(lctx, deps, pl, i, o)
	if err != nil {
		return nil, fmt.Errorf("shard %d/%d of backup %s: %w; rerun it with the same arguments (the other shards are kept)", i, n, id, err)
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if err := deps.Repo.WriteShardRecord(lctx, id, shardRecordName(i), data); err != nil {
		return nil, err
	}
	return res, nil
}

// writeShard reads shard i's range of every planned partition.
func writeShard(ctx context.Context, deps Deps, pl *shardPlan, i int, o ShardOptions) (*shardRecord, *ShardResult, error) {
	m := pl.Manifest
	p := Params{Compression: m.Options.Compression, CompressionLevel: m.Options.CompressionLevel,
		ChunkBytes: m.Options.ChunkBytes, ScanWorkers: o.ScanWorkers, EncodeWorkers: o.EncodeWorkers, QueryBatchRows: o.QueryBatchRows,
		SpoolDir: o.SpoolDir, shardDir: fmt.Sprintf("shard-%04d/", i)}
	p.Checksum = checksum.Algorithm(m.Options.Checksum)
	rec := &shardRecord{Shard: i}
	res := &ShardResult{ID: m.ID, Shard: i}
	for ci, mc := range m.Collections {
		c, err := capturedFromPlan(mc, pl.Collections[ci])
		if err != nil {
			return nil, nil, err
		}
		deps.Progress.Phase(fmt.Sprintf("backup %s shard %d/%d", c.QualifiedName(), i, pl.Shards), 0, 0)
		var parts []manifest.Partition
		for _, pp := range pl.Collections[ci].Partitions {
			mp := manifest.Partition{Name: pp.Name}
			var ok bool
			folder := safeName(c.Database) + "/" + safeName(c.Name) + "/" + safeName(pp.Name) + "/" + p.shardDir
			if err := deps.Repo.DeleteShardFiles(ctx, m.ID, folder); err != nil { // what a failed run left
				return nil, nil, err
			}
			if p.after, p.until, ok = shardRange(pp.Bounds, i, pl.Shards); ok {
				if mp, err = writePartition(ctx, deps, p, m, c, pp.Name, nil, nil); err != nil {
					return nil, nil, fmt.Errorf("back up %s: %w", c.QualifiedName(), err)
				}
			}
			res.Rows += mp.Rows
			res.Files += len(mp.Files)
			parts = append(parts, mp)
		}
		rec.Collections = append(rec.Collections, parts)
	}
	return rec, res, nil
}

// shardRange returns the key range of shard i of n: after bound i-1 (nil:
// from the first key) up to bound i (nil: to the last key); false when the
// shard has nothing to read (a partition of fewer than n rows is read by
// shard 0 alone).
func shardRange(bounds []*journalKey, i, n int) (after, until any, ok bool) {
	if len(bounds) != n-1 {
		return nil, nil, i == 0
	}
	if i > 0 {
		after = bounds[i-1].value()
	}
	if i < n-1 {
		until = bounds[i].value()
	}
	return after, until, true
}

// capturedFromPlan rebuilds what the writer needs of a planned collection.
func capturedFromPlan(mc manifest.Collection, pc plannedCollection) (*captured, error) {
	schema := &schemapb.CollectionSchema{}
	if err := protojson.Unmarshal(mc.Schema, schema); err != nil {
		return nil, errkind.New(errkind.Damaged, "the shard plan's schema of %s cannot be read: %v", mc.QualifiedName(), err)
	}
	c := &captured{Collection: mc, schema: schema, pk: milvus.PrimaryField(schema), snapshot: pc.Snapshot}
	if c.pk == nil {
		return nil, errkind.New(errkind.Damaged, "the shard plan's schema of %s has no primary key", mc.QualifiedName())
	}
	return c, nil
}

// readShardPlan reads sharded backup id's plan.
func readShardPlan(ctx context.Context, r *repo.Repository, id string) (*shardPlan, error) {
	if _, err := r.Find(ctx, id); err == nil {
		return nil, errkind.New(errkind.Usage, "backup %s is already committed", id)
	}
	data, err := r.ReadShardRecord(ctx, id, repo.ShardPlanRecord)
	if errors.Is(err, repo.ErrNotFound) {
		return nil, errkind.New(errkind.NotFound, "%s holds no sharded backup %s: start one with milvault backup --shards N, which prints its id", r.Location(), id)
	}
	if err != nil {
		return nil, err
	}
	var pl shardPlan
	if err := json.Unmarshal(data, &pl); err != nil || pl.Manifest == nil || pl.Manifest.ID != id || len(pl.Collections) != len(pl.Manifest.Collections) {
		return nil, errkind.New(errkind.Damaged, "the plan of sharded backup %s cannot be read (%v): abort it (backup --abort-shards %s) and start over", id, err, id)
	}
	return &pl, nil
}

// CommitShards commits sharded backup id once all its shards are done: it
// reads back and checks every file they stored, assembles the manifest
// (each partition's files in shard order, which is key order), puts back
// the load state BeginShards changed, and writes the manifest last.
func CommitShards(ctx context.Context, deps Deps, id string) (*Result, error) {
	deps = deps.withDefaults()
	start := deps.Now()
	_, lctx, unlock, err := deps.Repo.Hold(ctx, deps.Lock, repo.LockOptions{Operation: "backup --commit"})
	if err != nil {
		return nil, err
	}
	defer unlock()
	pl, err := readShardPlan(lctx, deps.Repo, id)
	if err != nil {
		return nil, err
	}
	recs, err := readShardRecords(lctx, deps.Repo, pl)
	if err != nil {
		return nil, err
	}
	m := assemble(pl, recs)
	for _, f := range m.Files() {
		if err := deps.Repo.ReadFile(lctx, f, io.Discard); err != nil {
			return nil, fmt.Errorf("backup %s: stored file %s does not check (%w): abort it (backup --abort-shards %s) and start over", id, f.Path, err, id)
		}
	}
	if err := putBackLoadStates(lctx, deps, pl); err != nil {
		return nil, err
	}
	if err := deps.Repo.Commit(lctx, m); err != nil {
		return nil, err
	}
	for i := range pl.Shards { // the manifest is written: these are leftovers now
		_ = deps.Repo.DeleteShardRecord(lctx, id, shardRecordName(i))
	}
	_ = deps.Repo.DeleteShardRecord(lctx, id, repo.ShardPlanRecord)
	return &Result{Manifest: m, Duration: deps.Now().Sub(start)}, nil
}

// readShardRecords reads the record of every shard of pl; it fails naming
// the shards that have not finished.
func readShardRecords(ctx context.Context, r *repo.Repository, pl *shardPlan) ([]*shardRecord, error) {
	id := pl.Manifest.ID
	var recs []*shardRecord
	var missing []int
	for i := range pl.Shards {
		data, err := r.ReadShardRecord(ctx, id, shardRecordName(i))
		if errors.Is(err, repo.ErrNotFound) {
			missing = append(missing, i)
			continue
		}
		if err != nil {
			return nil, err
		}
		var rec shardRecord
		if err := json.Unmarshal(data, &rec); err != nil || rec.Shard != i || len(rec.Collections) != len(pl.Collections) {
			return nil, errkind.New(errkind.Damaged, "the record of shard %d of backup %s cannot be read (%v): abort the backup (backup --abort-shards %s) and start over", i, id, err, id)
		}
		recs = append(recs, &rec)
	}
	if len(missing) > 0 {
		return nil, &ShardsMissingError{ID: id, Shards: pl.Shards, Missing: missing}
	}
	return recs, nil
}

// ShardsMissingError reports a commit of a sharded backup whose shards
// have not all finished.
type ShardsMissingError struct {
	ID      string
	Shards  int
	Missing []int
}

func (e *ShardsMissingError) Error() string {
	return fmt.Sprintf("backup %s: shards %v of %d have not finished: run (or rerun) them with milvault backup --backup-id %s --shard I/%d, then commit again", e.ID, e.Missing, e.Shards, e.ID, e.Shards)
}

// Kind reports errkind.NotFound.
func (*ShardsMissingError) Kind() errkind.Kind { return errkind.NotFound }

// assemble builds the manifest of pl from its shards' records.
func assemble(pl *shardPlan, recs []*shardRecord) *manifest.Manifest {
	m := pl.Manifest
	for ci := range m.Collections {
		c := &m.Collections[ci]
		c.Partitions, c.Rows = nil, 0
		for pi, pp := range pl.Collections[ci].Partitions {
			mp := manifest.Partition{Name: pp.Name}
			for _, rec := range recs {
				if pi < len(rec.Collections[ci]) {
					mp.Rows += rec.Collections[ci][pi].Rows
					mp.Files = append(mp.Files, rec.Collections[ci][pi].Files...)
				}
			}
			c.Partitions = append(c.Partitions, mp)
			c.Rows += mp.Rows
		}
	}
	return m
}

// putBackLoadStates releases (and reloads partly) what BeginShards loaded.
func putBackLoadStates(ctx context.Context, deps Deps, pl *shardPlan) error {
	for ci, pc := range pl.Collections {
		if !pc.Loaded {
			continue
		}
		c := &captured{Collection: pl.Manifest.Collections[ci]}
		if err := restoreLoadState(ctx, deps.Milvus, c); err != nil {
			return fmt.Errorf("putting back the load state of %s: %w", c.QualifiedName(), err)
		}
	}
	return nil
}

// AbortShards removes uncommitted sharded backup id and everything its
// shards stored. Stop its shards first: a shard still running fails.
func AbortShards(ctx context.Context, deps Deps, id string) error {
	deps = deps.withDefaults()
	_, lctx, unlock, err := deps.Repo.Hold(ctx, deps.Lock, repo.LockOptions{Operation: "backup --abort-shards"})
	if err != nil {
		return err
	}
	defer unlock()
	pl, err := readShardPlan(lctx, deps.Repo, id)
	if err != nil && errkind.Of(err) != errkind.Damaged {
		return err
	}
	if pl != nil {
		if err := putBackLoadStates(lctx, deps, pl); err != nil {
			return err
		}
	}
	return deps.Repo.Abort(lctx, id)
}
