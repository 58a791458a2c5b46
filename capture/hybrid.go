package capture

import "time"

// logicalBits is the number of logical bits below the physical
// milliseconds in a Milvus hybrid timestamp.
const logicalBits = 18

// HybridTS returns the hybrid timestamp of wall time t (logical part 0).
func HybridTS(t time.Time) uint64 { return uint64(t.UnixMilli()) << logicalBits }

// WallTime returns the wall time of hybrid timestamp ts (its physical
// milliseconds), in UTC.
func WallTime(ts uint64) time.Time { return time.UnixMilli(int64(ts >> logicalBits)).UTC() }
