package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvault/milvault/internal/fixture"
)

// TestServeSecretsNeverLeak runs `milvault serve` with known secrets (the
// Milvus token from token_env, the admin API token, a webhook URL from
// url_env), runs a succeeding and a failing policy (whose webhook fails once
// and is retried), and searches the service's logs, its API answers, its
// metrics, its state folder, the repository and its process arguments for
// them.
func TestServeSecretsNeverLeak(t *testing.T) {
	tg := targets(t)[0]
	e := newEnv(t, tg.addr)
	bin := binary(t, e.root)
	d := e.createFixture(t, fixture.Options{Name: uniqueName("leaksvc"), Rows: 100, Dim: 8, Partitions: []string{}})
	w := &leakWatch{}
	var hooks atomic.Int32
	hookSecret := newSecret("webhook")
	hook := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if hooks.Add(1) == 1 {
			http.Error(rw, "try again", http.StatusInternalServerError)
		}
	}))
	defer hook.Close()
	admin, token := newSecret("admin-token"), "leak:"+newSecret("service-token")
	w.add("webhook URL", hookSecret)
	w.add("admin API token", admin)
	w.add("service Milvus token", token)
	t.Setenv("LEAK_WEBHOOK", hook.URL+"/hooks/"+hookSecret)
	t.Setenv("LEAK_MILVUS_TOKEN", token)
	t.Setenv("MILVAULT_ADMIN_TOKEN", admin)
	dir := t.TempDir()
	repo := newRepo(t)
	cfg := filepath.Join(dir, "serve.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: %q, token_env: LEAK_MILVUS_TOKEN}
repositories:
  local: {url: %q}
policies:
  good: {repository: local, collections: [%s], schedule: "@every 1h", run_missed: false}
  bad:
    repository: local
    collections: [no_such_collection]
    schedule: "@every 1h"
    run_missed: false
    webhook: {url_env: LEAK_WEBHOOK}
`, filepath.Join(dir, "state"), tg.addr, repo, d.Collection)), 0o600)
	p := startServe(t, bin, cfg)
	if args, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.cmd.Process.Pid)); err == nil {
		w.check(t, "the service's process arguments", args)
	}
	for _, policy := range []string{"good", "bad"} {
		body := w.api(t, p, admin, "POST", "/api/v1/jobs", `{"kind":"backup","policy":"`+policy+`"}`)
		id := jsonField(body, "id")
		for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			if s := w.api(t, p, admin, "GET", "/api/v1/jobs/"+id, ""); !strings.Contains(s, `"queued"`) && !strings.Contains(s, `"running"`) {
				break
			}
		}
	}
	for deadline := time.Now().Add(30 * time.Second); hooks.Load() < 2 && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	if hooks.Load() < 2 {
		t.Errorf("the failing policy's webhook was called %d times, want a failed call and its retry", hooks.Load())
	}
	w.api(t, p, admin, "GET", "/api/v1/jobs", "")
	w.api(t, p, admin, "GET", "/metrics", "")
	p.cmd.Process.Kill()
	<-p.done
	w.outputs = append(w.outputs, "serve logs\n"+p.logs.String())
	w.checkOutputs(t)
	w.checkDir(t, filepath.Join(dir, "state"))
	w.checkDir(t, repo)
}

// api makes an authenticated call to the service and keeps the answer.
func (w *leakWatch) api(t *testing.T, p *serveProc, token, method, path, body string) string {
	t.Helper()
	req, _ := http.NewRequest(method, p.base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	w.outputs = append(w.outputs, method+" "+path+"\n"+string(data))
	return string(data)
}

// jsonField finds "key":"value" in a JSON text.
func jsonField(s, key string) string {
	_, rest, ok := strings.Cut(s, `"`+key+`":"`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}
