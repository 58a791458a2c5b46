package milvus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/milvault/milvault/internal/clock"
)

// ErrImportUnsupported is wrapped by errors of servers that have no bulk
// import (Milvus Lite answers the Import RPCs with gRPC Unimplemented).
var ErrImportUnsupported = errors.New("the server does not support bulk import")

// ImportRefusedError is a server that refused to start an import task: the
// request was rejected before any data was read, so nothing was written.
type ImportRefusedError struct {
	File string
	Err  error
}

func (e *ImportRefusedError) Error() string {
	return fmt.Sprintf("server refused to import %s: %v", e.File, e.Err)
}

func (e *ImportRefusedError) Unwrap() error { return e.Err }

// ImportFailedError is an import task that the server ran and failed.
type ImportFailedError struct {
	Task   int64
	File   string
	State  string
	Reason string
}

func (e *ImportFailedError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "no reason given"
	}
	return fmt.Sprintf("import task %d of %s %s: %s", e.Task, e.File, e.State, reason)
}

// ImportTask is the state of one bulk import task.
type ImportTask struct {
	ID       int64
	State    commonpb.ImportState
	Rows     int64 // rows imported when completed; rows parsed so far before
	Progress int   // percent, as the server reports it (0 when it does not)
	File     string
	Reason   string // failure reason
}

// Completed reports a task whose rows are visible in the collection.
func (t ImportTask) Completed() bool { return t.State == commonpb.ImportState_ImportCompleted }

// Failed reports a task that ended without importing.
func (t ImportTask) Failed() bool {
	return t.State == commonpb.ImportState_ImportFailed || t.State == commonpb.ImportState_ImportFailedAndCleaned
}

// CanImport reports whether the server offers bulk import, by listing at most
// one import task (a read-only call). It returns false, nil for servers that
// do not implement the import RPCs.
func (c *Client) CanImport(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	cctx, cancel := importContext(ctx)
	defer cancel()
	resp, err := c.svc.ListImportTasks(cctx, &milvuspb.ListImportTasksRequest{Limit: 1})
	if isUnimplemented(err) {
		return false, nil
	}
	if err := check(resp, err); err != nil {
		return false, fmt.Errorf("ask %s for bulk import support: %w", c.addr, err)
	}
	return true, nil
}

// Import starts a bulk import of one file, as the server sees its path,
// into a partition ("" for the default partition, or the server's routing
// for partition-key collections) and returns the task id. A rejected
// request is an *ImportRefusedError (wrapping ErrImportUnsupported for
// servers without import).
func (c *Client) Import(ctx context.Context, db, coll, partition, file string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	cctx, cancel := importContext(ctx)
	defer cancel()
	resp, err := c.svc.Import(cctx, &milvuspb.ImportRequest{
		DbName: db, CollectionName: coll, PartitionName: partition, Files: []string{file},
	})
	if isUnimplemented(err) {
		err = fmt.Errorf("%w: %v", ErrImportUnsupported, err)
	}
	if err := check(resp, err); err != nil {
		return 0, &ImportRefusedError{File: file, Err: err}
	}
	tasks := resp.GetTasks()
	if len(tasks) != 1 {
		return 0, fmt.Errorf("import %s into %s.%s: server started %d tasks for one file, want 1", file, db, coll, len(tasks))
	}
	return tasks[0], nil
}

// ImportState returns the state of an import task.
func (c *Client) ImportState(ctx context.Context, id int64) (ImportTask, error) {
	if err := ctx.Err(); err != nil {
		return ImportTask{ID: id}, err
	}
	cctx, cancel := importContext(ctx)
	defer cancel()
	resp, err := c.svc.GetImportState(cctx, &milvuspb.GetImportStateRequest{Task: id})
	if err := check(resp, err); err != nil {
		return ImportTask{ID: id}, fmt.Errorf("state of import task %d: %w", id, err)
	}
	t := ImportTask{ID: id, State: resp.GetState(), Rows: resp.GetRowCount()}
	for _, kv := range resp.GetInfos() {
		switch kv.GetKey() {
		case "files":
			t.File = kv.GetValue()
		case "failed_reason":
			t.Reason = kv.GetValue()
		case "progress_percent":
			t.Progress, _ = strconv.Atoi(kv.GetValue())
		}
	}
	return t, nil
}

// WaitImport polls an import task until it completes or fails, calling
// progress (which may be nil) with every state seen. A failed task is an
// *ImportFailedError.
func (c *Client) WaitImport(ctx context.Context, id int64, progress func(ImportTask)) (ImportTask, error) {
	delay := 100 * time.Millisecond
	for {
		t, err := c.ImportState(ctx, id)
		if err != nil {
			return t, err
		}
		if progress != nil {
			progress(t)
		}
		switch {
		case t.Completed():
			return t, nil
		case t.Failed():
			return t, &ImportFailedError{Task: id, File: t.File, State: "failed", Reason: t.Reason}
		}
		if err := clock.Sleep(ctx, delay); err != nil {
			return t, fmt.Errorf("wait for import task %d: %w", id, err)
		}
		delay = min(2*delay, 500*time.Millisecond)
	}
}

// importCallTimeout bounds one import RPC made under importContext.
const importCallTimeout = 2 * time.Minute

// importContext detaches an import RPC from the caller's cancellation.
// Milvus 2.3.5's proxy dereferences a nil response when its own call to
// root coord fails, and a cancelled client call makes that call fail: a
// GetImportState cancelled mid-flight (a sibling task failing, Ctrl-C)
// crashed the whole standalone server in our tests (SIGSEGV in
// proxy.(*Proxy).GetImportState, impl.go:4047). So the import RPCs are
// never cancelled by milvault: each runs to its answer (or, against a hung
// server, to a generous timeout), and callers check their context between
// calls.
func importContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), importCallTimeout)
}

func isUnimplemented(err error) bool {
	return err != nil && status.Code(err) == codes.Unimplemented
}
