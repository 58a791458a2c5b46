// Package pitr restores a collection as it was at a point in time: the
// newest backup of it taken before that time, then the writes the guard
// captured after the backup (package capture) replayed in timestamp order
// up to that time.
//
// The collection is followed through the schema and namespace changes the
// guard captured (lineage.go): the writes made under an earlier name are
// replayed too, a time after a real drop is a *DroppedError, a time after a
// rename away is a *RenamedError, and a collection created again is
// restored from a backup of the new one or, when there is none, from its
// captured CreateCollection and every change since (create.go).
//
// The boundary: a backup of Milvus 2.3.5 is not pinned at its snapshot
// timestamp, so a write acknowledged while the backup was being read may or
// may not be in it. Replay therefore starts right after the snapshot
// timestamp (every write at or before it is in the backup: reads are
// guaranteed at it) and is idempotent: an Insert is replayed as an Upsert
// (with the keys Milvus generated, for an auto_id collection restored with
// its keys preserved), an Upsert as itself, and a Delete as itself (deleting
// a key twice changes nothing). The one state this cannot rebuild is a
// collection in which an Insert added a second row with an existing primary
// key: the replayed upsert keeps one row per key.
package pitr
