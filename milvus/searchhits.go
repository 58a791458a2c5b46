package milvus

import (
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// Hit is one search result: a row's primary key (int64 or string) and the
// score the server gave it.
type Hit struct {
	Key   any
	Score float32
}

// hits pairs the keys of a single-query search result with their scores.
func hits(res *schemapb.SearchResultData) []Hit {
	scores := res.GetScores()
	var out []Hit
	add := func(i int, key any) {
		h := Hit{Key: key}
		if i < len(scores) {
			h.Score = scores[i]
		}
		out = append(out, h)
	}
	for _, id := range res.GetIds().GetIntId().GetData() {
		add(len(out), id)
	}
	for _, id := range res.GetIds().GetStrId().GetData() {
		add(len(out), id)
	}
	return out
}

// otherPlaceholder returns the placeholder of a sparse-vector or text
// search, or nil for a float or binary vector search.
func otherPlaceholder(r SearchRequest) *commonpb.PlaceholderValue {
	switch {
	case r.Sparse != nil:
		return &commonpb.PlaceholderValue{Tag: "$0", Type: commonpb.PlaceholderType_SparseFloatVector, Values: [][]byte{r.Sparse}}
	case r.Text != "":
		return &commonpb.PlaceholderValue{Tag: "$0", Type: commonpb.PlaceholderType_VarChar, Values: [][]byte{[]byte(r.Text)}}
	}
	return nil
}
