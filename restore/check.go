package restore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
)

// Gap is one feature a restore needs that the target server lacks.
type Gap struct {
	Collection string // database.name in the backup
	Feature    string // what is missing, in words
	// Option is the restore option that drops or converts the feature, ""
	// when there is none.
	Option string
}

func (g Gap) String() string {
	s := g.Collection + ": " + g.Feature
	if g.Option != "" {
		s += " (" + g.Option + ")"
	}
	return s
}

// IncompatibleError reports a restore the target server cannot take, found
// before anything was created. It lists every gap.
type IncompatibleError struct {
	Server string
	Gaps   []Gap
}

func (e *IncompatibleError) Error() string {
	lines := make([]string, len(e.Gaps))
	for i, g := range e.Gaps {
		lines[i] = "  - " + g.String()
	}
	return fmt.Sprintf("%s cannot hold what this restore needs (nothing was created):\n%s", e.Server, strings.Join(lines, "\n"))
}

// Kind makes the refusal a usage error: the operator picks another target
// or the options named in the gaps.
func (e *IncompatibleError) Kind() errkind.Kind { return errkind.Usage }

// Check tells, without creating anything, whether the target server has
// every feature that restoring backup m with p needs; it returns an
// *IncompatibleError listing each missing feature otherwise. Run calls it
// before anything else touches the server, so the CLI's restore and the
// service's restore jobs refuse such a restore with that list (exit code 2,
// a usage error); a program can call it alone to plan.
func Check(ctx context.Context, c Milvus, m *manifest.Manifest, p Params) error {
	jobs, err := planJobs(m, p.withDefaults())
	if err != nil {
		return err
	}
	return checkJobs(ctx, c, p, jobs)
}

func checkJobs(ctx context.Context, c Milvus, p Params, jobs []*job) error {
	caps, err := c.Capabilities(ctx)
	if err != nil {
		return fmt.Errorf("find out what %s supports: %w", c.Address(), err)
	}
	var gaps []Gap
	for _, j := range jobs {
		gaps = append(gaps, Gaps(caps, p, j.src, j.schema, j.database, j.partitions)...)
	}
	if len(gaps) > 0 {
		return &IncompatibleError{Server: caps.Server, Gaps: gaps}
	}
	return nil
}

// Gaps lists what restoring collection src (schema, into database db, the
// given partitions) with p needs and caps lacks.
func Gaps(caps milvus.Capabilities, p Params, src *manifest.Collection, schema *schemapb.CollectionSchema, db string, parts []manifest.Partition) []Gap {
	var out []string
	var opts []string
	add := func(missing bool, feature, option string) {
		if missing {
			out = append(out, feature)
			opts = append(opts, option)
		}
	}
	add(db != "default" && !caps.Databases, fmt.Sprintf("databases (the collection goes to database %q)", db), "restore into the default database: --database default")
	add(p.Aliases && len(src.Aliases) > 0 && !caps.Aliases, "aliases "+strings.Join(src.Aliases, ", "), "restore without --aliases")
	add(src.PartitionKey && !caps.PartitionKey, "a partition key", "")
	add(!src.PartitionKey && customPartitions(parts) != "" && !caps.Partitions, "partitions "+customPartitions(parts), "")
	add(schema.GetEnableDynamicField() && !caps.DynamicField, "a dynamic field", "")
	add(len(schema.GetFunctions()) > 0 && !caps.Functions, "functions "+functionNames(schema), "")
	add(vectorCount(schema) > 1 && !caps.MultipleVectors, fmt.Sprintf("%d vector fields in one collection", vectorCount(schema)), "")
	for _, f := range schema.GetFields() {
		add(!caps.DataTypes[f.GetDataType()], fmt.Sprintf("field %q of type %s", f.GetName(), f.GetDataType()), "")
		add(f.GetDataType() == schemapb.DataType_Array && !caps.DataTypes[f.GetElementType()],
			fmt.Sprintf("field %q: arrays of %s", f.GetName(), f.GetElementType()), "")
		add(f.GetNullable() && !caps.Nullable, fmt.Sprintf("nullable field %q", f.GetName()), "")
		add(f.GetDefaultValue() != nil && !caps.DefaultValue, fmt.Sprintf("default value of field %q", f.GetName()), "")
	}
	if !p.SkipIndexes && caps.IndexTypes != nil {
		for _, ix := range src.Indexes {
			t := ix.Params["index_type"]
			add(!slices.Contains(caps.IndexTypes, t), fmt.Sprintf("index %q of type %s", ix.Name, t), "restore without indexes: --skip-indexes")
		}
	}
	gaps := make([]Gap, len(out))
	for i := range out {
		gaps[i] = Gap{Collection: src.QualifiedName(), Feature: out[i], Option: opts[i]}
	}
	return gaps
}

func customPartitions(parts []manifest.Partition) string {
	var names []string
	for _, p := range parts {
		if p.Name != "_default" {
			names = append(names, p.Name)
		}
	}
	return strings.Join(names, ", ")
}

func functionNames(s *schemapb.CollectionSchema) string {
	var names []string
	for _, f := range s.GetFunctions() {
		names = append(names, fmt.Sprintf("%s (%s)", f.GetName(), f.GetType()))
	}
	return strings.Join(names, ", ")
}

func vectorCount(s *schemapb.CollectionSchema) int {
	n := 0
	for _, f := range s.GetFields() {
		switch f.GetDataType() {
		case schemapb.DataType_FloatVector, schemapb.DataType_BinaryVector, schemapb.DataType_Float16Vector,
			schemapb.DataType_BFloat16Vector, schemapb.DataType_SparseFloatVector, schemapb.DataType_Int8Vector:
			n++
		}
	}
	return n
}
