package guard

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/internal/testcert"
)

// TestPymilvusOverTLS runs the pymilvus application against a guard that
// serves TLS (a generated certificate) in front of the real Milvus 2.3.5,
// with capture fail-closed: it creates, inserts, searches and drops a
// collection over TLS; the drop is in the capture log as a move to the
// trash, milvault trash restore undoes it, and the application finds every
// row, its index and its alias again over TLS.
func TestPymilvusOverTLS(t *testing.T) {
	py := python(t)
	dir := t.TempDir()
	if err := testcert.Write(dir); err != nil {
		t.Fatal(err)
	}
	conf, err := ListenerTLS(filepath.Join(dir, testcert.ServerCert), filepath.Join(dir, testcert.ServerKey), "")
	if err != nil {
		t.Fatal(err)
	}
	var w *capture.Writer
	rg := startRealGuard(t, Config{TLS: conf, Logger: quiet()}, func(g *Guard) {
		var err error
		if w, err = capture.Open(context.Background(), g.cfg.Repo, capture.Options{GuardID: "pytls", CommitInterval: 20 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		g.Capture(w, CaptureFailClosed)
	})
	defer w.Close(context.Background())
	uri, ca := "https://"+rg.addr, filepath.Join(dir, testcert.CA)
	name := fmt.Sprintf("guardpytls_%d", time.Now().UnixNano())
	runAppAt(t, py, uri, name, "create", ca)
	ctx := context.Background()
	sum, err := capture.Summarize(ctx, rg.repo, capture.Query{Database: "default", Collection: name})
	if err != nil {
		t.Fatal(err)
	}
	var methods []string
	for _, c := range sum.Changes {
		methods = append(methods, c.Method)
	}
	want := []string{"CreateCollection", "CreateIndex", capture.KindTrashCollection.String()}
	if !slices.Equal(methods, want) {
		t.Errorf("captured changes of %s: %v, want %v (pymilvus creates the index with the collection)", name, methods, want)
	}
	trash := &Trash{Repo: rg.repo, Milvus: rg.direct}
	it, err := trash.Find(ctx, "default", name)
	if err != nil {
		t.Fatal(err)
	}
	if err := trash.Restore(ctx, it, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rg.direct.DropCollection(context.Background(), "default", name) })
	runAppAt(t, py, uri, name, "check", ca)
	checkAudit(t, rg.repo, name, OpDrop, OpRestore)
}
