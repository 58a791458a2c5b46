package export

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/columnar"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// SchemaFile is the name of the schema file in each collection folder.
const SchemaFile = "schema.json"

// SchemaFormat identifies a schema file written by Run.
const SchemaFormat = "milvault-export"

// Schema describes an exported collection: its columns for people and
// tools, and what package importer needs to recreate the collection (the
// schema exactly as the server described it, the partitions and the index
// definitions).
type Schema struct {
	Format       string            `json:"format"`  // SchemaFormat
	Version      int               `json:"version"` // 1
	Backup       string            `json:"backup"`
	BackupName   string            `json:"backup_name,omitempty"`
	Database     string            `json:"database"`
	Collection   string            `json:"collection"`
	Rows         int64             `json:"rows"`
	Fields       []Field           `json:"fields"` // the columns of every file, in order
	Partitions   []string          `json:"partitions"`
	PartitionKey bool              `json:"partition_key,omitempty"`
	Indexes      []manifest.Index  `json:"indexes,omitempty"`
	MilvusSchema json.RawMessage   `json:"milvus_schema"` // protojson of CollectionSchema
	Properties   map[string]string `json:"properties,omitempty"`
	Consistency  string            `json:"consistency_level,omitempty"`
	ShardsNum    int32             `json:"shards_num,omitempty"`
}

// Field is one column.
type Field struct {
	Name         string `json:"name"`
	Type         string `json:"type"`    // Milvus data type name, e.g. FloatVector
	TypeID       int32  `json:"type_id"` // its number in milvus.proto (pymilvus DataType)
	ElementType  string `json:"element_type,omitempty"`
	ElementID    int32  `json:"element_type_id,omitempty"`
	Dim          int    `json:"dim,omitempty"`
	MaxLength    int    `json:"max_length,omitempty"`
	PrimaryKey   bool   `json:"primary_key,omitempty"`
	AutoID       bool   `json:"auto_id,omitempty"`
	Nullable     bool   `json:"nullable,omitempty"`
	Dynamic      bool   `json:"dynamic,omitempty"`
	PartitionKey bool   `json:"partition_key,omitempty"`
}

// NewSchema describes collection mc of backup m.
func NewSchema(m *manifest.Manifest, mc *manifest.Collection, schema *schemapb.CollectionSchema) (*Schema, error) {
	s := &Schema{Format: SchemaFormat, Version: 1, Backup: m.ID, BackupName: m.Name, Database: mc.Database,
		Collection: mc.Name, Rows: mc.Rows, PartitionKey: mc.PartitionKey, Indexes: mc.Indexes,
		MilvusSchema: mc.Schema, Properties: mc.Properties, Consistency: mc.ConsistencyLevel, ShardsNum: mc.ShardsNum}
	for _, p := range mc.Partitions {
		s.Partitions = append(s.Partitions, p.Name)
	}
	for _, f := range columnar.StoredFields(schema) {
		s.Fields = append(s.Fields, newField(f))
	}
	return s, nil
}

func newField(f *schemapb.FieldSchema) Field {
	out := Field{Name: f.GetName(), Type: f.GetDataType().String(), TypeID: int32(f.GetDataType()),
		PrimaryKey: f.GetIsPrimaryKey(), AutoID: f.GetAutoID(), Nullable: f.GetNullable(),
		Dynamic: f.GetIsDynamic(), PartitionKey: f.GetIsPartitionKey()}
	if f.GetDataType() == schemapb.DataType_Array {
		out.ElementType, out.ElementID = f.GetElementType().String(), int32(f.GetElementType())
	}
	for _, kv := range f.GetTypeParams() {
		n, _ := strconv.Atoi(kv.GetValue())
		switch kv.GetKey() {
		case "dim":
			out.Dim = n
		case "max_length":
			out.MaxLength = n
		}
	}
	return out
}

// putJSON stores v as indented JSON.
func putJSON(ctx context.Context, dst repo.Store, name string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return dst.Put(ctx, name, bytes.NewReader(append(data, '\n')))
}
