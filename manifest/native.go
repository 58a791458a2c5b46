package manifest

import (
	"fmt"
	"path"
	"strings"

	"github.com/milvault/milvault/checksum"
)

// ModeNative is Options.Mode of a native backup: the collections' data is
// Milvus's own segment files (binlogs), listed per collection in
// Collection.Segments, instead of Parquet files under Partition.Files.
const ModeNative = "native"

// Binlog kinds of a native backup's segment files, named after the folders
// Milvus keeps them in (insert_log, delta_log, stats_log).
const (
	BinlogInsert = "insert"
	BinlogDelta  = "delta"
	BinlogStats  = "stats"
)

// Segment is one sealed segment of a native backup.
type Segment struct {
	ID          int64    `json:"id"`
	PartitionID int64    `json:"partition_id"`
	Partition   string   `json:"partition"`
	Rows        int64    `json:"rows"` // rows Milvus counted in the segment (deleted ones included)
	Binlogs     []Binlog `json:"binlogs"`
}

// Binlog is one segment file: where Milvus kept it and where the repository
// keeps it. Field is the field id for insert and stats logs (0 for delta
// logs); LogID is the last element of Milvus's object name.
type Binlog struct {
	Kind  string `json:"kind"`
	Field int64  `json:"field,omitempty"`
	LogID string `json:"log_id"`
	File  File   `json:"file"`
}

// IsNative reports whether m is a native backup.
func (m *Manifest) IsNative() bool { return m.Options.Mode == ModeNative }

// SegmentFiles returns the repository files of collection c's segments, in
// manifest order (a file shared by two binlogs is listed twice).
func (c *Collection) SegmentFiles() []File {
	var out []File
	for _, s := range c.Segments {
		for _, b := range s.Binlogs {
			out = append(out, b.File)
		}
	}
	return out
}

// BlobPrefix is the folder of the repository's content-addressed files,
// shared by every backup that holds the same bytes.
const BlobPrefix = "blobs/"

// BlobPath is the store name of the content-addressed file whose SHA-256
// digest is hexDigest: blobs/<first two hex digits>/<hex digest>. It says
// nothing about the collection the bytes came from.
func BlobPath(hexDigest string) string {
	return BlobPrefix + hexDigest[:2] + "/" + hexDigest
}

// validateSegments checks a native backup's segment list: every binlog has
// a known kind and a content-addressed file with a valid digest.
func validateSegments(c *Collection) error {
	for _, s := range c.Segments {
		for _, b := range s.Binlogs {
			if err := validateBinlog(b); err != nil {
				return fmt.Errorf("collection %s segment %d: %w", c.QualifiedName(), s.ID, err)
			}
		}
	}
	return nil
}

func validateBinlog(b Binlog) error {
	switch b.Kind {
	case BinlogInsert, BinlogDelta, BinlogStats:
	default:
		return fmt.Errorf("binlog %s: unknown kind %q", b.LogID, b.Kind)
	}
	f := b.File
	if path.Clean(f.Path) != f.Path || !strings.HasPrefix(f.Path, BlobPrefix) || strings.Contains(f.Path, "..") {
		return fmt.Errorf("binlog %s: file path %q is outside %s", b.LogID, f.Path, BlobPrefix)
	}
	if f.Size < 0 {
		return fmt.Errorf("binlog %s: negative size", b.LogID)
	}
	if _, _, err := checksum.ParseDigest(f.Checksum); err != nil {
		return fmt.Errorf("binlog %s: %w", b.LogID, err)
	}
	return nil
}

// Sharing tells how a backup's content-addressed files are shared.
type Sharing struct {
	Files  int   // distinct content-addressed files of the backup
	Bytes  int64 // their size
	Shared int64 // bytes of those files that other backups also reference
}

// SharingOf computes m's sharing with the backups in others (m itself is
// skipped when listed there).
func SharingOf(m *Manifest, others []*Manifest) Sharing {
	elsewhere := map[string]bool{}
	for _, o := range others {
		if o.ID == m.ID {
			continue
		}
		for _, f := range o.Files() {
			elsewhere[f.Path] = true
		}
	}
	var s Sharing
	seen := map[string]bool{}
	for _, f := range m.Files() {
		if !strings.HasPrefix(f.Path, BlobPrefix) || seen[f.Path] {
			continue
		}
		seen[f.Path] = true
		s.Files++
		s.Bytes += f.Size
		if elsewhere[f.Path] {
			s.Shared += f.Size
		}
	}
	return s
}
