package manifest

import (
	"fmt"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/encoding/protojson"
)

// DecodeSchema returns the collection schema the manifest recorded for c.
// Each call returns a new value the caller may change.
func (c *Collection) DecodeSchema() (*schemapb.CollectionSchema, error) {
	s := &schemapb.CollectionSchema{}
	if err := protojson.Unmarshal(c.Schema, s); err != nil {
		return nil, fmt.Errorf("schema of %s in the manifest cannot be read: %w", c.QualifiedName(), err)
	}
	return s, nil
}
