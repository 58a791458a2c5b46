package backup

import (
	"context"

	"github.com/milvault/milvault/manifest"
)

// NativeWriter stores a collection's data as Milvus's own segment files
// instead of Parquet files: the writer of a native backup (package native
// implements it). Run calls it once per collection, after capturing the
// collection's metadata and flushing it, under the backup's lock and
// pending marker; it fills c.Segments, c.Partitions and c.Rows, and the
// files it stores must be in the repository before it returns (the
// manifest is committed after it, as for a logical backup). snap is the
// collection's flush: every row written before snap.Timestamp is in its
// sealed segments.
type NativeWriter interface {
	WriteCollection(ctx context.Context, m *manifest.Manifest, c *manifest.Collection, partitions []string, snap manifest.Snapshot) error
}

// writeNative hands a captured collection to deps.Native.
func writeNative(ctx context.Context, deps Deps, m *manifest.Manifest, c *captured) error {
	m.Options.Mode = manifest.ModeNative
	m.Options.Compression, m.Options.CompressionLevel, m.Options.ChunkBytes = "none", 0, 0
	m.Options.Checksum = "sha256"
	return deps.Native.WriteCollection(ctx, m, &c.Collection, c.partitions, c.snapshot)
}
