package native_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/progress"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// env is a Milvus 2.3.5 whose object storage is the project's MinIO.
type env struct {
	c       *milvus.Client
	loc     string // the storage location, as --milvus-storage takes it
	storage *native.Storage
	gc      *native.GCPauser
}

// setup connects to milvus23 started with MILVUS23_STORAGE=minio, or skips.
func setup(t *testing.T) *env {
	t.Helper()
	loc := os.Getenv("MILVAULT_TEST_MILVUS23_STORAGE")
	if loc == "" {
		loc = localStorage(t)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
	t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
	var addr string
	for _, tg := range testenv.Targets(t) {
		if tg.Name == "milvus23" {
			addr = tg.Address
		}
	}
	if addr == "" {
		t.Skip("MILVAULT_TEST_TARGETS has no milvus23 target")
	}
	ctx := context.Background()
	c, err := milvus.Connect(ctx, milvus.Config{Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	st, err := native.OpenStorage(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{c: c, loc: loc, storage: st}
	if port, err := os.ReadFile(filepath.Join(stateDir(), "milvus23.metrics-port")); err == nil {
		e.gc = &native.GCPauser{URL: "http://127.0.0.1:" + string(trimNL(port))}
	}
	return e
}

// localStorage returns the local storage folder of the milvus23 that
// scripts/milvus-env.sh started with local storage (the default), or skips.
func localStorage(t *testing.T) string {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(stateDir(), "milvus23", "configs", "milvus.yaml"))
	if err != nil || !strings.Contains(string(cfg), "storageType: local") {
		t.Skip("no Milvus storage: set MILVAULT_TEST_MILVUS23_STORAGE (start MinIO, then MILVUS23_STORAGE=minio scripts/milvus-env.sh start milvus23, and source .milvus-test/milvus23-storage.env), or start milvus23 with local storage")
	}
	dir, err := filepath.Abs(filepath.Join(stateDir(), "milvus23", "data"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// stateDir is the folder where scripts/milvus-env.sh keeps milvus23's
// files: MILVUS_TEST_STATE when set (scripts/test.sh's second milvus23 for
// the tests that restart it), else .milvus-test at the top of the tree.
func stateDir() string {
	if d := os.Getenv("MILVUS_TEST_STATE"); d != "" {
		return d
	}
	return filepath.Join("..", ".milvus-test")
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

const dim = 8

// makeCollection creates a collection with two partitions and several
// sealed segments, then deletes and upserts rows, flushes, indexes and
// loads it.
func makeCollection(t *testing.T, c *milvus.Client, rows int) string {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("native_%d", rand.Uint32())
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: strconv.Itoa(dim)}}},
		{Name: "t", DataType: schemapb.DataType_VarChar, TypeParams: []*commonpb.KeyValuePair{{Key: "max_length", Value: "64"}}},
	}}
	if err := c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.DropCollection(context.Background(), "default", name) })
	if err := c.CreatePartition(ctx, "default", name, "p1"); err != nil {
		t.Fatal(err)
	}
	half := rows / 2
	insertRows(t, c, name, "_default", 0, half, "a")
	insertRows(t, c, name, "p1", half, rows, "a")
	insertRows(t, c, name, "_default", rows, rows+rows/10, "b") // a second segment
	if err := c.Delete(ctx, "default", name, "id in [1, 2, 3, 500, 1500, "+strconv.Itoa(rows+1)+"]"); err != nil {
		t.Fatal(err)
	}
	upsert(t, c, name, "_default", []int64{5, 6, 7})
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateIndex(ctx, "default", name, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Load(ctx, "default", name, nil); err != nil {
		t.Fatal(err)
	}
	return name
}

func columns(from, to int, tag string) []*schemapb.FieldData {
	ids := make([]int64, 0, to-from)
	texts := make([]string, 0, to-from)
	vecs := make([]float32, 0, (to-from)*dim)
	for i := from; i < to; i++ {
		ids = append(ids, int64(i))
		texts = append(texts, tag+strconv.Itoa(i))
		for range dim {
			vecs = append(vecs, rand.Float32())
		}
	}
	return []*schemapb.FieldData{milvus.Int64Column("id", ids), milvus.FloatVectorColumn("v", dim, vecs), milvus.VarCharColumn("t", texts)}
}

func insertRows(t *testing.T, c *milvus.Client, name, part string, from, to int, tag string) {
	t.Helper()
	ctx := context.Background()
	for s := from; s < to; s += 2000 {
		e := min(s+2000, to)
		if err := c.Insert(ctx, "default", name, part, columns(s, e, tag), e-s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Flush(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
}

func upsert(t *testing.T, c *milvus.Client, name, part string, ids []int64) {
	t.Helper()
	vecs := make([]float32, len(ids)*dim)
	texts := make([]string, len(ids))
	for i := range ids {
		texts[i] = "upserted"
	}
	resp, err := c.Service().Upsert(context.Background(), &milvuspb.UpsertRequest{DbName: "default", CollectionName: name, PartitionName: part,
		FieldsData: []*schemapb.FieldData{milvus.Int64Column("id", ids), milvus.FloatVectorColumn("v", dim, vecs), milvus.VarCharColumn("t", texts)},
		NumRows:    uint32(len(ids))})
	if err == nil && resp.GetStatus().GetCode() != 0 {
		err = fmt.Errorf("%s", resp.GetStatus().GetReason())
	}
	if err != nil {
		t.Fatal(err)
	}
}

func newRepo(t *testing.T) *repo.Repository {
	t.Helper()
	s, err := local.New(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (e *env) backup(t *testing.T, r *repo.Repository, name string) *native.Result {
	t.Helper()
	res, err := native.Backup(context.Background(), native.Deps{Milvus: e.c, Repo: r, Storage: e.storage, GC: e.gc}, backup.Params{Collections: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *env) restore(r *repo.Repository, m *manifest.Manifest, p restore.Params) (*restore.Result, error) {
	loader := &native.Loader{Milvus: e.c, Storage: e.storage, Repo: r}
	return restore.Run(context.Background(), restore.Deps{Milvus: e.c, Repo: r, Native: loader}, m, p)
}

func digest(t *testing.T, c *milvus.Client, name string) []verify.PartitionDigest {
	t.Helper()
	d, err := verify.Digest(context.Background(), c, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestNativeRoundTrip: native backup, drop, native restore compares equal
// row by row, with deletes and upserts made before the backup.
func TestNativeRoundTrip(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	name := makeCollection(t, e.c, 4000)
	want := digest(t, e.c, name)
	r := newRepo(t)
	res := e.backup(t, r, name)
	m := res.Manifest
	t.Logf("backup %s: %d segments, %d files, %d bytes, GC %s", m.ID, len(m.Collections[0].Segments), res.Stats.Files, res.Stats.Bytes, res.GC)
	if !m.IsNative() || len(m.Collections[0].Segments) < 2 {
		t.Fatalf("manifest: native %v with %d segments, want a native backup of several segments", m.IsNative(), len(m.Collections[0].Segments))
	}
	if err := e.c.DropCollection(ctx, "default", name); err != nil {
		t.Fatal(err)
	}
	rr, err := e.restore(r, m, restore.Params{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rr.Collections[0]; got.Rows != m.Collections[0].Rows || got.Method != restore.MethodBinlogImport || !got.Loaded {
		t.Fatalf("restored %+v, want %d rows by binlog import, loaded", got, m.Collections[0].Rows)
	}
	if got := digest(t, e.c, name); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored rows differ:\n got %+v\nwant %+v", got, want)
	}
	left, err := e.storage.Store.List(ctx, "milvault-restore-")
	if err != nil || len(left) > 0 {
		t.Fatalf("staged files left: %v (%v)", left, err)
	}
}

func checksumOK(t *testing.T, r *repo.Repository, m *manifest.Manifest) *verify.Report {
	t.Helper()
	rep, err := verify.Run(context.Background(), verify.Deps{Repo: r}, m, verify.Options{Mode: verify.ModeChecksum})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestNativeFlippedByte: a flipped byte in a stored segment file is caught
// by verify, and a restore refuses before it creates anything.
func TestNativeFlippedByte(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	name := makeCollection(t, e.c, 1000)
	r := newRepo(t)
	m := e.backup(t, r, name).Manifest
	if rep := checksumOK(t, r, m); !rep.OK {
		t.Fatalf("fresh backup fails verify: %+v", rep)
	}
	f := m.Collections[0].Segments[0].Binlogs[0].File
	path := filepath.Join(r.Location(), filepath.FromSlash(f.Path))
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := checksumOK(t, r, m); rep.OK {
		t.Fatalf("verify passed a flipped byte in %s", f.Path)
	}
	target := name + "_flip"
	if _, err := e.restore(r, m, restore.Params{Target: target}); err == nil {
		t.Fatal("restore of a damaged native backup succeeded")
	} else {
		t.Logf("restore refused: %v", err)
	}
	if ok, err := e.c.HasCollection(ctx, "default", target); err != nil || ok {
		t.Fatalf("restore created %s before refusing (exists %v, %v)", target, ok, err)
	}
}

// TestNativeIncremental: a second backup after ~1 % new rows stores only
// the new segments' files; deleting the first keeps the second restorable.
func TestNativeIncremental(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	const rows = 20000
	name := makeCollection(t, e.c, rows)
	r := newRepo(t)
	first := e.backup(t, r, name)
	insertRows(t, e.c, name, "p1", 2*rows, 2*rows+rows/100, "c")
	want := digest(t, e.c, name)
	second := e.backup(t, r, name)
	s := second.Stats
	t.Logf("first backup: %d files, %d bytes; second: %d files, %d bytes, of which %d files (%d bytes) newly stored, %d reused unread",
		first.Stats.Files, first.Stats.Bytes, s.Files, s.Bytes, s.Stored, s.StoredBytes, s.Reused)
	if s.StoredBytes == 0 || s.StoredBytes*10 > s.Bytes {
		t.Fatalf("second backup stored %d of %d bytes; want only the new segment's (< 10 %%)", s.StoredBytes, s.Bytes)
	}
	if err := r.Delete(ctx, nil, first.Manifest.ID); err != nil {
		t.Fatal(err)
	}
	if rep := checksumOK(t, r, second.Manifest); !rep.OK {
		t.Fatalf("second backup fails verify after the first was deleted: %+v", rep)
	}
	blobs, err := r.StatFile(ctx, second.Manifest.Collections[0].Segments[0].Binlogs[0].File.Path)
	if err != nil {
		t.Fatalf("shared file gone: %v (%+v)", err, blobs)
	}
	target := name + "_incr"
	t.Cleanup(func() { e.c.DropCollection(context.Background(), "default", target) })
	if _, err := e.restore(r, second.Manifest, restore.Params{Target: target}); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, e.c, target); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored rows differ:\n got %+v\nwant %+v", got, want)
	}
}

// TestFreezeRealServer: freeze flushes on the real Milvus 2.3.5 and says
// that it has no GC pause API; thaw says the same.
func TestFreezeRealServer(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	name := makeCollection(t, e.c, 100)
	insertRowsNoFlush(t, e.c, name, 100000, 100010)
	res, err := native.Freeze(ctx, e.c, e.gc, native.FreezeParams{Collections: []string{name}, For: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if res.Timestamp == 0 || len(res.Flushed) != 1 {
		t.Fatalf("freeze = %+v, want one flushed collection and a timestamp", res)
	}
	segs, err := e.c.PersistentSegments(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range segs {
		if !s.Sealed() && s.Rows > 0 {
			t.Fatalf("segment %d still %s after freeze", s.ID, s.State)
		}
	}
	if e.gc == nil {
		t.Skip("no metrics port file: the GC part is not checked")
	}
	if res.GCPaused || !strings.Contains(res.GC, "no garbage-collection pause API") {
		t.Fatalf("freeze on 2.3.5 says GC %q (paused %v); 2.3.5 has no pause API", res.GC, res.GCPaused)
	}
	if err := native.Thaw(ctx, e.gc); !errors.Is(err, native.ErrGCPauseUnsupported) {
		t.Fatalf("thaw = %v, want ErrGCPauseUnsupported", err)
	}
}

func insertRowsNoFlush(t *testing.T, c *milvus.Client, name string, from, to int) {
	t.Helper()
	if err := c.Insert(context.Background(), "default", name, "", columns(from, to, "g"), to-from); err != nil {
		t.Fatal(err)
	}
}

// connectTarget connects to the named test server, or skips.
func connectTarget(t *testing.T, name string) *milvus.Client {
	t.Helper()
	for _, tg := range testenv.Targets(t) {
		if tg.Name == name {
			c, err := milvus.Connect(context.Background(), milvus.Config{Address: tg.Address})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			return c
		}
	}
	t.Skipf("MILVAULT_TEST_TARGETS has no %s target", name)
	return nil
}

// TestNativeConvertToLite: a native backup (with deletes and upserts)
// converted offline to a logical one restores by inserts into Milvus Lite
// and compares equal row by row with the source; a native restore into
// Lite is refused before anything is created. Converted in small chunks
// (many per segment), the result is the same.
func TestNativeConvertToLite(t *testing.T) {
	e := setup(t)
	lite := connectTarget(t, "lite")
	ctx := context.Background()
	name := makeCollection(t, e.c, 3000)
	want := digest(t, e.c, name)
	r := newRepo(t)
	m := e.backup(t, r, name).Manifest
	res, err := native.Convert(ctx, native.ConvertDeps{Repo: r}, m, backup.Params{Name: "converted"})
	if err != nil {
		t.Fatal(err)
	}
	conv := res.Manifest
	if conv.IsNative() || conv.TotalRows() != m.Collections[0].Rows {
		t.Fatalf("converted backup: native %v, %d rows; want logical with %d rows", conv.IsNative(), conv.TotalRows(), m.Collections[0].Rows)
	}
	if rep := checksumOK(t, r, conv); !rep.OK {
		t.Fatalf("converted backup fails verify: %+v", rep)
	}
	liteLoader := &native.Loader{Milvus: lite, Storage: e.storage, Repo: r}
	_, err = restore.Run(ctx, restore.Deps{Milvus: lite, Repo: r, Native: liteLoader}, m, restore.Params{})
	var ni *native.NotImportableError
	if !errors.As(err, &ni) {
		t.Fatalf("native restore into Lite = %v, want *NotImportableError", err)
	}
	if ok, _ := lite.HasCollection(ctx, "default", name); ok {
		t.Fatal("refused native restore created the collection on Lite")
	}
	t.Cleanup(func() { lite.DropCollection(context.Background(), "default", name) })
	if _, err := restore.Run(ctx, restore.Deps{Milvus: lite, Repo: r}, conv, restore.Params{}); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, lite, name); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows restored into Lite from the converted backup differ:\n got %+v\nwant %+v", got, want)
	}
	// In chunks of about 8 KiB of rows (dozens of chunks, each taking rows
	// from several segments, upserted keys among them) the result is the same.
	small, err := native.Convert(ctx, native.ConvertDeps{Repo: r, ChunkBytes: 8 << 10}, m, backup.Params{Name: "converted-small-chunks"})
	if err != nil {
		t.Fatal(err)
	}
	target := name + "_chunks"
	t.Cleanup(func() { lite.DropCollection(context.Background(), "default", target) })
	if _, err := restore.Run(ctx, restore.Deps{Milvus: lite, Repo: r}, small.Manifest, restore.Params{Target: target}); err != nil {
		t.Fatal(err)
	}
	if got := digest(t, lite, target); !reflect.DeepEqual(got, want) {
		t.Fatalf("rows restored into Lite from the backup converted in small chunks differ:\n got %+v\nwant %+v", got, want)
	}
}

// cancelAfter cancels a context after n stored segment files.
type cancelAfter struct {
	progress.Progress
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Bytes(int64) {
	if c.n--; c.n == 0 {
		c.cancel()
	}
}

// TestNativeResume: a native backup interrupted half-way leaves its stored
// segment files and their source hints; the next run references them
// without reading them from Milvus again, and the result restores equal.
func TestNativeResume(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	name := makeCollection(t, e.c, 3000)
	r := newRepo(t)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prog := &cancelAfter{Progress: progress.Nop, n: 10, cancel: cancel}
	_, err := native.Backup(cctx, native.Deps{Milvus: e.c, Repo: r, Storage: e.storage, Progress: prog}, backup.Params{Collections: []string{name}})
	if err == nil {
		t.Fatal("interrupted backup succeeded")
	}
	if ms, _, _ := r.List(ctx); len(ms) != 0 {
		t.Fatalf("interrupted backup listed: %d backups", len(ms))
	}
	res := e.backup(t, r, name)
	s := res.Stats
	t.Logf("resumed run: %d files, %d reused without reading, %d read, %d stored", s.Files, s.Reused, s.Copied, s.Stored)
	// Files are copied several at once, so the interrupted run may also
	// have stored files whose source hints it did not record: the resumed
	// run reads those again but finds them stored (Stored < Copied).
	if s.Reused < 10 || s.Reused+s.Copied != s.Files || s.Stored > s.Copied {
		t.Fatalf("resumed run %+v: want the 10 files of the interrupted run reused unread, the rest read", s)
	}
	if rep := checksumOK(t, r, res.Manifest); !rep.OK {
		t.Fatalf("resumed backup fails verify: %+v", rep)
	}
}
