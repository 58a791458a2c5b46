// Package native takes and restores native backups: copies of Milvus's own
// segment files (insert, delta and stats binlogs) instead of rows read
// through Query.
//
// A native backup flushes each collection (through package backup, which
// also captures schema, partitions, indexes, aliases and load state), asks
// data coord for the sealed segments (GetPersistentSegmentInfo), lists
// their files in Milvus's object storage under its root path, and streams
// every file through the repository's SHA-256 into a content-addressed
// file (repo.Repository.PutBlob). Segment files never change once written,
// so a later backup references files an earlier one stored instead of
// copying them again (an incremental backup); deleting a backup removes
// only the files no remaining backup names (repo.Repository.CollectBlobs).
// Milvus's garbage collector is paused while files are copied when the
// server offers the management API for it (GCPauser).
//
// A native restore (Loader, plugged into package restore) stages the files
// into the target Milvus's object storage, checked against the manifest
// on the way, loads them with the Import RPC in binlog mode, and removes
// the staged copies.
//
// Convert writes a logical copy of a native backup offline by decoding its
// binlogs (binlog.go, columns.go) in key-ordered chunks of bounded size
// (convertchunk.go), for servers that cannot import binlogs.
// Freeze and Thaw prepare Milvus for a storage-level snapshot (flush, and a
// bounded garbage-collection pause that expires by itself).
//
// In an encrypted repository the files are encrypted and named with a
// keyed digest, which needs the repository's key (CheckRepository); in a
// repository with an object lock they are stored under its retention.
//
// A killed native backup leaves its stored files and a source hint per
// file (repo.Repository.RememberSource): the next run references them
// without reading them from Milvus again, which is how it resumes.
//
// Milvus's storage is opened like a repository location (Storage): an
// s3:// URL of the bucket and root path, with credentials from the
// environment, or a local folder for a standalone Milvus with local
// storage on the same host.
package native
