package backup

import (
	"context"
	"fmt"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/sync/errgroup"
)

// The encode stage turns row groups into data files on up to W goroutines
// (Params.EncodeWorkers). Where a file ends is decided before it is
// encoded, from the raw (Arrow) size of its row groups: a file is closed
// after the row group that brings it to ChunkBytes. The cut depends on
// nothing else, so W workers write exactly the files one worker writes,
// row for row and byte for byte (each file's bytes depend only on its row
// groups). Each file has its own goroutine, Parquet writer and spool file;
// the store stage takes them strictly in file order, so files are stored,
// listed and journaled in key order, and a file is recorded only once every
// earlier file of the partition is stored.
//
// Bounds: at most W files are being encoded or wait to be stored, plus the
// one being stored (W+1 spool files of at most about ChunkBytes each). With
// W = 1 the hand-off from the cut stage is unbuffered, as before; with W > 1
// each file queues the row groups it has not encoded yet (at most one
// file's worth), so the Arrow data in flight is at most about
// W × (ChunkBytes + one row group), on top of the scan's batches and the
// row group being built.

// maxEncodeWorkers bounds Params.EncodeWorkers.
const maxEncodeWorkers = 64

// DefaultEncodeWorkers is the number of files a backup encodes at once
// when Params.EncodeWorkers is 0: one per core, at most four.
func DefaultEncodeWorkers() int { return min(runtime.GOMAXPROCS(0), 4) }

// rowGroup is a row group on its way to the encoder of its file, with the
// raw size its builder estimated (what file cuts are measured in).
type rowGroup struct {
	rec arrow.RecordBatch
	raw int64
}

// fileJob is one data file: the row groups the cut stage assigns to it,
// which its own goroutine encodes into its own spool file.
type fileJob struct {
	index  int           // file number in the partition (part-<index>)
	groups chan rowGroup // closed by the cut stage
	// complete is set by the cut stage before it closes groups when the
	// file holds all its rows; a job closed without it was stopped.
	complete bool
	done     chan struct{} // closed by the encoder when it returns
	f        *openFile     // set by the encoder once the file is open
	err      error         // the encoder's error, read after done
}

// cutFiles assigns row groups to files in order and starts an encoder per
// file (on g), handing each new file to the store stage through order.
// An empty partition still gets one (empty) file, so that its schema is
// kept.
func (w *partitionWriter) cutFiles(ctx context.Context, g *errgroup.Group, in <-chan rowGroup, order chan<- *fileJob) error {
	var job *fileJob
	var raw int64
	defer func() {
		if job != nil {
			close(job.groups) // incomplete: its encoder stops
		}
	}()
	for rg := range in {
		if job == nil {
			j, err := w.startJob(ctx, g, order)
			if err != nil {
				rg.rec.Release()
				return err
			}
			job, raw = j, 0
		}
		raw += rg.raw
		if err := send(ctx, job.groups, rg); err != nil {
			rg.rec.Release()
			return err
		}
		if raw >= w.p.ChunkBytes {
			job.finish()
			job = nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err // an earlier stage failed; its error is the one reported
	}
	if job == nil && w.opened == 0 {
		j, err := w.startJob(ctx, g, order)
		if err != nil {
			return err
		}
		job = j
	}
	if job != nil {
		job.finish()
		job = nil
	}
	return nil
}

// finish marks the job's rows complete and ends its input.
func (j *fileJob) finish() {
	j.complete = true
	close(j.groups)
}

// startJob waits for a free encode slot, then starts the next file: it is
// handed to the store stage (order) and encoded by its own goroutine.
func (w *partitionWriter) startJob(ctx context.Context, g *errgroup.Group, order chan<- *fileJob) (*fileJob, error) {
	select {
	case w.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	j := &fileJob{index: w.opened, groups: make(chan rowGroup, w.queue), done: make(chan struct{})}
	if err := send(ctx, order, j); err != nil {
		return nil, err
	}
	w.opened++
	w.jobs = append(w.jobs, j)
	g.Go(func() error { return w.encode(ctx, j) })
	return j, nil
}

// encode writes job j's row groups into its file and closes it. On failure
// the file stays for abortJobs to remove.
func (w *partitionWriter) encode(ctx context.Context, j *fileJob) error {
	defer close(j.done)
	j.err = w.encodeFile(ctx, j)
	return j.err
}

func (w *partitionWriter) encodeFile(ctx context.Context, j *fileJob) error {
	f, err := w.openNext(ctx, j.index)
	if err != nil {
		return err
	}
	j.f = f
	for rg := range j.groups {
		err := w.writeRowGroup(f, rg.rec)
		rg.rec.Release()
		if err == nil {
			err = ctx.Err()
		}
		if err != nil {
			return err
		}
	}
	if !j.complete { // the cut stage stopped: its error (or the one that stopped it) is reported
		<-ctx.Done()
		return ctx.Err()
	}
	if err := f.pw.Close(); err != nil {
		return fmt.Errorf("write %s: %w", f.w.Path(), err)
	}
	if w.fault != nil {
		return w.fault(j.index)
	}
	return nil
}

// writeRowGroup writes rec into f as one row group.
func (w *partitionWriter) writeRowGroup(f *openFile, rec arrow.RecordBatch) error {
	before := f.w.Size()
	if err := f.pw.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", f.w.Path(), err)
	}
	f.rows += rec.NumRows()
	f.lastKey = lastKey(rec.Column(w.pkIndex))
	w.deps.Progress.Bytes(f.w.Size() - before)
	return nil
}

// storeAll stores the files in the order they were cut, each once it is
// encoded, and records it (manifest entry, journal). Taking a file frees
// its encode slot.
func (w *partitionWriter) storeAll(ctx context.Context, order <-chan *fileJob) error {
	for j := range order {
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		<-w.slots
		if j.err != nil {
			return j.err
		}
		err := w.upload(ctx, j.f)
		j.f.abort()
		if err != nil {
			return err
		}
	}
	return nil
}

// abortJobs removes the spool file of every file of a failed pipeline and
// releases the row groups left in their queues. It runs after every stage
// has returned, when every queue is closed.
func (w *partitionWriter) abortJobs() {
	for _, j := range w.jobs {
		for rg := range j.groups {
			rg.rec.Release()
		}
		if j.f != nil {
			j.f.abort()
		}
	}
	w.jobs = nil
}
