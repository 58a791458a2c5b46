package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/milvus"
)

// The segment axis (issue 19): the same data read at few and at many
// segments. The segment count is a server setting
// (dataCoord.segment.maxSize), so scripts/bench.sh starts the server once
// per setting and runs this program with -segment-axis LABEL each time,
// which seeds the collection, counts its segments and appends one line per
// round (drain and backup, alternately) to the -segment-results file; a last
// run with -segment-report renders them.

// segmentRun is one measured round at one server setting.
type segmentRun struct {
	label              string
	segments           int
	rows               int64
	drainSecs, backSec float64
	oneStreamSecs      float64 // backup with --scan-workers 1
	openSecs           float64 // drain with open ranges (pk > last), as before issue 19
}

// measureSegments seeds rows rows, then measures the raw query drain and
// the backup cfg.rounds times and appends the results to path.
func measureSegments(ctx context.Context, cfg config, rows int, label, path string) error {
	c, err := milvus.Connect(ctx, milvus.Config{Address: cfg.addr})
	if err != nil {
		return err
	}
	defer c.Close()
	repoDir, err := os.MkdirTemp("", "milvault-bench-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(repoDir)
	coll := fmt.Sprintf("bench_segments_%d", rows)
	if err := dropIfExists(ctx, c, coll); err != nil {
		return err
	}
	defer dropIfExists(context.Background(), c, coll)
	logf("%s: seeding %d rows", label, rows)
	if _, err := seed(ctx, c, coll, rows, cfg.index); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	segs, err := c.QuerySegments(ctx, "default", coll)
	if err != nil {
		return err
	}
	base := []string{"--milvus", cfg.addr, "--repo", repoDir, "-q"}
	for k := 1; k <= max(1, cfg.rounds); k++ {
		run, err := segmentRound(ctx, c, cfg, coll, base, k)
		if err != nil {
			return err
		}
		run.label, run.segments = label, len(segs)
		logf("%s: %d segments, drain %.0f rows/s (open ranges %.0f), backup %.0f rows/s, one stream %.0f rows/s", label, run.segments,
			float64(run.rows)/run.drainSecs, float64(run.rows)/run.openSecs, float64(run.rows)/run.backSec, float64(run.rows)/run.oneStreamSecs)
		if err := appendFile(path, fmt.Sprintf("%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t%.3f\n", run.label, run.segments, run.rows, run.drainSecs, run.backSec, run.oneStreamSecs, run.openSecs)); err != nil {
			return err
		}
	}
	return nil
}

func segmentRound(ctx context.Context, c *milvus.Client, cfg config, coll string, base []string, k int) (segmentRun, error) {
	n, secs, err := queryDrain(ctx, c, coll)
	if err != nil {
		return segmentRun{}, fmt.Errorf("query drain: %w", err)
	}
	on, openSecs, err := openDrain(ctx, c, coll)
	if err != nil {
		return segmentRun{}, fmt.Errorf("open-range drain: %w", err)
	}
	if on != n {
		return segmentRun{}, fmt.Errorf("open-range drain read %d rows, the bounded drain %d", on, n)
	}
	args := append(base, "backup", "-c", coll, "--name", fmt.Sprintf("r%d", k))
	if k == 1 {
		args = append(args, "--init")
	}
	s, err := child(ctx, cfg.cpu, stepBackup, cfg.bin, args...)
	if err != nil {
		return segmentRun{}, err
	}
	one, err := child(ctx, cfg.cpu, stepBackup, cfg.bin, append(base, "backup", "-c", coll, "--name", fmt.Sprintf("r%d-one", k), "--scan-workers", "1")...)
	if err != nil {
		return segmentRun{}, err
	}
	return segmentRun{rows: n, drainSecs: secs, backSec: s.secs, oneStreamSecs: one.secs, openSecs: openSecs}, nil
}

// openDrain reads every row of coll the way scans did before issue 19:
// "pk > last" with the backup's batch size and no upper bound, at the
// timestamp of a flush made before the clock starts.
func openDrain(ctx context.Context, c *milvus.Client, coll string) (int64, float64, error) {
	desc, err := c.Describe(ctx, "default", coll)
	if err != nil {
		return 0, 0, err
	}
	ts, err := c.Flush(ctx, "default", coll)
	if err != nil {
		return 0, 0, err
	}
	pk := milvus.PrimaryField(desc.GetSchema()).GetName()
	batch := strconv.Itoa(backup.BatchRows(desc.GetSchema()))
	start := time.Now()
	var rows int64
	expr := ""
	for {
		resp, err := c.Service().Query(ctx, &milvuspb.QueryRequest{DbName: "default", CollectionName: coll, Expr: expr, OutputFields: []string{"*"},
			QueryParams:      []*commonpb.KeyValuePair{{Key: "limit", Value: batch}, {Key: "iterator", Value: "true"}, {Key: "reduce_stop_for_best", Value: "true"}},
			ConsistencyLevel: commonpb.ConsistencyLevel_Customized, GuaranteeTimestamp: ts})
		if err == nil && resp.GetStatus().GetCode() != 0 {
			err = fmt.Errorf("%s", resp.GetStatus().GetReason())
		}
		if err != nil {
			return rows, 0, err
		}
		var keys []int64
		for _, f := range resp.GetFieldsData() {
			if f.GetFieldName() == pk {
				keys = f.GetScalars().GetLongData().GetData()
			}
		}
		if len(keys) == 0 {
			return rows, time.Since(start).Seconds(), nil
		}
		rows += int64(len(keys))
		expr = fmt.Sprintf("%s > %d", pk, keys[len(keys)-1])
	}
}

// renderSegments reads the lines measureSegments appended to path and
// renders them as markdown, with the ratio of each setting's best backup
// rate to the first setting's.
func renderSegments(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var runs []segmentRun
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 7 {
			return "", fmt.Errorf("%s: bad line %q", path, sc.Text())
		}
		var r segmentRun
		r.label = p[0]
		r.segments, _ = strconv.Atoi(p[1])
		r.rows, _ = strconv.ParseInt(p[2], 10, 64)
		r.drainSecs, _ = strconv.ParseFloat(p[3], 64)
		r.backSec, _ = strconv.ParseFloat(p[4], 64)
		r.oneStreamSecs, _ = strconv.ParseFloat(p[5], 64)
		r.openSecs, _ = strconv.ParseFloat(p[6], 64)
		runs = append(runs, r)
	}
	if err := sc.Err(); err != nil || len(runs) == 0 {
		return "", fmt.Errorf("%s: no results (%v)", path, err)
	}
	return segmentTable(runs), nil
}

func segmentTable(runs []segmentRun) string {
	var b strings.Builder
	b.WriteString("\n| server setting | segments | rows | raw drain rows/s (bounded ranges) | raw drain rows/s (open ranges, before issue 19) | backup rows/s (default --scan-workers) | backup rows/s (--scan-workers 1) |\n|---|---:|---:|---:|---:|---:|---:|\n")
	best := map[string]float64{}
	var labels []string
	for _, r := range runs {
		rate := float64(r.rows) / r.backSec
		fmt.Fprintf(&b, "| %s | %d | %d | %.0f | %.0f | %.0f | %.0f |\n", r.label, r.segments, r.rows, float64(r.rows)/r.drainSecs, float64(r.rows)/r.openSecs, rate, float64(r.rows)/r.oneStreamSecs)
		if _, ok := best[r.label]; !ok {
			labels = append(labels, r.label)
		}
		best[r.label] = max(best[r.label], rate, float64(r.rows)/r.oneStreamSecs)
	}
	b.WriteString("\nRatios (best backup rows/s of each setting, either --scan-workers column, / best of the first, same run):\n\n")
	for _, l := range labels[1:] {
		fmt.Fprintf(&b, "- backup at %s / at %s: %.2f\n", l, labels[0], best[l]/best[labels[0]])
	}
	return b.String()
}
