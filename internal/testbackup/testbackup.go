// Package testbackup writes small, real backups (Parquet files, checksums,
// committed manifest) without a Milvus server, for tests of verification,
// retention and damage handling.
package testbackup

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// Schema is the collection schema of test backups: int64 key, VarChar,
// 4-d float vector.
func Schema(name string) *schemapb.CollectionSchema {
	return &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "s", DataType: schemapb.DataType_VarChar, TypeParams: []*commonpb.KeyValuePair{{Key: "max_length", Value: "32"}}},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "4"}}},
	}}
}

// Write commits a backup of collection name with the given partitions, each
// holding filesPer files of rowsPer rows, created at t.
func Write(ctx context.Context, r *repo.Repository, id, name string, partitions []string, filesPer, rowsPer int, t time.Time) (*manifest.Manifest, error) {
	return WriteNamed(ctx, r, id, "", name, partitions, filesPer, rowsPer, t)
}

// WriteNamed is Write for a backup with a name (backupName) as well as an id.
func WriteNamed(ctx context.Context, r *repo.Repository, id, backupName, name string, partitions []string, filesPer, rowsPer int, t time.Time) (*manifest.Manifest, error) {
	schema := Schema(name)
	sj, _ := protojson.Marshal(schema)
	c := manifest.Collection{Database: "default", Name: name, Schema: sj, ShardsNum: 1, ConsistencyLevel: "Bounded", LoadState: "not_loaded",
		Indexes: []manifest.Index{{Name: "v", Field: "v", Params: map[string]string{"index_type": "FLAT", "metric_type": "L2"}}}}
	key := int64(0)
	for _, p := range partitions {
		mp := manifest.Partition{Name: p}
		for f := 0; f < filesPer; f++ {
			path := fmt.Sprintf("%sdefault/%s/%s/part-%05d.parquet", manifest.DataPrefix(id), name, p, f)
			file, err := writeFile(ctx, r, path, schema, key, rowsPer)
			if err != nil {
				return nil, err
			}
			key += int64(rowsPer)
			mp.Files, mp.Rows = append(mp.Files, file), mp.Rows+file.Rows
		}
		c.Partitions, c.Rows = append(c.Partitions, mp), c.Rows+mp.Rows
	}
	m := &manifest.Manifest{FormatVersion: manifest.FormatVersion, ID: id, Name: backupName, CreatedAt: t, Collections: []manifest.Collection{c},
		Options: manifest.Options{Compression: "zstd", CompressionLevel: 3, Checksum: "sha256", ChunkBytes: 1 << 20}}
	return m, r.Commit(ctx, m)
}

func writeFile(ctx context.Context, r *repo.Repository, path string, schema *schemapb.CollectionSchema, first int64, n int) (manifest.File, error) {
	b, err := columnar.NewBuilder(memory.DefaultAllocator, schema)
	if err != nil {
		return manifest.File{}, err
	}
	defer b.Release()
	if err := b.Append(columns(first, n), n); err != nil {
		return manifest.File{}, err
	}
	rec := b.NewRecord()
	defer rec.Release()
	sch, _ := columnar.ArrowSchema(schema)
	w, err := r.CreateFile(ctx, path, checksum.SHA256, "")
	if err != nil {
		return manifest.File{}, err
	}
	defer w.Abort()
	fw, err := columnar.NewFileWriter(w, sch, columnar.WriterOptions{Compression: "zstd", Level: 3})
	if err != nil {
		return manifest.File{}, err
	}
	if err := fw.Write(rec); err != nil {
		return manifest.File{}, err
	}
	if err := fw.Close(); err != nil {
		return manifest.File{}, err
	}
	f, err := w.Commit(ctx)
	f.Rows = int64(n)
	return f, err
}

func columns(first int64, n int) []*schemapb.FieldData {
	ids, ss, vs := make([]int64, n), make([]string, n), make([]float32, 0, 4*n)
	for i := range n {
		k := first + int64(i)
		ids[i], ss[i] = k, fmt.Sprintf("row %d ü", k)
		vs = append(vs, float32(k), float32(k%7), 1, -float32(k)/3)
	}
	return []*schemapb.FieldData{
		milvus.Int64Column("id", ids),
		milvus.VarCharColumn("s", ss),
		milvus.FloatVectorColumn("v", 4, vs),
	}
}
