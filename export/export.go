// Package export writes the rows of a backup as plain files that other
// tools read directly: Parquet (pandas, DuckDB, Spark, pyarrow), JSON
// lines (jq, Python's json module) or CSV. Each collection gets a folder
// <database>/<collection>/ holding schema.json (see Schema) and one folder
// per partition with one file per data file of the backup
// (part-NNNNN.parquet|jsonl|csv). Vectors are lists of numbers; JSON
// fields, the dynamic field ($meta) and sparse vectors are JSON objects.
//
// Files are streamed: each data file of the backup is read in record
// batches through the repository (checked against the manifest as a
// restore reads it) and written to the destination store as it is
// encoded, so memory does not grow with the size of the backup. The
// Parquet files use the column layout of the backup itself, which is
// Milvus's bulk-import layout, so package importer (and Milvus bulk
// import) can load them again.
package export

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
)

// Formats are the formats Run writes, by name.
var Formats = []string{"parquet", "jsonl", "csv"}

// batchRows bounds the rows of one record read from the backup.
const batchRows = 1024

// Options configure an export.
type Options struct {
	Format      string   // "parquet" (default), "jsonl" or "csv"
	Collections []string // names (or database.name) to export; none: all
	Progress    progress.Progress
	// Lock, when set, is a lock on the repository the caller holds;
	// otherwise Run holds a shared one while it reads the backup, so a
	// prune cannot delete the files under it.
	Lock *repo.Lock
	// LockWait is how long to wait for another operation's exclusive lock.
	LockWait time.Duration
}

// Result describes what Run wrote.
type Result struct {
	Collections []CollectionResult `json:"collections"`
	Rows        int64              `json:"rows"`
	Files       int                `json:"files"`
}

// CollectionResult is one exported collection.
type CollectionResult struct {
	Database   string `json:"database"`
	Collection string `json:"collection"`
	Folder     string `json:"folder"`
	Rows       int64  `json:"rows"`
	Files      int    `json:"files"`
}

// Run writes the rows of backup m, read from r, into dst in o.Format. It
// refuses (before writing anything) an unknown format, a collection the
// backup does not hold, and a destination that already holds files in a
// collection's folder.
func Run(ctx context.Context, r *repo.Repository, m *manifest.Manifest, dst repo.Store, o Options) (*Result, error) {
	if o.Format == "" {
		o.Format = "parquet"
	}
	if !slices.Contains(Formats, o.Format) {
		return nil, errkind.New(errkind.Usage, "export format %q: use parquet, jsonl or csv", o.Format)
	}
	if o.Progress == nil {
		o.Progress = progress.Nop
	}
	colls, err := selectCollections(m, o.Collections)
	if err != nil {
		return nil, err
	}
	if err := checkEmpty(ctx, dst, colls); err != nil {
		return nil, err
	}
	_, ctx, unlock, err := r.HoldBackup(ctx, o.Lock, repo.LockOptions{Operation: "export", Wait: o.LockWait}, m.ID)
	if err != nil {
		return nil, err
	}
	defer unlock()
	res := &Result{}
	for _, mc := range colls {
		cr, err := exportCollection(ctx, r, m, mc, dst, o)
		if err != nil {
			return res, fmt.Errorf("export %s: %w", mc.QualifiedName(), err)
		}
		res.Collections = append(res.Collections, *cr)
		res.Rows += cr.Rows
		res.Files += cr.Files
	}
	return res, nil
}

// selectCollections returns the collections of m that names select.
func selectCollections(m *manifest.Manifest, names []string) ([]*manifest.Collection, error) {
	var out []*manifest.Collection
	for i := range m.Collections {
		mc := &m.Collections[i]
		if len(names) == 0 || slices.ContainsFunc(names, mc.Matches) {
			out = append(out, mc)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(out, func(mc *manifest.Collection) bool { return mc.Matches(n) }) {
			return nil, errkind.New(errkind.NotFound, "backup %s holds no collection %q (it holds %s)", m.ID, n, collectionNames(m))
		}
	}
	return out, nil
}

func collectionNames(m *manifest.Manifest) string {
	var s string
	for i, c := range m.Collections {
		if i > 0 {
			s += ", "
		}
		s += c.QualifiedName()
	}
	return s
}

// folder is the destination folder of a collection.
func folder(mc *manifest.Collection) string { return mc.Database + "/" + mc.Name + "/" }

// checkEmpty refuses a destination that already holds an export of one of
// colls, so that nothing is overwritten.
func checkEmpty(ctx context.Context, dst repo.Store, colls []*manifest.Collection) error {
	for _, mc := range colls {
		files, err := dst.List(ctx, folder(mc))
		if err != nil && !errors.Is(err, repo.ErrNotFound) {
			return err
		}
		if len(files) > 0 {
			return errkind.New(errkind.Conflict, "%s already holds %d files under %s: export into an empty folder",
				dst.Location(), len(files), folder(mc))
		}
	}
	return nil
}

func exportCollection(ctx context.Context, r *repo.Repository, m *manifest.Manifest, mc *manifest.Collection, dst repo.Store, o Options) (*CollectionResult, error) {
	schema, err := mc.DecodeSchema()
	if err != nil {
		return nil, err
	}
	cr := &CollectionResult{Database: mc.Database, Collection: mc.Name, Folder: folder(mc)}
	o.Progress.Phase("export "+mc.QualifiedName(), mc.Rows, 0)
	for _, p := range mc.Partitions {
		for i, f := range p.Files {
			name := fmt.Sprintf("%s%s/part-%05d.%s", folder(mc), p.Name, i, o.Format)
			if err := exportFile(ctx, r, schema, f, dst, name, o); err != nil {
				return nil, fmt.Errorf("%s: %w", f.Path, err)
			}
			cr.Rows += f.Rows
			cr.Files++
		}
	}
	s, err := NewSchema(m, mc, schema)
	if err != nil {
		return nil, err
	}
	// schema.json last: its presence says the collection's files are complete.
	if err := putJSON(ctx, dst, folder(mc)+SchemaFile, s); err != nil {
		return nil, err
	}
	return cr, nil
}

// exportFile encodes one data file of the backup into dst/name, streaming
// through a pipe: the store reads what the encoder writes.
func exportFile(ctx context.Context, r *repo.Repository, schema *schemapb.CollectionSchema, f manifest.File, dst repo.Store, name string, o Options) error {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := encodeFile(ctx, r, schema, f, pw, o)
		pw.CloseWithError(err)
		done <- err
	}()
	err := dst.Put(ctx, name, pr)
	pr.CloseWithError(errors.New("export: destination stopped reading")) // unblocks a failed Put's encoder
	if encErr := <-done; encErr != nil {
		return encErr
	}
	return err
}

// encodeFile writes the rows of f to w in o.Format.
func encodeFile(ctx context.Context, r *repo.Repository, schema *schemapb.CollectionSchema, f manifest.File, w io.Writer, o Options) error {
	enc, err := newEncoder(o.Format, schema, w)
	if err != nil {
		return err
	}
	err = r.EachRecord(ctx, schema, f, batchRows, func(rec arrow.RecordBatch) error {
		if err := enc.Write(rec); err != nil {
			return err
		}
		o.Progress.Rows(rec.NumRows())
		return nil
	})
	if cerr := enc.Close(); err == nil {
		err = cerr
	}
	return err
}

// encoder writes records in one format.
type encoder interface {
	Write(arrow.RecordBatch) error
	Close() error
}

func newEncoder(format string, schema *schemapb.CollectionSchema, w io.Writer) (encoder, error) {
	switch format {
	case "jsonl":
		return newJSONLEncoder(schema, w), nil
	case "csv":
		return newCSVEncoder(schema, w), nil
	}
	sch, err := columnar.ArrowSchema(schema)
	if err != nil {
		return nil, err
	}
	return columnar.NewFileWriter(w, sch, columnar.WriterOptions{})
}
