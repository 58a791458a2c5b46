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
// Milvus's storage is opened like a repository location (Storage): an
// s3:// URL of the bucket and root path, with credentials from the
// environment, or a local folder for a standalone Milvus with local
// storage on the same host.
package native
