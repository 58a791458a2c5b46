package milvus

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/protobuf/proto"
)

// SearchRequest is a single-vector search on a float, binary or sparse
// vector field, or a full-text (BM25) search with a text.
type SearchRequest struct {
	Database, Collection string
	Field                string
	Metric               string // as the index was built: L2, IP, COSINE, BM25
	Vector               []float32
	// Binary, when set, is a binary vector (dim/8 bytes) to search with
	// instead of Vector.
	Binary []byte
	// Sparse, when set, is a sparse vector in wire form (little-endian
	// uint32 index, float32 value pairs) to search with instead of Vector.
	Sparse []byte
	// Text, when set, is a text to search a BM25 function's output field
	// with instead of Vector.
	Text   string
	TopK   int
	Params string // index search params as JSON, e.g. {"ef":64}
}

// Search returns the primary keys (int64 or string) of the nearest rows,
// best first, with strong consistency.
func (c *Client) Search(ctx context.Context, r SearchRequest) ([]any, error) {
	hits, err := c.SearchHits(ctx, r)
	out := make([]any, 0, len(hits))
	for _, h := range hits {
		out = append(out, h.Key)
	}
	return out, err
}

// SearchHits returns the nearest rows, best first, with their scores (the
// distance or similarity the server computed), with strong consistency.
func (c *Client) SearchHits(ctx context.Context, r SearchRequest) ([]Hit, error) {
	pg, err := placeholder(r)
	if err != nil {
		return nil, err
	}
	params := r.Params
	if params == "" {
		params = "{}"
	}
	resp, err := c.svc.Search(ctx, &milvuspb.SearchRequest{
		DbName: r.Database, CollectionName: r.Collection, DslType: commonpb.DslType_BoolExprV1,
		SearchInput: &milvuspb.SearchRequest_PlaceholderGroup{PlaceholderGroup: pg}, Nq: 1, ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
		SearchParams: []*commonpb.KeyValuePair{
			{Key: "anns_field", Value: r.Field}, {Key: "topk", Value: strconv.Itoa(r.TopK)},
			{Key: "metric_type", Value: r.Metric}, {Key: "params", Value: params}, {Key: "round_decimal", Value: "-1"},
		},
	})
	if err := check(resp, err); err != nil {
		return nil, fmt.Errorf("search %s.%s: %w", r.Database, r.Collection, err)
	}
	return hits(resp.GetResults()), nil
}

func placeholder(r SearchRequest) ([]byte, error) {
	if pv := otherPlaceholder(r); pv != nil {
		return proto.Marshal(&commonpb.PlaceholderGroup{Placeholders: []*commonpb.PlaceholderValue{pv}})
	}
	if r.Binary != nil {
		return proto.Marshal(&commonpb.PlaceholderGroup{Placeholders: []*commonpb.PlaceholderValue{
			{Tag: "$0", Type: commonpb.PlaceholderType_BinaryVector, Values: [][]byte{r.Binary}},
		}})
	}
	v := r.Vector
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return proto.Marshal(&commonpb.PlaceholderGroup{Placeholders: []*commonpb.PlaceholderValue{
		{Tag: "$0", Type: commonpb.PlaceholderType_FloatVector, Values: [][]byte{buf}},
	}})
}
