package milvus

import (
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// setReadTimestamp makes query q read as of hybrid timestamp ts (zero: strong
// consistency). This is the one place that decides how a scan's reads are
// timed. With ConsistencyLevel_Customized and GuaranteeTimestamp the server
// waits until it has seen ts; whether it also reads as of ts (MVCC) depends
// on the server:
//
//   - Milvus 2.4 and later pin an iterator query at the guarantee timestamp
//     and answer its session_ts, which Scan then reuses (pinned);
//   - Milvus 2.3 removed time travel: each call reads at the time it
//     arrives, and answers no session_ts (not pinned);
//   - Milvus 2.2 had time travel (travel_timestamp), but its Flush answers
//     no flush timestamp, so there is no ts to travel to (not pinned);
//   - Milvus Lite answers neither (not pinned).
//
// TestScanPinsAtTimestamp and TestPinnedSnapshotUnderWrites check this on
// every server the test scripts start.
func (c *Client) setReadTimestamp(q *milvuspb.QueryRequest, ts uint64) {
	if ts == 0 {
		q.ConsistencyLevel = commonpb.ConsistencyLevel_Strong
		return
	}
	q.ConsistencyLevel = commonpb.ConsistencyLevel_Customized
	q.GuaranteeTimestamp = ts
}

// travels reports Milvus before 2.3, whose queries need legacyQuery.
func (c *Client) travels() bool {
	major, minor, _, ok := parseVersion(c.version)
	return ok && major == 2 && minor < 3
}

// legacyQuery adapts a scan query to Milvus 2.2, which refuses an empty
// expression and returns vector fields only when asked with "%".
func legacyQuery(q *milvuspb.QueryRequest, pk *schemapb.FieldSchema) {
	if q.Expr == "" {
		q.Expr = matchAll(pk)
	}
	q.OutputFields = []string{"*", "%"}
}

// matchAll returns a filter every row matches, for servers that refuse an
// empty query expression (Milvus 2.2).
func matchAll(pk *schemapb.FieldSchema) string {
	if pk.GetDataType() == schemapb.DataType_Int64 {
		return pk.GetName() + " >= -9223372036854775807 || " + pk.GetName() + " < -9223372036854775807"
	}
	return pk.GetName() + ` >= ""`
}
