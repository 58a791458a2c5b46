package native

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/repo"
)

// object is one segment file in Milvus's storage.
type object struct {
	Key       string // store name, relative to the root path
	Size      int64
	Kind      string // manifest.BinlogInsert, BinlogDelta or BinlogStats
	Partition int64
	Segment   int64
	Field     int64 // 0 for delta logs
	LogID     string
}

// folders are Milvus's folders of each binlog kind.
var folders = map[string]string{
	manifest.BinlogInsert: "insert_log/",
	manifest.BinlogDelta:  "delta_log/",
	manifest.BinlogStats:  "stats_log/",
}

// kinds lists the binlog kinds in a stable order.
var kinds = []string{manifest.BinlogInsert, manifest.BinlogDelta, manifest.BinlogStats}

// listObjects returns the segment files of collection coll in st, by
// segment id; the three kinds of files are listed at once. Names that do
// not follow Milvus's layout are errors: they mean the storage given is not
// Milvus's root path.
func listObjects(ctx context.Context, st repo.Store, coll int64) (map[int64][]object, error) {
	lists := make([][]repo.FileInfo, len(kinds))
	g, gctx := errgroup.WithContext(ctx)
	for i, kind := range kinds {
		g.Go(func() error {
			prefix := folders[kind] + strconv.FormatInt(coll, 10) + "/"
			files, err := st.List(gctx, prefix)
			if err != nil {
				return fmt.Errorf("list %s in Milvus storage %s: %w", prefix, st.Location(), err)
			}
			lists[i] = files
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := map[int64][]object{}
	for i, kind := range kinds {
		prefix := folders[kind] + strconv.FormatInt(coll, 10) + "/"
		for _, f := range lists[i] {
			o, err := parseObject(kind, prefix, f)
			if err != nil {
				return nil, err
			}
			out[o.Segment] = append(out[o.Segment], o)
		}
	}
	return out, nil
}

// parseObject reads partition, segment, field and log id from a name:
// <partition>/<segment>/<field>/<log> (insert and stats logs) or
// <partition>/<segment>/<log> (delta logs) after prefix.
func parseObject(kind, prefix string, f repo.FileInfo) (object, error) {
	parts := strings.Split(strings.TrimPrefix(f.Name, prefix), "/")
	want := 4
	if kind == manifest.BinlogDelta {
		want = 3
	}
	bad := fmt.Errorf("unexpected object %s in Milvus storage: not <partition>/<segment>/[<field>/]<log>; is --milvus-storage Milvus's root path?", f.Name)
	if len(parts) != want {
		return object{}, bad
	}
	ids := make([]int64, want-1)
	for i := range ids {
		n, err := strconv.ParseInt(parts[i], 10, 64)
		if err != nil {
			return object{}, bad
		}
		ids[i] = n
	}
	o := object{Key: f.Name, Size: f.Size, Kind: kind, Partition: ids[0], Segment: ids[1], LogID: parts[want-1]}
	if kind != manifest.BinlogDelta {
		o.Field = ids[2]
	}
	return o, nil
}

// checkSegment refuses a sealed segment whose insert logs are missing or
// misaligned (every field must have the same number of logs; orphan logs
// of a retried flush break that, and the import would fail on them).
func checkSegment(seg int64, rows int64, objs []object) error {
	perField := map[int64]int{}
	for _, o := range objs {
		if o.Kind == manifest.BinlogInsert {
			perField[o.Field]++
		}
	}
	if len(perField) == 0 {
		if rows == 0 {
			return nil
		}
		return fmt.Errorf("sealed segment %d (%d rows) has no insert logs in Milvus storage: wrong --milvus-storage root, or its files were garbage-collected; take a logical backup (--mode logical)", seg, rows)
	}
	n := -1
	for f, c := range perField {
		if n >= 0 && c != n {
			return fmt.Errorf("segment %d: field %d has %d insert logs, others %d (orphan files of a retried flush?); take a logical backup (--mode logical)", seg, f, c, n)
		}
		n = c
	}
	return nil
}
