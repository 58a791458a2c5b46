// Command guardbench measures what milvault guard costs an application:
// insert throughput and search latency (p50, p99) of the same workload
// sent to Milvus directly and through an in-process guard, alternating
// batch by batch and search by search so that both paths see the same
// server state and load. scripts/bench-guard.sh runs it against the real
// Milvus 2.3.5 and appends its table to docs/benchmarks.md.
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/guard"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

type options struct {
	milvus            string
	batches, batchRow int
	dim, searches     int
	out               string
}

func main() {
	var o options
	flag.StringVar(&o.milvus, "milvus", "127.0.0.1:19530", "Milvus address")
	flag.IntVar(&o.batches, "batches", 40, "insert batches per path")
	flag.IntVar(&o.batchRow, "batch-rows", 1000, "rows per insert batch")
	flag.IntVar(&o.dim, "dim", 128, "vector dimension")
	flag.IntVar(&o.searches, "searches", 1000, "searches per path")
	flag.StringVar(&o.out, "out", "", "append the markdown table to this file")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "guardbench:", err)
		os.Exit(1)
	}
}

// path is one way to Milvus: direct or through the guard.
type path struct {
	name   string
	c      *milvus.Client
	coll   string
	insert time.Duration
	lat    []time.Duration
}

func run(ctx context.Context, o options) error {
	gaddr, stop, err := startGuard(o.milvus)
	if err != nil {
		return err
	}
	defer stop()
	paths := []*path{{name: "direct"}, {name: "through the guard"}}
	for i, addr := range []string{o.milvus, gaddr} {
		c, err := milvus.Connect(ctx, milvus.Config{Address: addr})
		if err != nil {
			return err
		}
		defer c.Close()
		paths[i].c = c
		paths[i].coll = fmt.Sprintf("guardbench_%d_%d", i, rand.Uint32())
		if err := create(ctx, c, paths[i].coll, o.dim); err != nil {
			return err
		}
		defer paths[0].c.DropCollection(context.Background(), "default", paths[i].coll)
	}
	if err := inserts(ctx, o, paths); err != nil {
		return err
	}
	if err := searches(ctx, o, paths); err != nil {
		return err
	}
	return report(o, paths)
}

// startGuard serves a guard (default policies, a throw-away repository) on
// a loopback port in front of upstream.
func startGuard(upstream string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "guardbench-")
	if err != nil {
		return "", nil, err
	}
	s, err := local.New(dir)
	if err != nil {
		return "", nil, err
	}
	r, err := repo.Init(context.Background(), s)
	if err != nil {
		return "", nil, err
	}
	conn, err := guard.Dial(upstream, nil)
	if err != nil {
		return "", nil, err
	}
	g, err := guard.New(guard.Config{Upstream: conn, UpstreamAddress: upstream, Repo: r, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := g.Server()
	go srv.Serve(ln)
	return ln.Addr().String(), func() { srv.Stop(); conn.Close(); os.RemoveAll(dir) }, nil
}

func create(ctx context.Context, c *milvus.Client, name string, dim int) error {
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "v", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: strconv.Itoa(dim)}}},
	}}
	return c.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema})
}

// inserts sends the same batches to both paths, alternating which goes
// first.
func inserts(ctx context.Context, o options, paths []*path) error {
	for b := range o.batches {
		ids := make([]int64, o.batchRow)
		vecs := make([]float32, o.dim*o.batchRow)
		for i := range ids {
			ids[i] = int64(b*o.batchRow + i)
		}
		for i := range vecs {
			vecs[i] = rand.Float32()
		}
		fields := []*schemapb.FieldData{milvus.Int64Column("id", ids), milvus.FloatVectorColumn("v", o.dim, vecs)}
		for k := range paths {
			p := paths[(b+k)%len(paths)]
			start := time.Now()
			if err := p.c.Insert(ctx, "default", p.coll, "", fields, o.batchRow); err != nil {
				return err
			}
			p.insert += time.Since(start)
		}
	}
	return nil
}

// searches indexes and loads both collections, then times top-10
// searches, alternating paths.
func searches(ctx context.Context, o options, paths []*path) error {
	for _, p := range paths {
		if _, err := p.c.Flush(ctx, "default", p.coll); err != nil {
			return err
		}
		if err := p.c.CreateIndex(ctx, "default", p.coll, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
			return err
		}
		if err := p.c.Load(ctx, "default", p.coll, nil); err != nil {
			return err
		}
	}
	q := make([]float32, o.dim)
	for i := range o.searches {
		for i := range q {
			q[i] = rand.Float32()
		}
		for k := range paths {
			p := paths[(i+k)%len(paths)]
			start := time.Now()
			if err := search(ctx, p, q); err != nil {
				return err
			}
			p.lat = append(p.lat, time.Since(start))
		}
	}
	return nil
}

// search runs one top-10 search with bounded consistency (a strong one
// waits up to Milvus's 200 ms time tick, which would hide the guard's cost).
func search(ctx context.Context, p *path, q []float32) error {
	vals := make([]byte, 4*len(q))
	for i, f := range q {
		binary.LittleEndian.PutUint32(vals[4*i:], math.Float32bits(f))
	}
	pg, err := proto.Marshal(&commonpb.PlaceholderGroup{Placeholders: []*commonpb.PlaceholderValue{
		{Tag: "$0", Type: commonpb.PlaceholderType_FloatVector, Values: [][]byte{vals}}}})
	if err != nil {
		return err
	}
	resp, err := p.c.Service().Search(ctx, &milvuspb.SearchRequest{
		DbName: "default", CollectionName: p.coll, DslType: commonpb.DslType_BoolExprV1,
		SearchInput: &milvuspb.SearchRequest_PlaceholderGroup{PlaceholderGroup: pg}, Nq: 1,
		ConsistencyLevel: commonpb.ConsistencyLevel_Bounded,
		SearchParams: []*commonpb.KeyValuePair{{Key: "anns_field", Value: "v"}, {Key: "topk", Value: "10"},
			{Key: "metric_type", Value: "L2"}, {Key: "params", Value: "{}"}},
	})
	if err == nil && resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
		err = errors.New(resp.GetStatus().GetReason())
	}
	if err == nil && len(resp.GetResults().GetIds().GetIntId().GetData()) != 10 {
		err = fmt.Errorf("search of %s found %d rows, want 10", p.coll, len(resp.GetResults().GetIds().GetIntId().GetData()))
	}
	return err
}

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(p*float64(len(s))))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func report(o options, paths []*path) error {
	rows := float64(o.batches * o.batchRow)
	table := fmt.Sprintf("Workload: %d insert batches of %d rows (int64 pk, %d-d float vector), then %d top-10 searches (FLAT, L2, bounded consistency) per path, alternating direct and guard call by call.\n\n", o.batches, o.batchRow, o.dim, o.searches)
	table += "| path | insert rows/s | search p50 | search p99 |\n|---|---:|---:|---:|\n"
	for _, p := range paths {
		table += fmt.Sprintf("| %s | %.0f | %s | %s |\n", p.name, rows/p.insert.Seconds(), ms(pct(p.lat, 0.5)), ms(pct(p.lat, 0.99)))
	}
	d, g := paths[0], paths[1]
	table += fmt.Sprintf("\nGuard vs direct: insert throughput %+.1f %%, search p50 %+.2f ms, p99 %+.2f ms.\n",
		100*(d.insert.Seconds()/g.insert.Seconds()-1), float64((pct(g.lat, 0.5)-pct(d.lat, 0.5)).Microseconds())/1000,
		float64((pct(g.lat, 0.99)-pct(d.lat, 0.99)).Microseconds())/1000)
	fmt.Print(table)
	if o.out == "" {
		return nil
	}
	f, err := os.OpenFile(o.out, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString(table)
	return err
}
