package restore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// Bulk import
//
// With Params.BulkImportDir set, a collection's data files are not read and
// sent as Insert calls: each file (already Parquet in the layout Milvus
// bulk import reads) is copied into a fresh directory under BulkImportDir,
// its checksum checked again on the way, and handed to the server's Import
// RPC, one task per file (Milvus 2.3 takes one Parquet file per task), up to
// Params.Workers tasks at a time. Each staged file is removed once its task
// has ended; the staging directory is removed when the collection is done,
// also on failure. The row count is then checked as on the insert path.
//
// The server reads the staged files itself, so BulkImportDir must be a
// directory the server can read: on the same machine for a server with
// local storage (Milvus reads an absolute path), or mounted into the
// server's container, with BulkImportServerPath naming the directory as the
// server sees it.
//
// Collections that bulk import cannot restore exactly fall back to Insert
// calls with a warning, or fail with Params.BulkImportStrict: servers
// without the import RPCs (Milvus Lite), field types outside what Milvus
// 2.3's Parquet import reads, auto_id keys with --auto-id=regenerate (the
// server demands files without the key column), and a server that refuses
// the first import request of a collection (nothing is written by then).
// A task that fails once started is an error: the collection is dropped as
// on any failed restore.

// ImportNotPossibleError reports why a collection cannot be bulk-imported
// when Params.BulkImportStrict forbids falling back to Insert calls.
type ImportNotPossibleError struct {
	Collection string // database.name of the target
	Reason     string
}

func (e *ImportNotPossibleError) Error() string {
	return fmt.Sprintf("cannot bulk-import %s: %s (restore without --bulk-import-strict to fall back to Insert calls)", e.Collection, e.Reason)
}

// CheckBulkImportDir checks that dir is an existing directory milvault can
// write to.
func CheckBulkImportDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("bulk import directory %s does not exist: create it on a disk the Milvus server can read", dir)
	}
	if err != nil {
		return fmt.Errorf("bulk import directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("bulk import directory %s is not a directory", dir)
	}
	probe, err := os.CreateTemp(dir, ".milvault-probe-*")
	if err != nil {
		return fmt.Errorf("bulk import directory %s is not writable: %w", dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// planBulkImport decides, before anything is written, which jobs are
// bulk-imported. It returns the warnings for jobs that fall back to Insert
// calls, or an *ImportNotPossibleError in strict mode.
func planBulkImport(ctx context.Context, c Milvus, p Params, jobs []*job) ([]string, error) {
	if p.BulkImportDir == "" {
		return nil, nil
	}
	if err := CheckBulkImportDir(p.BulkImportDir); err != nil {
		return nil, err
	}
	ok, err := c.CanImport(ctx)
	if err != nil {
		return nil, err
	}
	var warnings []string
	for _, j := range jobs {
		reason := ""
		if !ok {
			reason = fmt.Sprintf("Milvus %s at %s does not support bulk import", c.Version(), c.Address())
		} else {
			reason = importBlocker(j.schema)
		}
		if reason == "" {
			j.bulk = true
			continue
		}
		target := j.database + "." + j.name
		if p.BulkImportStrict {
			return nil, &ImportNotPossibleError{Collection: target, Reason: reason}
		}
		warnings = append(warnings, fallbackWarning(target, reason))
	}
	return warnings, nil
}

func fallbackWarning(target, reason string) string {
	return fmt.Sprintf("%s: %s; restoring it with Insert calls instead of bulk import", target, reason)
}

// importBlocker returns why the backup files of a collection with schema s
// (as it will be created) cannot be bulk-imported exactly, or "". Only the
// field types that Milvus 2.3's Parquet import reads in milvault's file
// layout pass; nullable fields are left out because that importer ignores
// the null markers.
func importBlocker(s *schemapb.CollectionSchema) string {
	if pk := milvus.PrimaryField(s); pk != nil && pk.GetAutoID() {
		return fmt.Sprintf("primary key %q is auto_id with --auto-id=regenerate, and bulk import only takes files without the key column", pk.GetName())
	}
	if len(s.GetFunctions()) > 0 {
		return "the schema has functions whose outputs the server computes"
	}
	for _, f := range s.GetFields() {
		if f.GetNullable() {
			return fmt.Sprintf("field %q is nullable", f.GetName())
		}
		switch f.GetDataType() {
		case schemapb.DataType_Bool, schemapb.DataType_Int8, schemapb.DataType_Int16, schemapb.DataType_Int32,
			schemapb.DataType_Int64, schemapb.DataType_Float, schemapb.DataType_Double, schemapb.DataType_VarChar,
			schemapb.DataType_String, schemapb.DataType_JSON, schemapb.DataType_FloatVector, schemapb.DataType_BinaryVector:
		case schemapb.DataType_Array:
			if f.GetElementType() == schemapb.DataType_JSON || f.GetElementType() == schemapb.DataType_Array {
				return fmt.Sprintf("field %q is an array of %s", f.GetName(), f.GetElementType())
			}
		default:
			return fmt.Sprintf("field %q has type %s", f.GetName(), f.GetDataType())
		}
	}
	return ""
}

// stagedFile is one backup file to import.
type stagedFile struct {
	file      manifest.File
	partition string // target partition; "" for partition-key collections
}

// importer stages and imports the files of one job.
type importer struct {
	deps  Deps
	p     Params
	j     *job
	dir   string // local staging directory of this job
	sdir  string // the same directory as the server sees it
	label string
}

// importData bulk-imports every file of the job and checks the row count.
// A non-nil refused means that the server refused the first file (outside
// strict mode): nothing was written and the caller should use Insert calls.
func importData(ctx context.Context, deps Deps, p Params, j *job) (rows int64, refused, err error) {
	var want int64
	var files []stagedFile
	for _, part := range j.partitions {
		want += part.Rows
		target := part.Name
		if j.src.PartitionKey {
			target = ""
		}
		for _, f := range part.Files {
			if f.Rows > 0 {
				files = append(files, stagedFile{file: f, partition: target})
			}
		}
	}
	im, err := newImporter(deps, p, j)
	if err != nil {
		return 0, nil, err
	}
	defer os.RemoveAll(im.dir)
	deps.Progress.Phase(fmt.Sprintf("bulk import %s -> %s.%s", j.src.QualifiedName(), j.database, j.name), want, 0)
	if len(files) > 0 {
		if refused, err := im.run(ctx, files); refused != nil || err != nil {
			return 0, refused, err
		}
	}
	got, err := checkRows(ctx, deps, j, want)
	return got, nil, err
}

func newImporter(deps Deps, p Params, j *job) (*importer, error) {
	dir, err := os.MkdirTemp(p.BulkImportDir, "milvault-import-*")
	if err != nil {
		return nil, fmt.Errorf("bulk import: create a staging directory in %s: %w", p.BulkImportDir, err)
	}
	// The server may run as another user: it must be able to enter the
	// directory and read the files.
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("bulk import: %w", err)
	}
	sdir, err := serverDir(p, dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &importer{deps: deps, p: p, j: j, dir: dir, sdir: sdir, label: j.database + "." + j.name}, nil
}

// serverDir maps the local staging directory dir (inside p.BulkImportDir)
// to the path the server reads.
func serverDir(p Params, dir string) (string, error) {
	root := p.BulkImportServerPath
	if root == "" {
		abs, err := filepath.Abs(p.BulkImportDir)
		if err != nil {
			return "", fmt.Errorf("bulk import directory: %w", err)
		}
		root = filepath.ToSlash(abs)
	}
	return path.Join(root, filepath.Base(dir)), nil
}

// run imports the files: the first alone (a refusal of it means nothing
// was written, so the caller may fall back), then the rest with up to
// p.Workers tasks at a time.
func (im *importer) run(ctx context.Context, files []stagedFile) (refused, err error) {
	first, staged, err := im.submit(ctx, 0, files[0])
	var re *milvus.ImportRefusedError
	if errors.As(err, &re) && !im.p.BulkImportStrict {
		return re, nil
	}
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(im.p.Workers)
	g.Go(func() error { return im.wait(gctx, first, staged, files[0]) })
	for i, f := range files[1:] {
		g.Go(func() error {
			id, staged, err := im.submit(gctx, i+1, f)
			if err != nil {
				return err
			}
			return im.wait(gctx, id, staged, f)
		})
	}
	return nil, g.Wait()
}

// submit stages file number i and starts its import task; it returns the
// task id and the local path of the staged file.
func (im *importer) submit(ctx context.Context, i int, f stagedFile) (int64, string, error) {
	name := fmt.Sprintf("%06d.parquet", i)
	local := filepath.Join(im.dir, name)
	if err := im.stage(ctx, f.file, local); err != nil {
		return 0, "", fmt.Errorf("stage %s for bulk import: %w", f.file.Path, err)
	}
	serverPath := path.Join(im.sdir, name)
	id, err := im.deps.Milvus.Import(ctx, im.j.database, im.j.name, f.partition, serverPath)
	if err != nil {
		os.Remove(local)
		return 0, "", fmt.Errorf("bulk import %s (staged as %s): %w", f.file.Path, serverPath, err)
	}
	return id, local, nil
}

// stage copies a backup file to dst and checks its size and checksum again
// (unless verification is off).
func (im *importer) stage(ctx context.Context, f manifest.File, dst string) error {
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	n, digest, err := im.deps.Repo.HashFile(ctx, f, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
	case n != f.Size:
		err = fmt.Errorf("file has %d bytes, manifest says %d (it changed since it was verified)", n, f.Size)
	case !im.p.SkipVerify && digest != f.Checksum:
		err = fmt.Errorf("checksum %s does not match the manifest's %s (it changed since it was verified)", digest, f.Checksum)
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

// wait follows a task to its end, reports progress in rows, removes the
// staged file and checks the task's row count.
func (im *importer) wait(ctx context.Context, id int64, staged string, f stagedFile) error {
	var reported int64
	t, err := im.deps.Milvus.WaitImport(ctx, id, func(t milvus.ImportTask) {
		done := f.file.Rows * int64(min(max(t.Progress, 0), 100)) / 100
		if t.Completed() {
			done = f.file.Rows
		}
		if done > reported {
			im.deps.Progress.Rows(done - reported)
			reported = done
		}
	})
	os.Remove(staged)
	if err != nil {
		return fmt.Errorf("bulk import %s into %s: %w%s", f.file.Path, im.label, err, importHint(err))
	}
	if t.Rows != f.file.Rows {
		return fmt.Errorf("bulk import %s into %s: the server imported %d rows, the file holds %d", f.file.Path, im.label, t.Rows, f.file.Rows)
	}
	return nil
}

// importHint explains the failure of a server that cannot see the staged
// files.
func importHint(err error) string {
	var fe *milvus.ImportFailedError
	if errors.As(err, &fe) && strings.Contains(strings.ToLower(fe.Reason), "no such file") {
		return " (the server cannot read the staged file: --bulk-import must name a directory the Milvus server can read at the same path, or give --bulk-import-server-path with the path under which the server sees it)"
	}
	return ""
}
