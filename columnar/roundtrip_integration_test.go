package columnar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/milvus"
)

// targetsEnv names the servers the integration test runs against, as
// "name=host:port,name2=host:port".
const targetsEnv = "MILVAULT_TEST_TARGETS"

const (
	roundTripRows = 2000
	queryPageRows = 500 // rows per query, and so per Builder.Append
	recordRows    = 1000
	readBatchRows = 300
)

// TestRoundTripAgainstServers sends every field type a server supports
// through query, Builder, Parquet, OpenFile, ToFieldData and insert, and
// checks that the rows come back unchanged.
func TestRoundTripAgainstServers(t *testing.T) {
	spec := os.Getenv(targetsEnv)
	if spec == "" {
		t.Skipf("%s is not set; set it to name=host:port[,name=host:port] to run against real Milvus servers", targetsEnv)
	}
	targets, err := parseTargets(spec)
	if err != nil {
		t.Fatal(err)
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) { testServer(t, tg.addr) })
	}
}

type target struct{ name, addr string }

// parseTargets parses the value of MILVAULT_TEST_TARGETS.
func parseTargets(spec string) ([]target, error) {
	var out []target
	for _, item := range strings.Split(spec, ",") {
		name, addr, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || name == "" || addr == "" {
			return nil, fmt.Errorf("%s: %q is not name=host:port", targetsEnv, item)
		}
		out = append(out, target{name, addr})
	}
	return out, nil
}

// testServer runs the round trips against one server.
func testServer(t *testing.T, addr string) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c, err := milvus.Connect(ctx, milvus.Config{Address: addr})
	if err != nil {
		t.Fatalf("connect %s: %v", addr, err)
	}
	defer c.Close()
	s := &server{t: t, ctx: ctx, svc: c.Service()}
	ver, err := s.svc.GetVersion(ctx, &milvuspb.GetVersionRequest{})
	if err != nil {
		t.Fatalf("get version: %v", err)
	}
	t.Logf("server %s version %s", addr, ver.GetVersion())

	plan := s.discover(ver.GetVersion())
	t.Run("nulls", func(t *testing.T) { s.with(t).probeNullForms(plan.fields) })
	t.Run("roundtrip", func(t *testing.T) { s.with(t).roundTrip(plan.fields, plan.functions) })
	for _, c := range plan.alone {
		t.Run("roundtrip_"+c.label, func(t *testing.T) {
			s.with(t).roundTrip(append([]testField{pkField()}, c.fields...), c.functions)
		})
	}
}

// server wraps the raw gRPC service of one Milvus server.
type server struct {
	t   *testing.T
	ctx context.Context
	svc milvuspb.MilvusServiceClient
}

// with returns s reporting to t.
func (s *server) with(t *testing.T) *server {
	return &server{t: t, ctx: s.ctx, svc: s.svc}
}

// candidate is a field type to try on a server: usually one field, for
// BM25 an input, its function output and the function.
type candidate struct {
	label     string
	fields    []testField
	functions []*schemapb.FunctionSchema
}

// testPlan is what a server supports: fields for one collection, and
// vector types it only takes one per collection.
type testPlan struct {
	fields    []testField
	functions []*schemapb.FunctionSchema
	alone     []candidate
}

// candidates returns every field type the test knows, after the float
// vector that every test collection starts with.
func candidates() []candidate {
	var out []candidate
	groups := [][]testField{scalarFields(), arrayFields(), vectorFields()[1:], nullableFields()}
	for _, g := range groups {
		for _, f := range g {
			out = append(out, candidate{label: f.schema.GetName(), fields: []testField{f}})
		}
	}
	return append(out, bm25Candidate())
}

// bm25Candidate is a text field with a BM25 function whose sparse output
// the server computes, and which backups must therefore not store.
func bm25Candidate() candidate {
	text := testField{
		&schemapb.FieldSchema{Name: "bm25_text", DataType: schemapb.DataType_VarChar, TypeParams: params("max_length", "512", "enable_analyzer", "true")},
		func(i int) any { return fmt.Sprintf("document %d talks about topic %d and milvus", i, i%10) },
	}
	out := testField{
		&schemapb.FieldSchema{Name: "bm25_sparse", DataType: schemapb.DataType_SparseFloatVector, IsFunctionOutput: true},
		nil,
	}
	fn := &schemapb.FunctionSchema{
		Name: "bm25_fn", Type: schemapb.FunctionType_BM25,
		InputFieldNames: []string{"bm25_text"}, OutputFieldNames: []string{"bm25_sparse"},
	}
	return candidate{label: "bm25_function", fields: []testField{text, out}, functions: []*schemapb.FunctionSchema{fn}}
}

// discover finds out which candidates the server supports by creating
// collections with them.
func (s *server) discover(version string) testPlan {
	s.t.Helper()
	plan := testPlan{fields: []testField{pkField(), vectorFields()[0]}}
	if err := s.probe(plan.fields, nil, plan.fields[1:]); err != nil {
		s.t.Fatalf("server rejects the base collection (int64 pk, float vector): %v", err)
	}
	var unsupported []string
	for _, c := range candidates() {
		if reason := knownCrash(version, c); reason != "" {
			unsupported = append(unsupported, c.label)
			s.t.Logf("unsupported: %s: not tried: %s", c.label, reason)
			continue
		}
		err := s.probe(append(plan.fields, c.fields...), append(plan.functions, c.functions...), c.fields)
		if err == nil {
			plan.fields = append(plan.fields, c.fields...)
			plan.functions = append(plan.functions, c.functions...)
			continue
		}
		if len(c.fields) == 1 && isVector(c.fields[0].schema) {
			if aloneErr := s.probe(append([]testField{pkField()}, c.fields...), nil, c.fields); aloneErr == nil {
				s.t.Logf("supported only as the sole vector field: %s (%v)", c.label, err)
				plan.alone = append(plan.alone, c)
				continue
			}
		}
		unsupported = append(unsupported, c.label)
		s.t.Logf("unsupported: %s: %v", c.label, err)
	}
	var names []string
	for _, f := range plan.fields {
		names = append(names, f.schema.GetName())
	}
	s.t.Logf("supported together: %s", strings.Join(names, ", "))
	s.t.Logf("unsupported types: %s", strings.Join(unsupported, ", "))
	return plan
}

// knownCrash says why c must not be tried on a server of version, or "".
// Milvus 2.3 creates and indexes Float16Vector fields, but its query node
// dies on the first growing segment that holds one ("unsupported data type:
// Float16Vector" in MergeFieldData), taking the server down.
func knownCrash(version string, c candidate) string {
	if strings.HasPrefix(version, "v2.3.") && c.label == "v_float16" {
		return "Milvus 2.3 accepts Float16Vector fields but crashes when loading their data"
	}
	return ""
}

func isVector(f *schemapb.FieldSchema) bool {
	return isDenseVector(f.GetDataType()) || f.GetDataType() == schemapb.DataType_SparseFloatVector
}

// probe creates and drops a collection of fields, checking that the server
// kept every field as asked and can index the vector fields of check.
func (s *server) probe(fields []testField, functions []*schemapb.FunctionSchema, check []testField) error {
	name := uniqueName("probe")
	coll := schemaOf(name, fields, true)
	coll.Functions = functions
	if err := s.create(name, coll); err != nil {
		return err
	}
	defer s.drop(name)
	got, err := s.describe(name)
	if err != nil {
		return err
	}
	for _, f := range check {
		if err := sameField(f.schema, got); err != nil {
			return err
		}
		if isVector(f.schema) {
			if err := s.createIndex(name, f.schema); err != nil {
				return fmt.Errorf("index %q: %w", f.schema.GetName(), err)
			}
		}
	}
	return nil
}

// sameField checks that the server kept want in got as asked: an old
// server silently drops proto fields it does not know, such as nullable.
func sameField(want *schemapb.FieldSchema, got *schemapb.CollectionSchema) error {
	for _, g := range got.GetFields() {
		if g.GetName() != want.GetName() {
			continue
		}
		switch {
		case g.GetDataType() != want.GetDataType():
			return fmt.Errorf("server created %q as %s", want.GetName(), g.GetDataType())
		case g.GetElementType() != want.GetElementType():
			return fmt.Errorf("server created %q with element type %s", want.GetName(), g.GetElementType())
		case g.GetNullable() != want.GetNullable():
			return fmt.Errorf("server ignored nullable=%t of %q", want.GetNullable(), want.GetName())
		case g.GetIsFunctionOutput() != want.GetIsFunctionOutput():
			return fmt.Errorf("server ignored is_function_output of %q", want.GetName())
		}
		return nil
	}
	return fmt.Errorf("server dropped field %q", want.GetName())
}

// probeNullForms logs how the server takes and returns nullable columns:
// which null forms Insert accepts and which form Query returns.
func (s *server) probeNullForms(fields []testField) {
	var nullable []testField
	for _, f := range fields {
		if f.schema.GetNullable() {
			nullable = append(nullable, f)
		}
	}
	if len(nullable) == 0 {
		s.t.Skip("server supports no nullable fields")
	}
	base := append([]testField{pkField(), vectorFields()[0]}, nullable...)
	name := s.createCollection("nulls", base, nil)
	forms := []struct {
		name string
		form nullForm
		rows []int
	}{{"compact", compactNulls, rowRange(0, 7)}, {"full", fullNulls, rowRange(7, 14)}}
	var inserted []int
	for _, fm := range forms {
		fds := columns(s.t, base, fm.rows, fm.form)
		if err := s.insert(name, fds, len(fm.rows)); err != nil {
			s.t.Logf("insert in %s null form (values for %s): rejected: %v", fm.name, fm.name, err)
			continue
		}
		s.t.Logf("insert in %s null form: accepted", fm.name)
		inserted = append(inserted, fm.rows...)
	}
	s.flushIndexLoad(name, base)
	res, err := s.query(name, "pk >= 0", []string{"*"})
	if err != nil {
		s.t.Fatalf("query: %v", err)
	}
	for _, f := range nullable {
		fd := findColumn(res.GetFieldsData(), f.schema)
		values, _ := wireValues(f.schema, fd)
		s.t.Logf("query result %s (%s): %d rows, valid_data %d entries with %d null, %d values%s",
			f.schema.GetName(), f.schema.GetDataType(), len(inserted), len(fd.GetValidData()),
			len(fd.GetValidData())-countTrue(fd.GetValidData()), len(values), placeholder(fd, values))
	}
	if n := compareColumns(s.t, nullable, res.GetFieldsData(), len(inserted)); n > 0 {
		s.t.Logf("all %d rows read back with nulls and values in place", n)
	}
}

// placeholder describes the value a full-form column holds at its first
// null row.
func placeholder(fd *schemapb.FieldData, values []any) string {
	valid := fd.GetValidData()
	if len(values) != len(valid) {
		return ""
	}
	for i, ok := range valid {
		if !ok {
			return fmt.Sprintf("; placeholder at null row: %s", show(values[i]))
		}
	}
	return ""
}

// roundTrip runs the full round trip for one collection of fields.
func (s *server) roundTrip(fields []testField, functions []*schemapb.FunctionSchema) {
	t := s.t
	src := s.createCollection("src", fields, functions)
	data := append(append([]testField{}, fields...), dynamicField())
	for lo := 0; lo < roundTripRows; lo += queryPageRows {
		rows := rowRange(lo, min(lo+queryPageRows, roundTripRows))
		if err := s.insert(src, columns(t, data, rows, compactNulls), len(rows)); err != nil {
			t.Fatalf("insert into %s: %v", src, err)
		}
	}
	s.flushIndexLoad(src, fields)
	described, err := s.describe(src)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("described schema: %s", fieldList(described))

	path := filepath.Join(t.TempDir(), "backup.parquet")
	s.backup(src, described, data, path)

	dst := s.createCollection("dst", fields, functions)
	s.restore(dst, described, path)
	s.flushIndexLoad(dst, fields)
	checked := 0
	s.queryPages(dst, described, func(res *milvuspb.QueryResults, n int) {
		checked += compareColumns(t, data, res.GetFieldsData(), n)
	})
	if checked != roundTripRows {
		t.Errorf("restored collection has %d rows, want %d", checked, roundTripRows)
	}
	t.Logf("compared %d restored rows of %d fields (+$meta) with the originals", checked, len(fields))
}

// backup queries src page by page into a Builder and writes the records to
// a Parquet file at path, checking each page against the original data.
func (s *server) backup(src string, described *schemapb.CollectionSchema, data []testField, path string) {
	t := s.t
	b, err := NewBuilder(memory.DefaultAllocator, described)
	if err != nil {
		t.Fatalf("new builder: %v", err)
	}
	defer b.Release()
	sch, err := ArrowSchema(described)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fw, err := NewFileWriter(f, sch, WriterOptions{Metadata: map[string]string{"collection": src}})
	if err != nil {
		t.Fatal(err)
	}
	flush := func() {
		t.Logf("writing record of %d rows, about %d bytes", b.Rows(), b.EstimatedBytes())
		rec := b.NewRecord()
		defer rec.Release()
		if err := fw.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	first := true
	s.queryPages(src, described, func(res *milvuspb.QueryResults, n int) {
		if first {
			t.Logf("query returned columns: %s", columnList(res.GetFieldsData()))
			first = false
		}
		compareColumns(t, data, res.GetFieldsData(), n)
		if err := b.Append(res.GetFieldsData(), n); err != nil {
			t.Fatalf("append: %v", err)
		}
		if b.Rows() >= recordRows {
			flush()
		}
	})
	if b.Rows() > 0 {
		flush()
	}
	if err := fw.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := f.Stat(); err != nil || st.Size() != fw.BytesWritten() {
		t.Errorf("file has %v bytes (%v), BytesWritten says %d", st.Size(), err, fw.BytesWritten())
	}
}

// restore reads the Parquet file at path and inserts its rows into dst.
func (s *server) restore(dst string, described *schemapb.CollectionSchema, path string) {
	t := s.t
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := OpenFile(s.ctx, f, described, readBatchRows)
	if err != nil {
		t.Fatalf("open file: %v", err)
	}
	defer r.Close()
	if r.NumRows() != roundTripRows {
		t.Errorf("file has %d rows, want %d", r.NumRows(), roundTripRows)
	}
	if got := r.Metadata()["collection"]; !strings.HasPrefix(got, "columnar_src_") {
		t.Errorf("file metadata collection = %q", got)
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("next: %v", err)
		}
		fds, err := ToFieldData(described, rec)
		n := int(rec.NumRows())
		rec.Release()
		if err != nil {
			t.Fatalf("to field data: %v", err)
		}
		if err := s.insert(dst, fds, n); err != nil {
			t.Fatalf("insert into %s: %v", dst, err)
		}
	}
}

// queryPages queries coll in pk ranges, with output fields "*" plus any
// stored field that "*" leaves out.
func (s *server) queryPages(coll string, described *schemapb.CollectionSchema, page func(*milvuspb.QueryResults, int)) {
	t := s.t
	output := []string{"*"}
	for lo := 0; lo < roundTripRows; lo += queryPageRows {
		expr := fmt.Sprintf("pk >= %d && pk < %d", lo, lo+queryPageRows)
		res, err := s.query(coll, expr, output)
		if err != nil {
			t.Fatalf("query %s: %v", coll, err)
		}
		if missing := missingFields(described, res.GetFieldsData()); len(missing) > 0 {
			if len(output) > 1 {
				t.Fatalf("query %s: fields %v missing even when named", coll, missing)
			}
			t.Logf("output field * leaves out %v; naming them", missing)
			output = append(output, missing...)
			lo -= queryPageRows
			continue
		}
		page(res, len(findColumn(res.GetFieldsData(), pkField().schema).GetScalars().GetLongData().GetData()))
	}
}

// missingFields returns the stored fields of coll that have no column.
func missingFields(coll *schemapb.CollectionSchema, fds []*schemapb.FieldData) []string {
	var out []string
	for _, f := range StoredFields(coll) {
		if findColumn(fds, f) == nil {
			out = append(out, f.GetName())
		}
	}
	return out
}

// columns builds the insert columns of fields for rows; function outputs
// are left to the server.
func columns(t testing.TB, fields []testField, rows []int, form nullForm) []*schemapb.FieldData {
	var out []*schemapb.FieldData
	for _, f := range fields {
		if !f.schema.GetIsFunctionOutput() {
			out = append(out, makeFieldData(t, f, rows, form))
		}
	}
	return out
}

// createCollection creates a collection of fields with the dynamic field
// enabled, dropped when the test ends.
func (s *server) createCollection(purpose string, fields []testField, functions []*schemapb.FunctionSchema) string {
	s.t.Helper()
	name := uniqueName(purpose)
	coll := schemaOf(name, fields, true)
	coll.Functions = functions
	if err := s.create(name, coll); err != nil {
		s.t.Fatalf("create %s: %v", name, err)
	}
	s.t.Cleanup(func() { s.drop(name) })
	return name
}

func uniqueName(purpose string) string {
	return fmt.Sprintf("columnar_%s_%d_%d", purpose, time.Now().UnixNano()%1e9, rand.Intn(1e6))
}

func columnList(fds []*schemapb.FieldData) string {
	var parts []string
	for _, fd := range fds {
		p := fd.GetFieldName() + ":" + fd.GetType().String()
		if fd.GetIsDynamic() {
			p += "(dynamic)"
		}
		if len(fd.GetValidData()) > 0 {
			p += "(valid_data)"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

func fieldList(coll *schemapb.CollectionSchema) string {
	var parts []string
	for _, f := range coll.GetFields() {
		p := f.GetName() + ":" + f.GetDataType().String()
		if f.GetNullable() {
			p += "?"
		}
		if f.GetIsDynamic() {
			p += "(dynamic)"
		}
		if f.GetIsFunctionOutput() {
			p += "(function output)"
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ", ")
}

// statusErr turns a failed call or status into an error.
func statusErr(st *commonpb.Status, err error) error {
	if err != nil {
		return err
	}
	if st.GetErrorCode() != commonpb.ErrorCode_Success || st.GetCode() != 0 {
		return fmt.Errorf("%s (code %d)", st.GetReason(), st.GetCode())
	}
	return nil
}

func (s *server) create(name string, coll *schemapb.CollectionSchema) error {
	raw, err := proto.Marshal(coll)
	if err != nil {
		return err
	}
	return statusErr(s.svc.CreateCollection(s.ctx, &milvuspb.CreateCollectionRequest{
		CollectionName: name, Schema: raw, ShardsNum: 1, ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
	}))
}

func (s *server) drop(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := statusErr(s.svc.DropCollection(ctx, &milvuspb.DropCollectionRequest{CollectionName: name}))
	if err != nil {
		s.t.Logf("drop %s: %v", name, err)
	}
}

func (s *server) describe(name string) (*schemapb.CollectionSchema, error) {
	res, err := s.svc.DescribeCollection(s.ctx, &milvuspb.DescribeCollectionRequest{CollectionName: name})
	if err := statusErr(res.GetStatus(), err); err != nil {
		return nil, fmt.Errorf("describe %s: %w", name, err)
	}
	return res.GetSchema(), nil
}

func (s *server) insert(name string, fds []*schemapb.FieldData, n int) error {
	res, err := s.svc.Insert(s.ctx, &milvuspb.InsertRequest{CollectionName: name, FieldsData: fds, NumRows: uint32(n)})
	if err := statusErr(res.GetStatus(), err); err != nil {
		return err
	}
	if res.GetInsertCnt() != int64(n) {
		return fmt.Errorf("inserted %d rows, want %d", res.GetInsertCnt(), n)
	}
	return nil
}

func (s *server) query(name, expr string, output []string) (*milvuspb.QueryResults, error) {
	res, err := s.svc.Query(s.ctx, &milvuspb.QueryRequest{
		CollectionName: name, Expr: expr, OutputFields: output,
		ConsistencyLevel: commonpb.ConsistencyLevel_Strong,
	})
	if err := statusErr(res.GetStatus(), err); err != nil {
		return nil, err
	}
	return res, nil
}

// flushIndexLoad flushes name, indexes its vector fields and loads it.
func (s *server) flushIndexLoad(name string, fields []testField) {
	t := s.t
	t.Helper()
	res, err := s.svc.Flush(s.ctx, &milvuspb.FlushRequest{CollectionNames: []string{name}})
	if err := statusErr(res.GetStatus(), err); err != nil {
		t.Fatalf("flush %s: %v", name, err)
	}
	for _, f := range fields {
		if isVector(f.schema) {
			if err := s.createIndex(name, f.schema); err != nil {
				t.Fatalf("index %s.%s: %v", name, f.schema.GetName(), err)
			}
		}
	}
	if err := statusErr(s.svc.LoadCollection(s.ctx, &milvuspb.LoadCollectionRequest{CollectionName: name})); err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	deadline := time.Now().Add(3 * time.Minute)
	for {
		p, err := s.svc.GetLoadingProgress(s.ctx, &milvuspb.GetLoadingProgressRequest{CollectionName: name})
		if err := statusErr(p.GetStatus(), err); err != nil {
			t.Fatalf("loading progress %s: %v", name, err)
		}
		if p.GetProgress() >= 100 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("load %s: still at %d%% after 3 minutes", name, p.GetProgress())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// createIndex indexes a vector field with the first index type the server
// accepts.
func (s *server) createIndex(name string, f *schemapb.FieldSchema) error {
	var errs []error
	for _, p := range indexChoices(f) {
		err := statusErr(s.svc.CreateIndex(s.ctx, &milvuspb.CreateIndexRequest{
			CollectionName: name, FieldName: f.GetName(), IndexName: f.GetName() + "_idx", ExtraParams: p,
		}))
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// indexChoices lists index parameters to try for a vector field, simplest
// first.
func indexChoices(f *schemapb.FieldSchema) [][]*commonpb.KeyValuePair {
	switch f.GetDataType() {
	case schemapb.DataType_BinaryVector:
		return [][]*commonpb.KeyValuePair{
			params("index_type", "BIN_FLAT", "metric_type", "HAMMING"),
			params("index_type", "AUTOINDEX", "metric_type", "HAMMING"),
		}
	case schemapb.DataType_SparseFloatVector:
		metric := "IP"
		if f.GetIsFunctionOutput() {
			metric = "BM25"
		}
		return [][]*commonpb.KeyValuePair{
			params("index_type", "SPARSE_INVERTED_INDEX", "metric_type", metric),
			params("index_type", "AUTOINDEX", "metric_type", metric),
		}
	}
	return [][]*commonpb.KeyValuePair{
		params("index_type", "FLAT", "metric_type", "L2"),
		params("index_type", "AUTOINDEX", "metric_type", "L2"),
		params("index_type", "HNSW", "metric_type", "L2", "params", `{"M":8,"efConstruction":64}`),
	}
}
