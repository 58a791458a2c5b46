package milvus

import (
	"context"
	"runtime"

	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"
	"golang.org/x/sync/errgroup"
)

// AutoWorkers, as ScanRequest.Workers, lets Scan pick how many streams read
// at once: one per query node holding the collection, at most one per core
// of this machine and at most maxWorkers.
const AutoWorkers = -1

const (
	// chunkBatches is the size of one chunk of a parallel scan, in batches:
	// each stream reads a chunk whole while the caller consumes an earlier
	// one, so memory holds about workers × chunkBatches batches.
	chunkBatches = 2
	// keyPassRows is how many keys one call of the key pass reads.
	keyPassRows = 16384
	maxWorkers  = 8
)

// scanParallel is Scan with several streams. A first pass reads only the
// keys (cheap next to rows of vectors) and cuts the key space into chunks
// of about chunkBatches batches each; up to workers streams then read
// chunks at once, each a bounded scan of its own key range, and the caller
// receives the chunks' batches in key order. Every stream reads at the
// timestamp the key pass was pinned at.
func (c *Client) scanParallel(ctx context.Context, req ScanRequest, fn func(Batch) error) (ScanResult, error) {
	workers := req.Workers
	if workers == AutoWorkers {
		workers = c.autoWorkers(ctx, req)
	}
	req.Workers = 0
	if workers <= 1 {
		return c.scanRange(ctx, req, 0, fn)
	}
	bounds, keys, err := c.chunkBounds(ctx, req, chunkBatches*max(1, req.BatchRows))
	if err != nil {
		return keys, err
	}
	res, err := c.scanChunks(ctx, req, bounds, workers, keys.SessionTs, fn)
	res.Queries += keys.Queries
	res.Bounded += keys.Bounded
	res.Probes += keys.Probes
	return res, err
}

// autoWorkers returns the AutoWorkers choice, one stream when the server
// does not tell which query nodes hold the collection (Milvus Lite).
func (c *Client) autoWorkers(ctx context.Context, req ScanRequest) int {
	segs, err := c.QuerySegments(ctx, req.Database, req.Collection)
	if err != nil {
		return 1
	}
	nodes := map[int64]bool{}
	for _, s := range segs {
		for _, n := range s.Nodes {
			if n != 0 {
				nodes[n] = true
			}
		}
	}
	return max(1, min(len(nodes), runtime.NumCPU(), maxWorkers))
}

// chunkBounds reads the keys of the selection and returns every
// chunkRows-th one: the last keys of chunks of chunkRows rows (the last
// chunk, after the last bound, is left out).
func (c *Client) chunkBounds(ctx context.Context, req ScanRequest, chunkRows int) ([]any, ScanResult, error) {
	req.BatchRows = keyPassRows
	pk := req.PrimaryKey.GetName()
	var bounds []any
	seen := 0
	s, err := newScanner(c, req)
	if err != nil {
		return nil, ScanResult{}, err
	}
	s.output = []string{pk}
	err = s.run(ctx, func(b Batch) error {
		keys := findField(b.Fields, pk)
		for i := range b.Rows {
			if seen++; seen%chunkRows == 0 {
				bounds = append(bounds, keyAt(keys, i))
			}
		}
		return nil
	})
	return bounds, s.res, err
}

func keyAt(keys *schemapb.FieldData, i int) any {
	if ids := keys.GetScalars().GetLongData().GetData(); i < len(ids) {
		return ids[i]
	}
	return keys.GetScalars().GetStringData().GetData()[i]
}

// chunk is one key range of a parallel scan and the batches read from it.
type chunk struct {
	out chan Batch
	res ScanResult // set before out is closed
	err error      // set before out is closed
}

// scanChunks reads the chunks ending at bounds (and the one after the last
// bound) with up to workers streams and hands their batches to fn in key
// order.
func (c *Client) scanChunks(ctx context.Context, req ScanRequest, bounds []any, workers int, ts uint64, fn func(Batch) error) (ScanResult, error) {
	g, gctx := errgroup.WithContext(ctx)
	queue := make(chan *chunk, workers-1)
	g.Go(func() error {
		defer close(queue)
		for i := 0; i <= len(bounds); i++ {
			ch := &chunk{out: make(chan Batch, chunkBatches+2)}
			r := chunkRequest(req, bounds, i)
			if err := send(gctx, queue, ch); err != nil {
				return err
			}
			g.Go(func() error {
				ch.res, ch.err = c.scanRange(gctx, r, ts, func(b Batch) error { return send(gctx, ch.out, b) })
				close(ch.out)
				return ch.err
			})
		}
		return nil
	})
	res := ScanResult{SessionTs: ts}
	var err error
	for ch := range queue {
		for b := range ch.out {
			if err == nil {
				err = fn(b)
			}
		}
		if err == nil {
			err = ch.err // a failed chunk ends the scan: later ones would leave a gap
		}
		if err != nil {
			break
		}
		res.Rows += ch.res.Rows
		res.Queries += ch.res.Queries
		res.Bounded += ch.res.Bounded
		res.Probes += ch.res.Probes
	}
	return res, drainChunks(err, queue, g)
}

// drainChunks stops the streams after the consumer stopped (err set) or
// finished, and returns the first error.
func drainChunks(err error, queue <-chan *chunk, g *errgroup.Group) error {
	if err != nil {
		for ch := range queue {
			for range ch.out {
			}
		}
	}
	if werr := g.Wait(); err == nil {
		err = werr
	}
	return err
}

// chunkRequest returns the request of chunk i: after bound i-1 (or where
// the scan starts) up to bound i (or where the scan ends).
func chunkRequest(req ScanRequest, bounds []any, i int) ScanRequest {
	if i > 0 {
		req.After = bounds[i-1]
	}
	if i < len(bounds) {
		req.Until = bounds[i]
	}
	return req
}

// send hands v over unless ctx is cancelled first.
func send[T any](ctx context.Context, ch chan<- T, v T) error {
	select {
	case ch <- v:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
