package milvus

import (
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// setReadTimestamp makes query q read as of hybrid timestamp ts (zero: strong
// consistency). Every server waits until it has seen ts (Customized
// consistency with GuaranteeTimestamp). Milvus 2.2 also reads as of ts (time
// travel: travel_timestamp pins the MVCC snapshot), so reads pin there;
// Milvus 2.3 removed time travel and reads each call at the time the proxy
// receives it; Milvus 2.4+ iterators pin at the session_ts of their first
// answer (see Scan).
func (c *Client) setReadTimestamp(q *milvuspb.QueryRequest, ts uint64) {
	if ts == 0 {
		q.ConsistencyLevel = commonpb.ConsistencyLevel_Strong
		return
	}
	q.ConsistencyLevel = commonpb.ConsistencyLevel_Customized
	q.GuaranteeTimestamp = ts
	if c.travels() {
		q.TravelTimestamp = ts
	}
}

// travels reports a server that honours travel_timestamp (Milvus before 2.3).
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
