package verify

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// EachRecord reads one data file of collection c and calls fn with each
// record batch (released after fn returns). It checks the file's schema and
// row count against the manifest.
func EachRecord(ctx context.Context, s repo.Store, c *manifest.Collection, f manifest.File, fn func(arrow.RecordBatch) error) error {
	schema, err := schemaOf(c)
	if err != nil {
		return err
	}
	return eachRecord(ctx, s, schema, f, fn)
}

// PrimaryKeyName returns the primary key field name recorded for c.
func PrimaryKeyName(c *manifest.Collection) (string, error) {
	schema, err := schemaOf(c)
	if err != nil {
		return "", err
	}
	pk := milvus.PrimaryField(schema)
	if pk == nil {
		return "", fmt.Errorf("schema of %s has no primary key", c.QualifiedName())
	}
	return pk.GetName(), nil
}
