package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/internal/testbackup"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
)

// TestJobAuditNamesPrincipal runs a copy job over the API and checks that
// the destination's audit trail names the job's token (never the token
// itself) and the copied backup.
func TestJobAuditNamesPrincipal(t *testing.T) {
	src, m := testbackup.Local(t)
	dstDir := filepath.Join(t.TempDir(), "dst")
	dstStore, err := local.New(dstDir)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := repo.OpenOrInit(context.Background(), dstStore)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := service.ParseConfig("serve.yaml", []byte(fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: "127.0.0.1:1"}
repositories:
  primary: {url: %s}
  offsite: {url: %s}
policies:
  hourly: {repository: primary, collections: [docs], schedule: "@every 1h", rpo: 2h}
`, filepath.Join(t.TempDir(), "state"), src.Location(), dstDir)))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc, err := service.New(cfg, service.Options{Registry: reg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler(svc, api.Options{Gatherer: reg, Tokens: api.Tokens{Admin: []string{"other", adminToken}}}))
	t.Cleanup(func() { srv.Close(); svc.Shutdown() })
	code, body := do(t, srv, "POST", "/api/v1/jobs", adminToken, `{"kind":"copy","repository":"primary","to":"offsite","backup":"`+m.ID+`"}`)
	if code != 202 {
		t.Fatalf("start copy = %d %s", code, body)
	}
	var j struct{ ID, State, Error string }
	json.Unmarshal([]byte(body), &j)
	for range 200 {
		_, body = do(t, srv, "GET", "/api/v1/jobs/"+j.ID, adminToken, "")
		json.Unmarshal([]byte(body), &j)
		if j.State == "failed" || j.State == "succeeded" {
			break
		}
		waitABit()
	}
	if j.State != "succeeded" {
		t.Fatalf("copy job = %+v", j)
	}
	entries, err := audit.List(context.Background(), dst, time.Time{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit entries = %+v, %v; want the copy", entries, err)
	}
	e := entries[0]
	if e.Operation != audit.OpCopy || e.Principal != "admin token 2" || e.Result != audit.ResultOK || len(e.BackupIDs) != 1 || e.BackupIDs[0] != m.ID {
		t.Fatalf("audit entry = %+v; want copy of %s by admin token 2, ok", e, m.ID)
	}
}
