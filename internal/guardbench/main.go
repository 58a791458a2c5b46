// Command guardbench measures what milvault guard costs an application:
// insert throughput and search latency (p50, p99) of the same workload
// sent to Milvus directly and through a guard, so that both paths see the
// same server state and load:
//
//   - one writer, alternating direct and guard batch by batch: the median
//     call latency and the total time (which Milvus's own stalls, a flush
//     or a segment seal of 20-100 ms landing on either path, dominate);
//   - several writers at once (-writers), direct and guard in turn for
//     several rounds (-rounds) whose order alternates: the throughput an
//     application that keeps Milvus busy sees, summed over the rounds;
//   - searches alternating call by call: p50 and p99.
//
// The guard is either served in this process (the default) or a separate
// `milvault guard` process (-guard ADDR, as deployed); with -guard-pid its
// CPU time per call is read from /proc. scripts/bench-guard.sh runs it
// against the real Milvus 2.3.5 and a `milvault guard` process and appends
// its table to docs/benchmarks.md.
package main

import (
	"bytes"
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
	"strings"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/milvault/milvault/guard"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

type options struct {
	milvus            string
	guard             string
	guardPID          int
	batches, batchRow int
	writers, rounds   int
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
	flag.StringVar(&o.guard, "guard", "", "address of a running milvault guard in front of -milvus (empty: serve one in this process)")
	flag.IntVar(&o.guardPID, "guard-pid", 0, "process id of the -guard process, to report its CPU time per call")
	flag.IntVar(&o.writers, "writers", 4, "concurrent writers of the throughput phase (0 skips it)")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of the throughput phase (each runs both paths, order alternating)")
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
	insert time.Duration   // one writer, all batches
	calls  []time.Duration // one writer, each batch
	conc   time.Duration   // several writers, all rounds
	lat    []time.Duration // searches
	// spans are the guarded calls of the one-writer and search phases
	// by method, for the timeline.
	spans map[string][]span
}

// cpu is the guard process's CPU time used by each phase (zero without
// -guard-pid).
type cpu struct{ insert, conc, search time.Duration }

func run(ctx context.Context, o options) error {
	gaddr := o.guard
	var tl *timeline
	if gaddr == "" {
		tl = newTimeline()
		addr, stop, err := startGuard(o.milvus, tl)
		if err != nil {
			return err
		}
		defer stop()
		gaddr = addr
	}
	paths := []*path{{name: "direct"}, {name: "through the guard"}}
	// Both paths write to and search one collection, so that neither
	// meets a different segment layout or index state.
	coll := fmt.Sprintf("guardbench_%d", rand.Uint32())
	for i, addr := range []string{o.milvus, gaddr} {
		c, err := milvus.Connect(ctx, milvus.Config{Address: addr})
		if err != nil {
			return err
		}
		defer c.Close()
		paths[i].c, paths[i].coll = c, coll
	}
	if err := create(ctx, paths[0].c, coll, o.dim); err != nil {
		return err
	}
	defer paths[0].c.DropCollection(context.Background(), "default", coll)
	for _, p := range paths {
		p.spans = map[string][]span{}
	}
	var used cpu
	tl.record(true)
	if err := o.measure(&used.insert, func() error { return inserts(ctx, o, paths) }); err != nil {
		return err
	}
	tl.record(false)
	if err := o.measure(&used.conc, func() error { return concurrent(ctx, o, paths) }); err != nil {
		return err
	}
	tl.record(true)
	if err := o.measure(&used.search, func() error { return searches(ctx, o, paths) }); err != nil {
		return err
	}
	return report(o, paths, used, tl)
}

// measure runs f and adds the guard process's CPU time during it to d.
func (o options) measure(d *time.Duration, f func() error) error {
	before, err := processCPU(o.guardPID)
	if err != nil {
		return err
	}
	if err := f(); err != nil {
		return err
	}
	after, err := processCPU(o.guardPID)
	*d += after - before
	return err
}

// processCPU reads the user and system CPU time of process pid from
// /proc/PID/stat (zero for pid 0).
func processCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("guard CPU time: %w", err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("guard CPU time: short /proc/%d/stat", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("guard CPU time: %w", err)
	}
	const ticks = 100 // USER_HZ on Linux
	return time.Duration(utime+stime) * time.Second / ticks, nil
}

// startGuard serves a guard (default policies, a throw-away repository) on
// a loopback port in front of upstream.
func startGuard(upstream string, tl *timeline) (string, func(), error) {
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
	srv := g.Server(grpc.StatsHandler(tl))
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

// batch returns insert batch number b: ids from b*rows, random vectors.
func batch(o options, b int) []*schemapb.FieldData {
	ids := make([]int64, o.batchRow)
	vecs := make([]float32, o.dim*o.batchRow)
	for i := range ids {
		ids[i] = int64(b*o.batchRow + i)
	}
	for i := range vecs {
		vecs[i] = rand.Float32()
	}
	return []*schemapb.FieldData{milvus.Int64Column("id", ids), milvus.FloatVectorColumn("v", o.dim, vecs)}
}

// inserts sends the same batches to both paths, one writer, alternating
// which goes first.
func inserts(ctx context.Context, o options, paths []*path) error {
	for b := range o.batches {
		for k := range paths {
			i := (b + k) % len(paths)
			p := paths[i]
			fields := batch(o, 2*b+i)
			start := time.Now()
			if err := p.c.Insert(ctx, "default", p.coll, "", fields, o.batchRow); err != nil {
				return err
			}
			end := time.Now()
			p.insert += end.Sub(start)
			p.calls = append(p.calls, end.Sub(start))
			p.spans["Insert"] = append(p.spans["Insert"], span{start, end})
		}
	}
	return nil
}

// concurrent times o.batches batches per path and round sent by
// o.writers writers at once, one path after the other, the order
// alternating by round.
func concurrent(ctx context.Context, o options, paths []*path) error {
	if o.writers <= 0 {
		return nil
	}
	// Each writer sends its own vectors with new ids in every call (a
	// repeated primary key would shrink the search results later).
	vectors := make([]*schemapb.FieldData, o.writers)
	for w := range vectors {
		vectors[w] = batch(o, 0)[1]
	}
	next := 2 * o.batches // batch number of the next ids
	for r := range o.rounds {
		for k := range paths {
			p := paths[(r+k)%len(paths)]
			start := time.Now()
			errs := make(chan error, o.writers)
			for w := range o.writers {
				go func(first int) {
					var err error
					for b := w; b < o.batches && err == nil; b += o.writers {
						ids := make([]int64, o.batchRow)
						for i := range ids {
							ids[i] = int64((first+b)*o.batchRow + i)
						}
						err = p.c.Insert(ctx, "default", p.coll, "", []*schemapb.FieldData{milvus.Int64Column("id", ids), vectors[w]}, o.batchRow)
					}
					errs <- err
				}(next)
			}
			next += o.batches
			var err error
			for range o.writers {
				err = errors.Join(err, <-errs)
			}
			if err != nil {
				return err
			}
			p.conc += time.Since(start)
		}
	}
	return nil
}

// searches indexes and loads the collection, then times top-10
// searches, alternating paths.
func searches(ctx context.Context, o options, paths []*path) error {
	c, coll := paths[0].c, paths[0].coll
	if _, err := c.Flush(ctx, "default", coll); err != nil {
		return err
	}
	if err := c.CreateIndex(ctx, "default", coll, "v", "v_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		return err
	}
	if err := c.Load(ctx, "default", coll, nil); err != nil {
		return err
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
			end := time.Now()
			p.lat = append(p.lat, end.Sub(start))
			p.spans["Search"] = append(p.spans["Search"], span{start, end})
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

func msDiff(a, b time.Duration) float64 { return float64((a - b).Microseconds()) / 1000 }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func report(o options, paths []*path, used cpu, tl *timeline) error {
	rows := float64(o.batches * o.batchRow)
	where := "served in the bench process"
	if o.guard != "" {
		where = "a separate `milvault guard` process"
	}
	table := fmt.Sprintf("Workload: %d insert batches of %d rows (int64 pk, %d-d float vector) per path by one writer, alternating direct and guard call by call; "+
		"then %d rounds of %d batches per path by %d writers at once, the paths in turn; then %d top-10 searches (FLAT, L2, bounded consistency) per path, alternating call by call. "+
		"The guard is %s.\n\n", o.batches, o.batchRow, o.dim, o.rounds, o.batches, o.writers, o.searches, where)
	d, g := paths[0], paths[1]
	table += "| measure | direct | through the guard | guard vs direct |\n|---|---:|---:|---:|\n"
	table += fmt.Sprintf("| insert, one writer: median call | %s | %s | %+.2f ms |\n", ms(pct(d.calls, 0.5)), ms(pct(g.calls, 0.5)), msDiff(pct(g.calls, 0.5), pct(d.calls, 0.5)))
	table += fmt.Sprintf("| insert, one writer: rows/s (all calls) | %.0f | %.0f | %+.1f %% |\n", rows/d.insert.Seconds(), rows/g.insert.Seconds(), 100*(d.insert.Seconds()/g.insert.Seconds()-1))
	if o.writers > 0 {
		crow := rows * float64(o.rounds)
		table += fmt.Sprintf("| insert, %d writers: rows/s | %.0f | %.0f | %+.1f %% |\n", o.writers, crow/d.conc.Seconds(), crow/g.conc.Seconds(), 100*(d.conc.Seconds()/g.conc.Seconds()-1))
	}
	table += fmt.Sprintf("| search p50 | %s | %s | %+.2f ms |\n", ms(pct(d.lat, 0.5)), ms(pct(g.lat, 0.5)), msDiff(pct(g.lat, 0.5), pct(d.lat, 0.5)))
	table += fmt.Sprintf("| search p99 | %s | %s | %+.2f ms |\n", ms(pct(d.lat, 0.99)), ms(pct(g.lat, 0.99)), msDiff(pct(g.lat, 0.99), pct(d.lat, 0.99)))
	if o.guardPID != 0 {
		table += fmt.Sprintf("\nGuard process CPU: %s per insert call (one writer), %s per insert call (%d writers), %s per search.\n",
			ms(used.insert/time.Duration(o.batches)), ms(used.conc/time.Duration(o.batches*o.rounds)), o.writers, ms(used.search/time.Duration(o.searches)))
	}
	if tl != nil {
		// Searches are timed by the client one by one; inserts only in
		// the one-writer phase (the writers' phase is not recorded by call).
		table += "\nWhere a guarded call's time goes (medians of the one-writer inserts and the searches; the guard's moments from its gRPC stats handler):\n\n" +
			"| call | direct | through the guard | call start to whole request at the guard | whole request to response sent by the guard | response sent to call end at the client |\n|---|---:|---:|---:|---:|---:|\n" +
			tl.report("Insert", d.calls, g.spans["Insert"]) + tl.report("Search", d.lat, g.spans["Search"])
	}
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
