// Package capture is the continuous capture log of milvault guard: every
// insert, upsert and delete Milvus acknowledged, and every schema or
// namespace change (DDL: create, drop, rename, partitions, indexes; see
// the Kind constants), in order, with the server's hybrid timestamp and
// the request message exactly as the application sent it, so that a
// restore can replay them on top of a backup (point-in-time recovery).
//
// The log knows nothing about gRPC. A Writer collects records in memory and
// commits them as one segment file at least every commit interval and as
// soon as the pending records reach the segment size (a roll). A segment is
// written only through the repository (Store is implemented by
// *repo.Repository), so the repository's encryption and object lock apply;
// its name, capture/<guard-id>/<first-ts>-<seq>.log, reveals timestamps
// and a counter, never a collection. A caller waits for the commit of the
// segment that holds its record (Ticket.Wait) or not, which is the
// guard's fail-closed or fail-open policy. A segment that could not be
// committed is recorded as a gap in the next one.
//
// The reader (Read, Summarize) lists the segments, checks them (magic,
// per-record CRC-32C, the zstd frame checksum, a trailer with the record
// count; the repository adds authenticated encryption) and returns the
// records of a collection in a timestamp range, in timestamp order, with
// every gap that overlaps it: recorded failures, missing or damaged
// segments, a guard that stopped without closing its log, and the time
// before capture started.
//
// Segments are compressed with zstd from github.com/klauspost/compress,
// which the module already uses through arrow-go.
package capture
