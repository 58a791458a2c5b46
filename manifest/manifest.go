// Package manifest defines the document that commits a backup: what was
// backed up, from which Milvus, and every data file with its size, row count
// and checksum. A backup exists only once its manifest has been written; the
// manifest is written after every file it names.
package manifest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// FormatVersion is the version of the manifest layout written by this build.
// Readers refuse manifests with a newer version.
const FormatVersion = 1

// Manifest describes one committed backup.
type Manifest struct {
	FormatVersion int          `json:"format_version"`
	ID            string       `json:"id"`
	Name          string       `json:"name,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`   // when the backup started
	CompletedAt   time.Time    `json:"completed_at"` // when the manifest was written
	ToolVersion   string       `json:"tool_version"`
	Milvus        Source       `json:"milvus"`
	Selection     Selection    `json:"selection"`
	Snapshot      Snapshot     `json:"snapshot"`
	Options       Options      `json:"options"`
	Collections   []Collection `json:"collections"`
	// RBAC is the server's users, roles and grants, recorded by
	// backup --rbac (nil otherwise).
	RBAC *RBAC `json:"rbac,omitempty"`

	// Sealed is set on a manifest of an encrypted repository that was read
	// without its key: only FormatVersion, ID, CreatedAt, CompletedAt and
	// Stored are known; Name, Milvus, Selection, Snapshot, Options and
	// Collections are hidden.
	Sealed bool `json:"-"`
	// Stored lists the stored files of a Sealed manifest (opaque paths,
	// stored sizes and checksums, no rows).
	Stored []File `json:"-"`
}

// Source identifies the Milvus the backup was taken from.
type Source struct {
	Address string `json:"address"`
	Version string `json:"version"`
}

// Selection records what the operator asked to back up.
type Selection struct {
	AllDatabases bool     `json:"all_databases,omitempty"`
	Databases    []string `json:"databases,omitempty"`
	Collections  []string `json:"collections,omitempty"`
	Partitions   []string `json:"partitions,omitempty"`
}

// Snapshot is the point in time the backup represents.
type Snapshot struct {
	// Timestamp is the Milvus hybrid timestamp reads were guaranteed at.
	Timestamp uint64    `json:"timestamp"`
	Time      time.Time `json:"time"`
	// Pinned says whether the server pinned every read of the scan at
	// Timestamp (MVCC); when false, rows written during the backup may or may
	// not be included.
	Pinned bool `json:"pinned"`
}

// Options records how the data files were written.
type Options struct {
	Compression      string `json:"compression"` // "zstd" or "none"
	CompressionLevel int    `json:"compression_level,omitempty"`
	Checksum         string `json:"checksum"` // algorithm of every file digest
	ChunkBytes       int64  `json:"chunk_bytes"`
}

// Collection is one backed-up collection.
type Collection struct {
	Database string `json:"database"`
	Name     string `json:"name"`
	ID       int64  `json:"id,omitempty"`
	// Schema is the collection schema exactly as the server described it
	// (protojson of milvus.proto.schema.CollectionSchema).
	Schema           json.RawMessage   `json:"schema"`
	ShardsNum        int32             `json:"shards_num"`
	ConsistencyLevel string            `json:"consistency_level"`
	Properties       map[string]string `json:"properties,omitempty"`
	Partitions       []Partition       `json:"partitions"`
	Indexes          []Index           `json:"indexes,omitempty"`
	Aliases          []string          `json:"aliases,omitempty"`
	// LoadState is "loaded", "loading", "not_loaded" or "unknown".
	LoadState string `json:"load_state"`
	// LoadedPartitions lists loaded partitions when only some are loaded.
	LoadedPartitions []string `json:"loaded_partitions,omitempty"`
	// PartitionKey is set when the server manages partitions by a key field;
	// data is then stored under a single pseudo-partition "_all".
	PartitionKey bool `json:"partition_key,omitempty"`
	// NumPartitions is the partition count of a partition-key collection.
	NumPartitions int64 `json:"num_partitions,omitempty"`
	Rows          int64 `json:"rows"`
	// ServerRowCount is the server's own statistic at backup time (it can
	// count deleted rows until compaction), kept for information.
	ServerRowCount int64 `json:"server_row_count"`
}

// Partition is one partition's data.
type Partition struct {
	Name  string `json:"name"`
	Rows  int64  `json:"rows"`
	Files []File `json:"files"`
}

// File is one data file.
type File struct {
	Path     string `json:"path"` // store name, relative to the repository root
	Size     int64  `json:"size"`
	Rows     int64  `json:"rows"`
	Checksum string `json:"checksum"` // "algorithm:hex"
}

// Index is one index definition.
type Index struct {
	Name   string            `json:"name"`
	Field  string            `json:"field"`
	Params map[string]string `json:"params"` // index_type, metric_type, params, ...
}

// QualifiedName returns "database.collection".
func (c *Collection) QualifiedName() string { return c.Database + "." + c.Name }

// Files returns every data file of the backup.
func (m *Manifest) Files() []File {
	if m.Sealed {
		return m.Stored
	}
	var out []File
	for _, c := range m.Collections {
		for _, p := range c.Partitions {
			out = append(out, p.Files...)
		}
	}
	return out
}

// TotalRows returns the number of rows in the backup.
func (m *Manifest) TotalRows() int64 {
	var n int64
	for _, c := range m.Collections {
		n += c.Rows
	}
	return n
}

// TotalBytes returns the size of all data files.
func (m *Manifest) TotalBytes() int64 {
	var n int64
	for _, f := range m.Files() {
		n += f.Size
	}
	return n
}

var refPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidateRef checks a backup id or name: 1-128 characters of letters,
// digits, '.', '_' and '-', starting with a letter or digit. This keeps names
// safe as file names (no separators, no "..").
func ValidateRef(kind, s string) error {
	if !refPattern.MatchString(s) || strings.Contains(s, "..") {
		return fmt.Errorf("invalid backup %s %q: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit", kind, s)
	}
	return nil
}
