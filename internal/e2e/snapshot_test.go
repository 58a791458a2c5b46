package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/internal/fixture"
	"github.com/milvault/milvault/milvus"
)

// snapshot is what a collection looks like from outside, besides its rows.
type snapshot struct {
	fields      []string // one line per field: name, types, params and flags
	dynamic     bool
	description string
	consistency commonpb.ConsistencyLevel
	partitions  []string
	indexes     []string // one line per index: field, name and params
	aliasTarget string
	loadState   string
	searchIDs   [][]string
}

const (
	searches   = 5
	searchTopK = 10
)

// takeSnapshot describes coll and runs the fixed searches on it.
func (e *env) takeSnapshot(t *testing.T, d *fixture.Dataset, coll string) snapshot {
	t.Helper()
	ctx := testContext(t)
	desc, err := e.client.Describe(ctx, d.Database, coll)
	if err != nil {
		t.Fatalf("describe %s: %v", coll, err)
	}
	s := snapshot{dynamic: desc.GetSchema().GetEnableDynamicField(), description: desc.GetSchema().GetDescription(),
		consistency: desc.GetConsistencyLevel()}
	for _, f := range desc.GetSchema().GetFields() {
		s.fields = append(s.fields, fieldLine(f))
	}
	if s.partitions, err = e.client.Partitions(ctx, d.Database, coll); err != nil {
		t.Fatal(err)
	}
	sort.Strings(s.partitions)
	s.indexes = e.indexLines(t, ctx, d.Database, coll)
	if d.Alias != "" {
		if s.aliasTarget, err = e.client.AliasTarget(ctx, d.Database, d.Alias); err != nil {
			t.Fatal(err)
		}
	}
	if s.loadState, err = e.client.LoadState(ctx, d.Database, coll); err != nil {
		t.Fatal(err)
	}
	for i := range searches {
		ids, err := e.search(ctx, d, coll, d.QueryVector(i))
		if err != nil {
			t.Fatalf("search %d on %s: %v", i, coll, err)
		}
		s.searchIDs = append(s.searchIDs, ids)
	}
	return s
}

// fieldLine renders what must survive a round trip of one field; field ids
// are left out because the server assigns them.
func fieldLine(f *schemapb.FieldSchema) string {
	var params []string
	for _, kv := range f.GetTypeParams() {
		params = append(params, kv.GetKey()+"="+kv.GetValue())
	}
	sort.Strings(params)
	def := "none"
	if f.GetDefaultValue() != nil {
		b, _ := proto.Marshal(f.GetDefaultValue())
		def = fmt.Sprintf("%x", b)
	}
	return fmt.Sprintf("%s type=%s elem=%s params=[%s] pk=%t auto_id=%t nullable=%t dynamic=%t partition_key=%t default=%s",
		f.GetName(), f.GetDataType(), f.GetElementType(), strings.Join(params, ","), f.GetIsPrimaryKey(), f.GetAutoID(),
		f.GetNullable(), f.GetIsDynamic(), f.GetIsPartitionKey(), def)
}

func (e *env) indexLines(t *testing.T, ctx context.Context, db, coll string) []string {
	t.Helper()
	descs, err := e.client.Indexes(ctx, db, coll)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range descs {
		var params []string
		for _, kv := range d.GetParams() {
			params = append(params, kv.GetKey()+"="+kv.GetValue())
		}
		sort.Strings(params)
		out = append(out, fmt.Sprintf("%s name=%s %s", d.GetFieldName(), d.GetIndexName(), strings.Join(params, " ")))
	}
	sort.Strings(out)
	return out
}

// search returns the ids of the topK nearest rows of vector in the float
// vector field, with a search breadth that makes HNSW effectively exact.
func (e *env) search(ctx context.Context, d *fixture.Dataset, coll string, vector []float32) ([]string, error) {
	ids, err := e.client.Search(ctx, milvus.SearchRequest{
		Database: d.Database, Collection: coll, Field: fixture.FieldVector, Metric: "L2",
		Vector: vector, TopK: searchTopK, Params: `{"ef":512}`,
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprint(id)
	}
	return out, nil
}

// compareSnapshots reports every way after differs from before. The alias
// must point at wantAlias.
func compareSnapshots(t *testing.T, before, after snapshot, wantAlias string) {
	t.Helper()
	if !slices.Equal(after.fields, before.fields) {
		t.Errorf("schema fields differ:\ngot:  %s\nwant: %s", strings.Join(after.fields, "\n      "), strings.Join(before.fields, "\n      "))
	}
	check := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("dynamic field", after.dynamic, before.dynamic)
	check("description", after.description, before.description)
	check("consistency level", after.consistency, before.consistency)
	check("partitions", after.partitions, before.partitions)
	if !slices.Equal(after.indexes, before.indexes) {
		t.Errorf("indexes differ:\ngot:  %s\nwant: %s", strings.Join(after.indexes, "\n      "), strings.Join(before.indexes, "\n      "))
	}
	check("alias target", after.aliasTarget, wantAlias)
	check("load state", after.loadState, before.loadState)
	for i := range before.searchIDs {
		check(fmt.Sprintf("search %d ids", i), after.searchIDs[i], before.searchIDs[i])
	}
}
