package importer

import (
	"context"
	"encoding/json"
	"io"
	"path"
	"strings"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/export"
	"github.com/milvault/milvault/repo"
)

// defaultPartition is the partition every collection has.
const defaultPartition = "_default"

// Source is what an import folder holds: data files (Parquet, JSON lines
// or CSV, one format) by target partition, and the export's schema when the
// folder is a milvault export.
type Source struct {
	Schema *export.Schema      // nil: plain Parquet files (e.g. pymilvus BulkWriter output)
	Files  map[string][]string // partition -> file names, in name order
	Order  []string            // partitions in the order files were found
	Sizes  map[string]int64    // file name -> size
	Ext    string              // ".parquet", ".jsonl" or ".csv"
	root   string              // the collection folder, "" or ending in "/"
	other  []string            // files that are neither Parquet nor the schema
}

// Discover lists src and groups its data files. A folder holding
// schema.json (a collection folder of `milvault export`, or a folder with
// exactly one of them below it) maps each partition folder to its
// partition; any other folder of data files goes into partition (default
// _default), whatever its sub-folders.
func Discover(ctx context.Context, src repo.Store, partition string) (*Source, error) {
	files, err := src.List(ctx, "")
	if err != nil {
		return nil, err
	}
	s := &Source{Files: map[string][]string{}, Sizes: map[string]int64{}}
	if err := s.findSchema(ctx, src, files); err != nil {
		return nil, err
	}
	for _, f := range files {
		if !strings.HasPrefix(f.Name, s.root) || f.Name == s.root+export.SchemaFile {
			continue
		}
		ext := path.Ext(f.Name)
		if !formats[ext] {
			s.other = append(s.other, f.Name)
			continue
		}
		if s.Ext == "" {
			s.Ext = ext
		}
		if ext != s.Ext {
			return nil, errkind.New(errkind.Usage, "%s holds both %s and %s files: import one format at a time", src.Location(), s.Ext, ext)
		}
		p, err := s.partitionOf(f.Name, partition)
		if err != nil {
			return nil, err
		}
		if _, seen := s.Files[p]; !seen {
			s.Order = append(s.Order, p)
		}
		s.Files[p] = append(s.Files[p], f.Name)
		s.Sizes[f.Name] = f.Size
	}
	if len(s.Order) == 0 {
		return nil, errkind.New(errkind.Usage, "%s holds no .parquet, .jsonl or .csv files", src.Location())
	}
	return s, nil
}

// findSchema sets s.Schema and s.root from the one schema.json among files.
func (s *Source) findSchema(ctx context.Context, src repo.Store, files []repo.FileInfo) error {
	var found []string
	for _, f := range files {
		if path.Base(f.Name) == export.SchemaFile {
			found = append(found, f.Name)
		}
	}
	switch {
	case len(found) == 0:
		return nil
	case len(found) > 1:
		return errkind.New(errkind.Usage, "%s holds %d exported collections (%s): point --from at one collection folder",
			src.Location(), len(found), strings.Join(found, ", "))
	}
	s.root = strings.TrimSuffix(found[0], export.SchemaFile)
	rc, err := src.Open(ctx, found[0])
	if err != nil {
		return err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
	if err != nil {
		return err
	}
	var sch export.Schema
	if err := json.Unmarshal(data, &sch); err != nil || sch.Format != export.SchemaFormat {
		return errkind.New(errkind.Usage, "%s is not a milvault export schema (%v)", found[0], err)
	}
	if sch.Version > 1 {
		return errkind.New(errkind.Usage, "%s is export schema version %d; this milvault reads version 1: upgrade milvault", found[0], sch.Version)
	}
	s.Schema = &sch
	return nil
}

// partitionOf is the target partition of a data file.
func (s *Source) partitionOf(name, partition string) (string, error) {
	if s.Schema == nil {
		if partition == "" {
			return defaultPartition, nil
		}
		return partition, nil
	}
	rel := strings.TrimPrefix(name, s.root)
	p, _, ok := strings.Cut(rel, "/")
	if !ok {
		return "", errkind.New(errkind.Usage, "%s lies outside the partition folders of the export", name)
	}
	if partition != "" && partition != p {
		return "", errkind.New(errkind.Usage, "--partition %s: the export names the partition of each file by its folder (%s)", partition, p)
	}
	return p, nil
}
