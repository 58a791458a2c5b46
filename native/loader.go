package native

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/restore"
)

// ImportTarget is what a native restore asks of the target server
// (*milvus.Client has it).
type ImportTarget interface {
	Address() string
	Version() string
	CanImport(ctx context.Context) (bool, error)
	Describe(ctx context.Context, db, name string) (*milvuspb.DescribeCollectionResponse, error)
	ImportBinlogs(ctx context.Context, db, coll, partition, insertRoot, deltaRoot string) ([]int64, error)
	WaitImport(ctx context.Context, id int64, progress func(milvus.ImportTask)) (milvus.ImportTask, error)
	RowCount(ctx context.Context, db, coll string) (int64, error)
}

// Loader restores native backups: the restore.NativeLoader that stages
// segment files into the target's storage and imports them.
type Loader struct {
	Milvus   ImportTarget
	Storage  *Storage // the target Milvus's own storage
	Repo     *repo.Repository
	Progress progress.Progress // nil means none
	// SkipVerify skips checking every segment file before anything is
	// created (each file is still checked while it is staged).
	SkipVerify bool
}

var _ restore.NativeLoader = (*Loader)(nil)

// NotImportableError refuses a target server that cannot import segment
// files.
type NotImportableError struct {
	Address, Version, Reason string
}

func (e *NotImportableError) Error() string {
	return fmt.Sprintf("Milvus %s (version %s) cannot load a native backup: %s; restore to a Milvus 2.3 or newer server with bulk import, or convert the backup (milvault convert) and restore the logical copy", e.Address, e.Version, e.Reason)
}

// Kind classifies the error for exit codes.
func (*NotImportableError) Kind() errkind.Kind { return errkind.Usage }

// Check refuses, before anything is created, a target that cannot import
// binlogs or a backup whose segment files are damaged.
func (l *Loader) Check(ctx context.Context, m *manifest.Manifest, colls []*manifest.Collection) error {
	if l.Storage == nil {
		return errkind.New(errkind.Usage, "restoring a native backup needs the target Milvus's storage: pass --milvus-storage (s3://bucket/rootPath?endpoint=... or its local storage folder)")
	}
	if err := l.checkServer(ctx); err != nil {
		return err
	}
	if l.SkipVerify {
		return nil
	}
	var files []manifest.File
	seen := map[string]bool{}
	for _, c := range colls {
		for _, f := range c.SegmentFiles() {
			if !seen[f.Path] {
				seen[f.Path] = true
				files = append(files, f)
			}
		}
	}
	if err := l.Repo.CheckFiles(ctx, m, files, l.progress()); err != nil {
		return fmt.Errorf("refusing to restore: %w", err)
	}
	return nil
}

func (l *Loader) progress() progress.Progress {
	if l.Progress == nil {
		return progress.Nop
	}
	return l.Progress
}

// checkServer refuses servers without binlog import: Milvus Lite and
// servers older than 2.3 (the version this was tested against).
func (l *Loader) checkServer(ctx context.Context) error {
	v := l.Milvus.Version()
	e := &NotImportableError{Address: l.Milvus.Address(), Version: v}
	if major, minor, ok := parseVersion(v); !ok || major < 2 || major == 2 && minor < 3 {
		e.Reason = "binlog import needs Milvus 2.3 or newer"
		return e
	}
	ok, err := l.Milvus.CanImport(ctx)
	if err != nil {
		return err
	}
	if !ok {
		e.Reason = "the server offers no bulk import"
		return e
	}
	return nil
}

// parseVersion reads "v2.3.5" or "2.3.5-..." as 2, 3.
func parseVersion(v string) (major, minor int, ok bool) {
	if len(v) > 0 && v[0] == 'v' {
		v = v[1:]
	}
	var rest string
	if _, err := fmt.Sscanf(v, "%d.%d%s", &major, &minor, &rest); err != nil && rest == "" {
		if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil {
			return 0, 0, false
		}
	}
	return major, minor, true
}

// Load stages the segment files of src's selected partitions into the
// target's storage, imports them into db.name, and removes the staged
// copies. It returns the rows the collection holds afterwards.
func (l *Loader) Load(ctx context.Context, src *manifest.Collection, db, name string, partitions []string) (int64, error) {
	if err := l.checkFieldIDs(ctx, src, db, name); err != nil {
		return 0, err
	}
	prefix := "milvault-restore-" + randomHex(8) + "/"
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
		defer cancel()
		_ = l.Storage.Store.DeleteAll(cctx, prefix) // staged copies only; a failure leaves them for the operator
	}()
	for _, part := range partitions {
		if err := l.loadPartition(ctx, src, db, name, part, prefix); err != nil {
			return 0, err
		}
	}
	return l.checkRows(ctx, src, db, name, partitions)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// loadPartition stages and imports the segments of one partition.
func (l *Loader) loadPartition(ctx context.Context, src *manifest.Collection, db, name, part, prefix string) error {
	var partID int64
	staged := 0
	for _, s := range src.Segments {
		if s.Partition != part {
			continue
		}
		partID = s.PartitionID
		for _, b := range s.Binlogs {
			if b.Kind == manifest.BinlogStats {
				continue // the import rebuilds statistics
			}
			if err := l.stage(ctx, prefix+objectKey(src.ID, s, b), b.File); err != nil {
				return err
			}
			staged++
		}
	}
	if staged == 0 {
		return nil
	}
	tail := strconv.FormatInt(src.ID, 10) + "/" + strconv.FormatInt(partID, 10)
	ids, err := l.Milvus.ImportBinlogs(ctx, db, name, part,
		l.Storage.serverPath(prefix+"insert_log/"+tail), l.Storage.serverPath(prefix+"delta_log/"+tail))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := l.Milvus.WaitImport(ctx, id, nil); err != nil {
			return fmt.Errorf("import segment files of partition %s: %w", part, err)
		}
	}
	return nil
}

// stage copies one stored file into the target's storage, checked on the
// way: a damaged file fails the copy and leaves nothing under key.
func (l *Loader) stage(ctx context.Context, key string, f manifest.File) error {
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(l.Repo.ReadFile(ctx, f, pw)) }()
	err := l.Storage.Store.Put(ctx, key, pr)
	pr.CloseWithError(err)
	if err != nil {
		return fmt.Errorf("stage %s into Milvus storage: %w", f.Path, err)
	}
	l.progress().Bytes(f.Size)
	return nil
}

// checkFieldIDs refuses a created collection whose field ids differ from
// those the segment files were written with.
func (l *Loader) checkFieldIDs(ctx context.Context, src *manifest.Collection, db, name string) error {
	var want schemapb.CollectionSchema
	if err := protojson.Unmarshal(src.Schema, &want); err != nil {
		return fmt.Errorf("schema of %s in the backup: %w", src.QualifiedName(), err)
	}
	desc, err := l.Milvus.Describe(ctx, db, name)
	if err != nil {
		return err
	}
	got := map[string]int64{}
	for _, f := range desc.GetSchema().GetFields() {
		got[f.GetName()] = f.GetFieldID()
	}
	for _, f := range want.GetFields() {
		if id, ok := got[f.GetName()]; !ok || id != f.GetFieldID() {
			return fmt.Errorf("the created collection %s.%s numbers field %s %d, the segment files %d: binlog import needs equal field ids; take a logical backup instead", db, name, f.GetName(), id, f.GetFieldID())
		}
	}
	return nil
}

// checkRows compares the restored row count with the backup's when that
// is exact (taken with count(*), or no deletes recorded).
func (l *Loader) checkRows(ctx context.Context, src *manifest.Collection, db, name string, partitions []string) (int64, error) {
	got, err := l.Milvus.RowCount(ctx, db, name)
	if err != nil {
		return 0, err
	}
	if exactRows(src) && len(partitions) == len(src.Partitions) && got != src.Rows {
		return got, fmt.Errorf("imported %d rows into %s.%s, but the backup holds %d", got, db, name, src.Rows)
	}
	l.progress().Rows(got)
	return got, nil
}

// exactRows reports whether src.Rows is the live row count.
func exactRows(src *manifest.Collection) bool {
	if src.LoadState == milvus.LoadStateLoaded {
		return true
	}
	for _, s := range src.Segments {
		for _, b := range s.Binlogs {
			if b.Kind == manifest.BinlogDelta {
				return false
			}
		}
	}
	return true
}

// CheckServer refuses, by its version, a server native backups were not
// built for: Milvus older than 2.3 (binlog layout and import differ).
func CheckServer(version string) error {
	if major, minor, ok := parseVersion(version); !ok || major < 2 || major == 2 && minor < 3 {
		return fmt.Errorf("native backups need Milvus 2.3 or newer (this server says %q)", version)
	}
	return nil
}
