package milvus

import (
	"fmt"
	"slices"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
)

// DiffSchemas lists, in words, how schema b differs from schema a: fields
// missing or extra, and per field the type, key, auto-id, nullable and type
// parameters (dim, max_length, ...). Names, descriptions and server-assigned
// ids are ignored.
func DiffSchemas(a, b *schemapb.CollectionSchema) []string {
	var out []string
	if a.GetEnableDynamicField() != b.GetEnableDynamicField() {
		out = append(out, fmt.Sprintf("dynamic field %v vs %v", a.GetEnableDynamicField(), b.GetEnableDynamicField()))
	}
	bf := fieldMap(b)
	for _, f := range a.GetFields() {
		if f.GetIsDynamic() {
			continue
		}
		g, ok := bf[f.GetName()]
		if !ok {
			out = append(out, fmt.Sprintf("field %q missing", f.GetName()))
			continue
		}
		out = append(out, diffField(f, g)...)
		delete(bf, f.GetName())
	}
	var extra []string
	for name := range bf {
		extra = append(extra, name)
	}
	slices.Sort(extra)
	for _, name := range extra {
		out = append(out, fmt.Sprintf("extra field %q", name))
	}
	return out
}

func fieldMap(s *schemapb.CollectionSchema) map[string]*schemapb.FieldSchema {
	m := map[string]*schemapb.FieldSchema{}
	for _, f := range s.GetFields() {
		if !f.GetIsDynamic() {
			m[f.GetName()] = f
		}
	}
	return m
}

func diffField(a, b *schemapb.FieldSchema) []string {
	var out []string
	add := func(what string, x, y any) {
		if x != y {
			out = append(out, fmt.Sprintf("field %q %s %v vs %v", a.GetName(), what, x, y))
		}
	}
	add("type", a.GetDataType(), b.GetDataType())
	add("element type", a.GetElementType(), b.GetElementType())
	add("primary key", a.GetIsPrimaryKey(), b.GetIsPrimaryKey())
	add("auto_id", a.GetAutoID(), b.GetAutoID())
	add("nullable", a.GetNullable(), b.GetNullable())
	add("partition key", a.GetIsPartitionKey(), b.GetIsPartitionKey())
	bp := params(b)
	for k, v := range params(a) {
		add(k, v, bp[k])
	}
	return out
}

func params(f *schemapb.FieldSchema) map[string]string {
	m := map[string]string{}
	for _, kv := range f.GetTypeParams() {
		m[kv.GetKey()] = kv.GetValue()
	}
	return m
}
