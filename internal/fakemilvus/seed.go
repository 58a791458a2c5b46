package fakemilvus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/milvus"
)

// Seed describes a collection for tests: an int64 key "id", a varchar
// "title" and a dim-Dim float vector "v" with a FLAT index.
type Seed struct {
	Database   string // "" means "default"
	Name       string
	Rows       int
	Dim        int
	Partitions []string // created besides "_default"; rows are spread over all
	Aliases    []string
	Loaded     bool
}

// Seed creates the collection and fills it through the public methods,
// inserting rows in descending key order, so that a reader relying on
// insertion order instead of Scan's key order would be caught.
func (s *Server) Seed(ctx context.Context, sd Seed) error {
	db := sd.Database
	if db == "" {
		db = "default"
	}
	schema := &schemapb.CollectionSchema{Name: sd.Name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "title", DataType: schemapb.DataType_VarChar, TypeParams: []*commonpb.KeyValuePair{{Key: "max_length", Value: "64"}}},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: strconv.Itoa(sd.Dim)}}},
	}}
	if err := s.CreateDatabase(ctx, db); err != nil {
		return err
	}
	if err := s.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: db, Schema: schema, ShardsNum: 1}); err != nil {
		return err
	}
	parts := append([]string{"_default"}, sd.Partitions...)
	for _, p := range sd.Partitions {
		if err := s.CreatePartition(ctx, db, sd.Name, p); err != nil {
			return err
		}
	}
	if err := s.seedRows(ctx, db, sd, parts); err != nil {
		return err
	}
	if err := s.CreateIndex(ctx, db, sd.Name, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		return err
	}
	for _, a := range sd.Aliases {
		if err := s.CreateAlias(ctx, db, sd.Name, a); err != nil {
			return err
		}
	}
	if sd.Loaded {
		return s.Load(ctx, db, sd.Name, nil)
	}
	return nil
}

// seedRows inserts row i (key i) into parts[i % len(parts)], one Insert
// per row, last key first.
func (s *Server) seedRows(ctx context.Context, db string, sd Seed, parts []string) error {
	rnd := rand.New(rand.NewPCG(uint64(sd.Rows), uint64(sd.Dim)))
	for i := sd.Rows - 1; i >= 0; i-- {
		vec := make([]float32, sd.Dim)
		for d := range vec {
			vec[d] = rnd.Float32()
		}
		fields := []*schemapb.FieldData{
			milvus.Int64Column("id", []int64{int64(i)}),
			milvus.VarCharColumn("title", []string{fmt.Sprintf("row %d", i)}),
			milvus.FloatVectorColumn("v", sd.Dim, vec),
		}
		if err := s.Insert(ctx, db, sd.Name, parts[i%len(parts)], fields, 1); err != nil {
			return err
		}
	}
	return nil
}
