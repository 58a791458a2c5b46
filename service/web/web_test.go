package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
	"github.com/milvault/milvault/service/web"
)

const (
	adminToken = "admin-secret-token"
	readToken  = "read-secret-token"
)

type fixture struct {
	srv  *httptest.Server
	svc  *service.Service
	repo *repo.Repository
}

// newFixture serves the page and the API of a service with a local
// repository and a Milvus address nobody listens on; nothing here needs a
// real server (browser_test.go runs the page against real ones).
func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := local.New(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.OpenOrInit(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := service.ParseConfig("serve.yaml", []byte(fmt.Sprintf(`state_dir: %s
lock_wait: 5m
milvus:
  main: {address: "127.0.0.1:1"}
repositories:
  primary: {url: %s}
policies:
  hourly: {repository: primary, collections: [docs], schedule: "@every 1h", rpo: 2h}
`, filepath.Join(dir, "state"), filepath.Join(dir, "repo"))))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	svc, err := service.New(cfg, service.Options{Registry: reg, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	tokens := api.Tokens{Admin: []string{adminToken}, Read: []string{readToken}}
	h, err := web.Handler(svc, web.Options{Tokens: tokens, API: api.Handler(svc, api.Options{Gatherer: reg, Tokens: tokens})})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(func() { srv.Close(); svc.Shutdown() })
	return &fixture{srv: srv, svc: svc, repo: r}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so that tests see them.
func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func login(t *testing.T, f *fixture, token string) *http.Client {
	t.Helper()
	c := browser(t)
	resp, _ := post(t, c, f.srv.URL+"/login", url.Values{"token": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login = %d, want 303", resp.StatusCode)
	}
	return c
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return m[1]
}

func TestUnauthenticatedGetsLoginNotData(t *testing.T) {
	f := newFixture(t)
	for _, path := range []string{"/", "/fragments/jobs", "/jobs/x/cancel"} {
		code, body := get(t, browser(t), f.srv.URL+path)
		if code != http.StatusUnauthorized || !strings.Contains(body, `id="login"`) || strings.Contains(body, "hourly") {
			t.Errorf("GET %s without a cookie = %d, want 401 and the login form without data:\n%s", path, code, body)
		}
	}
	resp, body := post(t, browser(t), f.srv.URL+"/login", url.Values{"token": {"wrong"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not an admin or read-only token") || len(resp.Cookies()) != 0 {
		t.Errorf("login with a wrong token = %d, cookies %v:\n%s", resp.StatusCode, resp.Cookies(), body)
	}
}

func TestLoginSetsHttpOnlyCookieAndShowsPolicies(t *testing.T) {
	f := newFixture(t)
	c := browser(t)
	resp, _ := post(t, c, f.srv.URL+"/login", url.Values{"token": {readToken}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("login = %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	ck := resp.Cookies()
	if len(ck) != 1 || !ck[0].HttpOnly || ck[0].SameSite != http.SameSiteStrictMode || ck[0].Path != "/" {
		t.Fatalf("cookies = %+v, want one HttpOnly SameSite=Strict cookie", ck)
	}
	code, body := get(t, c, f.srv.URL+"/")
	if code != 200 || !strings.Contains(body, `data-policy="hourly"`) || !strings.Contains(body, `data-health="amber"`) {
		t.Fatalf("GET / after login = %d:\n%s", code, body)
	}
	if strings.Contains(body, readToken) || strings.Contains(body, "Cancel…") {
		t.Fatalf("the page holds the token or a cancel link for a read-only viewer:\n%s", body)
	}
	if code, _ := get(t, c, f.srv.URL+"/jobs/x/cancel"); code != http.StatusForbidden {
		t.Fatalf("cancel confirmation for a read-only viewer = %d, want 403", code)
	}
	// The API stays mounted and keeps its bearer tokens.
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/policies", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	r2, err := http.DefaultClient.Do(req)
	if err != nil || r2.StatusCode != 200 {
		t.Fatalf("API behind the page = %v %v", r2, err)
	}
	r2.Body.Close()
	// Logging out needs the form's CSRF token and clears the cookie.
	if resp, _ := post(t, c, f.srv.URL+"/logout", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("logout without csrf = %d, want 403", resp.StatusCode)
	}
	if resp, _ := post(t, c, f.srv.URL+"/logout", url.Values{"csrf": {csrfOf(t, body)}}, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d, want 303", resp.StatusCode)
	}
	if code, _ := get(t, c, f.srv.URL+"/"); code != http.StatusUnauthorized {
		t.Fatalf("GET / after logout = %d, want 401", code)
	}
}

// TestAdminCancelsRunningJob holds the repository's lock so that a policy
// run waits in the running state, then cancels it from the page: the
// confirmation page, then the form with its CSRF token (refused without
// it, or from another origin).
func TestAdminCancelsRunningJob(t *testing.T) {
	f := newFixture(t)
	l, _, err := f.repo.Lock(context.Background(), repo.LockOptions{Exclusive: true, Operation: "test holds the repository"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	j, err := f.svc.RunPolicy("hourly")
	if err != nil {
		t.Fatal(err)
	}
	c := login(t, f, adminToken)
	_, page := get(t, c, f.srv.URL+"/")
	if !strings.Contains(page, `data-job="`+j.ID+`"`) || !strings.Contains(page, `href="/jobs/`+j.ID+`/cancel"`) {
		t.Fatalf("the page lacks the running job %s or its cancel link:\n%s", j.ID, page)
	}
	code, confirm := get(t, c, f.srv.URL+"/jobs/"+j.ID+"/cancel")
	if code != 200 || !strings.Contains(confirm, "Yes, cancel the job") {
		t.Fatalf("confirmation = %d:\n%s", code, confirm)
	}
	u := f.srv.URL + "/jobs/" + j.ID + "/cancel"
	if resp, _ := post(t, c, u, url.Values{"csrf": {"0000"}}, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cancel with a wrong csrf = %d, want 403", resp.StatusCode)
	}
	form := url.Values{"csrf": {csrfOf(t, confirm)}}
	if resp, _ := post(t, c, u, form, map[string]string{"Origin": "https://evil.example"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cancel from another origin = %d, want 403", resp.StatusCode)
	}
	if got, _ := f.svc.Jobs().Get(j.ID); got.State.Final() {
		t.Fatalf("job %s is %s before the confirmed cancel", j.ID, got.State)
	}
	if resp, _ := post(t, c, u, form, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("confirmed cancel = %d, want 303", resp.StatusCode)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, _ := f.svc.Jobs().Get(j.ID)
		if got.State == jobs.StateCancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job after the cancel = %s (%s), want cancelled", got.State, got.Error)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestOpenPageWithoutTokens: with no tokens configured (serve allows that
// on loopback only) the page is open, as the API is, with no login.
func TestOpenPageWithoutTokens(t *testing.T) {
	dir := t.TempDir()
	cfg, err := service.ParseConfig("serve.yaml", []byte(fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: "127.0.0.1:1"}
repositories:
  primary: {url: %s}
policies:
  hourly: {repository: primary, collections: [docs], schedule: "@every 1h"}
`, dir, filepath.Join(dir, "missing-repo"))))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(cfg, service.Options{Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Shutdown()
	h, err := web.Handler(svc, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	code, body := get(t, browser(t), srv.URL+"/")
	if code != 200 || !strings.Contains(body, `data-policy="hourly" data-health="grey"`) || strings.Contains(body, "Log out") {
		t.Fatalf("open page = %d:\n%s", code, body)
	}
	// The repository does not exist: its section says so instead of failing the page.
	if !strings.Contains(body, `data-repository="primary"`) || !strings.Contains(body, `class="error"`) {
		t.Fatalf("the missing repository is not reported on the page:\n%s", body)
	}
}
