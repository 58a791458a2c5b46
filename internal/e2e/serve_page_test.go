package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// TestServeStatusPage checks that the `milvault serve` binary serves the
// status page next to the API: the login form (401, no data) without a
// cookie, a login that sets an HttpOnly cookie, then the page with the
// policy. The page's content is tested in depth in service/web.
func TestServeStatusPage(t *testing.T) {
	tg := targets(t)[0]
	e := newEnv(t, tg.addr)
	bin := binary(t, e.root)
	dir := t.TempDir()
	repoDir := filepath.Join(dir, "repo")
	st, err := local.New(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.OpenOrInit(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "serve.yaml")
	text := fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: %q}
repositories:
  local: {url: %q}
policies:
  paged: {repository: local, collections: [page_docs], schedule: "@every 1h", run_missed: false, rpo: 2h}
`, filepath.Join(dir, "state"), tg.addr, repoDir)
	if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MILVAULT_ADMIN_TOKEN", "e2e-admin")
	p := startServe(t, bin, cfg)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, body := pageGet(t, client, p.base+"/", nil)
	if resp.StatusCode != 401 || !strings.Contains(body, `id="login"`) || strings.Contains(body, "paged") {
		t.Fatalf("GET / without a cookie = %d, want 401 and the login form only:\n%s", resp.StatusCode, body)
	}
	resp, err = client.PostForm(p.base+"/login", url.Values{"token": {"e2e-admin"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if resp.StatusCode != 303 || len(cookies) != 1 || !cookies[0].HttpOnly {
		t.Fatalf("login = %d with cookies %v, want 303 and one HttpOnly cookie", resp.StatusCode, cookies)
	}
	resp, body = pageGet(t, client, p.base+"/", cookies[0])
	if resp.StatusCode != 200 || !strings.Contains(body, `data-policy="paged"`) {
		t.Fatalf("GET / after login = %d:\n%s", resp.StatusCode, body)
	}
	var ps []struct{ Name string }
	if code := p.call(t, "GET", "/api/v1/policies", &ps); code != 200 || len(ps) != 1 || ps[0].Name != "paged" {
		t.Fatalf("the API next to the page: %d %v", code, ps)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-p.done; err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, p.logs)
	}
}

func pageGet(t *testing.T, c *http.Client, u string, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
