package native

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// SegmentLister is what a native backup asks of Milvus beyond package
// backup's needs (*milvus.Client has it).
type SegmentLister interface {
	PersistentSegments(ctx context.Context, db, coll string) ([]milvus.Segment, error)
	PartitionIDs(ctx context.Context, db, coll string) (map[string]int64, error)
	// CountAt counts the rows a query sees once timestamp ts is visible
	// (0: a strong-consistency count).
	CountAt(ctx context.Context, db, coll string, ts uint64) (int64, error)
}

// Writer stores collections as segment files: the backup.NativeWriter of a
// native backup. Files an earlier backup of the same segments stored
// (Reuse) are referenced instead of copied again.
type Writer struct {
	Milvus   SegmentLister
	Storage  *Storage
	Repo     *repo.Repository
	Progress progress.Progress // nil means none
	SpoolDir string            // see backup.Params.SpoolDir
	// Reuse maps a segment file's identity (see reuseKey) to the file an
	// earlier committed backup stored for it; see ReuseIndex.
	Reuse map[string]manifest.File
	// Hints are the repository's source hints (repo.KnownSources): files
	// stored by earlier runs, committed or not (a killed backup's), by
	// repo.SourceKey of the segment file's identity.
	Hints map[string]manifest.File
	// Workers is how many files are copied at once (0: DefaultCopyWorkers).
	Workers int

	stats    Stats
	blobs    map[string]repo.FileInfo // the repository's stored blobs, listed once
	blobsErr error
	listOnce sync.Once
}

var _ backup.NativeWriter = (*Writer)(nil)

// Stats counts what a Writer did.
type Stats struct {
	Files       int64 // segment files in the backup
	Bytes       int64 // their size
	Copied      int64 // files read from Milvus's storage
	Stored      int64 // files newly written to the repository
	StoredBytes int64 // bytes newly written
	Reused      int64 // files referenced from earlier backups without reading them
}

// Stats returns the counts so far.
func (w *Writer) Stats() Stats {
	return Stats{Files: atomic.LoadInt64(&w.stats.Files), Bytes: atomic.LoadInt64(&w.stats.Bytes),
		Copied: atomic.LoadInt64(&w.stats.Copied), Stored: atomic.LoadInt64(&w.stats.Stored),
		StoredBytes: atomic.LoadInt64(&w.stats.StoredBytes), Reused: atomic.LoadInt64(&w.stats.Reused)}
}

// DefaultCopyWorkers is how many segment files a Writer copies at once when
// Workers is 0: enough to overlap reading from Milvus's storage, hashing and
// writing (with its fsync) to the repository.
const DefaultCopyWorkers = 4

// WriteCollection stores the sealed segments of c (only those of
// partitions when not empty) and records them in c. Files are copied by
// w.Workers at once; c.Segments keeps the order of segment ids and, in a
// segment, Milvus's storage listing order.
func (w *Writer) WriteCollection(ctx context.Context, m *manifest.Manifest, c *manifest.Collection, partitions []string, snap manifest.Snapshot) error {
	prog := w.Progress
	if prog == nil {
		prog = progress.Nop
	}
	segs, parts, err := w.plan(ctx, c, partitions)
	if err != nil {
		return err
	}
	objs, err := listObjects(ctx, w.Storage.Store, c.ID)
	if err != nil {
		return err
	}
	prog.Phase("copy segment files of "+c.QualifiedName(), 0, 0)
	var sum int64
	for _, s := range segs {
		if err := checkSegment(s.ID, s.Rows, objs[s.ID]); err != nil {
			return fmt.Errorf("%s: %w", c.QualifiedName(), err)
		}
		c.Segments = append(c.Segments, manifest.Segment{ID: s.ID, PartitionID: s.PartitionID, Partition: partitionName(parts, s.PartitionID), Rows: s.Rows})
		sum += s.Rows
	}
	if err := w.copySegments(ctx, c, objs, prog); err != nil {
		return err
	}
	for _, name := range sortedNames(parts, partitions) {
		c.Partitions = append(c.Partitions, manifest.Partition{Name: name, ID: parts[name]})
	}
	c.Rows = w.rows(ctx, c, sum, snap.Timestamp, prog)
	return nil
}

// copySegments stores the files of c.Segments, w.Workers at once, and
// fills in their binlogs.
func (w *Writer) copySegments(ctx context.Context, c *manifest.Collection, objs map[int64][]object, prog progress.Progress) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(cmp.Or(w.Workers, DefaultCopyWorkers))
	for i := range c.Segments {
		ms := &c.Segments[i]
		files := objs[ms.ID]
		ms.Binlogs = make([]manifest.Binlog, len(files))
		left := int64(len(files))
		if left == 0 {
			prog.Rows(ms.Rows)
		}
		for j, o := range files {
			g.Go(func() error {
				f, err := w.storeObject(gctx, c.ID, o)
				if err != nil {
					return err
				}
				ms.Binlogs[j] = manifest.Binlog{Kind: o.Kind, Field: o.Field, LogID: o.LogID, File: f}
				prog.Bytes(f.Size)
				if atomic.AddInt64(&left, -1) == 0 {
					prog.Rows(ms.Rows)
				}
				return nil
			})
		}
	}
	return g.Wait()
}

// plan lists the sealed segments of the selected partitions.
func (w *Writer) plan(ctx context.Context, c *manifest.Collection, partitions []string) ([]milvus.Segment, map[string]int64, error) {
	parts, err := w.Milvus.PartitionIDs(ctx, c.Database, c.Name)
	if err != nil {
		return nil, nil, err
	}
	want := map[int64]bool{}
	for name, id := range parts {
		if len(partitions) == 0 || slices.Contains(partitions, name) {
			want[id] = true
		}
	}
	all, err := w.Milvus.PersistentSegments(ctx, c.Database, c.Name)
	if err != nil {
		return nil, nil, err
	}
	var segs []milvus.Segment
	for _, s := range all {
		// Growing and sealing segments hold rows written after the flush;
		// dropped ones were compacted into others.
		if s.Sealed() && want[s.PartitionID] {
			segs = append(segs, s)
		}
	}
	slices.SortFunc(segs, func(a, b milvus.Segment) int { return cmp.Compare(a.ID, b.ID) })
	return segs, parts, nil
}

// rows is the collection's row count: a count(*) query when the collection
// is loaded, otherwise the segments' row counts, which include deleted rows.
// The query waits only for the flush timestamp ts to be visible (a strong
// one would wait for the server's next time tick, about 0.2 s).
func (w *Writer) rows(ctx context.Context, c *manifest.Collection, segRows int64, ts uint64, prog progress.Progress) int64 {
	if c.LoadState == milvus.LoadStateLoaded {
		if n, err := w.Milvus.CountAt(ctx, c.Database, c.Name, ts); err == nil {
			return n
		}
	}
	prog.Note(fmt.Sprintf("%s is not loaded: its row count (%d) is the segments' and may include deleted rows", c.QualifiedName(), segRows))
	return segRows
}

func sortedNames(parts map[string]int64, only []string) []string {
	var out []string
	for name := range parts {
		if len(only) == 0 || slices.Contains(only, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

func partitionName(parts map[string]int64, id int64) string {
	for name, pid := range parts {
		if pid == id {
			return name
		}
	}
	return strconv.FormatInt(id, 10)
}

// reuseKey identifies a segment file across backups: Milvus never rewrites
// an object (every log id is new), so the same name and size in the same
// collection is the same content.
func reuseKey(coll int64, key string, size int64) string {
	return strconv.FormatInt(coll, 10) + ":" + key + ":" + strconv.FormatInt(size, 10)
}

// storeObject stores one segment file, or references the copy an earlier
// backup stored.
func (w *Writer) storeObject(ctx context.Context, coll int64, o object) (manifest.File, error) {
	atomic.AddInt64(&w.stats.Files, 1)
	atomic.AddInt64(&w.stats.Bytes, o.Size)
	key := reuseKey(coll, o.Key, o.Size)
	if f, ok := w.stored(ctx, key); ok {
		atomic.AddInt64(&w.stats.Reused, 1)
		return f, nil
	}
	rc, err := w.Storage.Store.Open(ctx, o.Key)
	if err != nil {
		return manifest.File{}, fmt.Errorf("read %s from Milvus storage: %w", o.Key, err)
	}
	defer rc.Close()
	b, err := w.Repo.PutBlob(ctx, rc, w.SpoolDir)
	f, stored := b.File, b.Stored
	if err != nil {
		return f, fmt.Errorf("copy %s: %w", o.Key, err)
	}
	if b.Content != o.Size {
		return f, fmt.Errorf("copy %s: read %d bytes, Milvus storage lists %d", o.Key, b.Content, o.Size)
	}
	if err := w.Repo.RememberSource(ctx, key, f); err != nil {
		return f, fmt.Errorf("copy %s: %w", o.Key, err)
	}
	atomic.AddInt64(&w.stats.Copied, 1)
	if stored {
		atomic.AddInt64(&w.stats.Stored, 1)
		atomic.AddInt64(&w.stats.StoredBytes, f.Size)
	}
	return f, nil
}

// stored returns the file an earlier run stored for the segment file
// key, when it is still in the repository.
func (w *Writer) stored(ctx context.Context, key string) (manifest.File, bool) {
	f, ok := w.Reuse[key]
	if !ok {
		f, ok = w.Hints[w.Repo.SourceKey(key)]
	}
	if !ok {
		return f, false
	}
	// A file whose object-lock retention has ended is copied again, so
	// that PutBlob stores it under a new retention.
	w.listOnce.Do(func() { w.blobs, w.blobsErr = w.Repo.ListBlobs(ctx) })
	fi, found := w.blobs[f.Path]
	return f, w.blobsErr == nil && found && fi.Size == f.Size && !w.Repo.RetentionEnded(fi)
}

// ReuseIndex maps the segment files of the repository's committed native
// backups to their stored files, for Writer.Reuse.
func ReuseIndex(ctx context.Context, r *repo.Repository) (map[string]manifest.File, error) {
	ms, _, err := r.List(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]manifest.File{}
	for _, m := range ms {
		if !m.IsNative() {
			continue
		}
		for _, c := range m.Collections {
			for _, s := range c.Segments {
				for _, b := range s.Binlogs {
					out[reuseKey(c.ID, objectKey(c.ID, s, b), b.File.Size)] = b.File
				}
			}
		}
	}
	return out, nil
}

// objectKey rebuilds Milvus's object name of a recorded binlog.
func objectKey(coll int64, s manifest.Segment, b manifest.Binlog) string {
	k := folders[b.Kind] + strconv.FormatInt(coll, 10) + "/" + strconv.FormatInt(s.PartitionID, 10) + "/" + strconv.FormatInt(s.ID, 10) + "/"
	if b.Kind != manifest.BinlogDelta {
		k += strconv.FormatInt(b.Field, 10) + "/"
	}
	return k + b.LogID
}
