package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
)

const (
	adminToken = "admin-secret-token"
	readToken  = "read-secret-token"
)

// newServer serves a service with a local repository and a Milvus address
// nobody listens on; nothing here needs a real server.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	st, err := local.New(filepath.Join(dir, "repo"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.OpenOrInit(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	cfg, err := service.ParseConfig("serve.yaml", []byte(fmt.Sprintf(`state_dir: %s
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
	srv := httptest.NewServer(api.Handler(svc, api.Options{Gatherer: reg,
		Tokens: api.Tokens{Admin: []string{adminToken}, Read: []string{readToken}}}))
	t.Cleanup(func() { srv.Close(); svc.Shutdown() })
	return srv
}

func do(t *testing.T, srv *httptest.Server, method, path, token, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

func TestAuthentication(t *testing.T) {
	srv := newServer(t)
	for _, tc := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/api/v1/jobs", "", "", 401},
		{"GET", "/api/v1/jobs", "wrong", "", 401},
		{"GET", "/metrics", "", "", 401},
		{"GET", "/api/v1/jobs", readToken, "", 200},
		{"GET", "/metrics", readToken, "", 200},
		{"POST", "/api/v1/jobs", readToken, `{"kind":"backup","policy":"hourly"}`, 403},
		{"POST", "/api/v1/policies/hourly/run", readToken, "", 403},
		{"POST", "/api/v1/jobs/x/cancel", readToken, "", 403},
		{"POST", "/api/v1/jobs", "", `{"kind":"backup","policy":"hourly"}`, 401},
		{"POST", "/api/v1/jobs", adminToken, `{"kind":"backup"}`, 400},
		{"POST", "/api/v1/jobs", adminToken, `{"kind":"drill"}`, 400},
		{"POST", "/api/v1/jobs", adminToken, `{"kind":"fly"}`, 400},
		{"POST", "/api/v1/jobs", adminToken, `{"kind":"restore","repository":"primary"}`, 400},
		{"POST", "/api/v1/jobs", adminToken, `{"kind":"backup","policy":"nope"}`, 404},
		{"POST", "/api/v1/jobs/nope/cancel", adminToken, "", 404},
		{"GET", "/healthz", "", "", 200},
	} {
		got, body := do(t, srv, tc.method, tc.path, tc.token, tc.body)
		if got != tc.want {
			t.Errorf("%s %s with token %q = %d %s, want %d", tc.method, tc.path, tc.token, got, body, tc.want)
		}
		if strings.Contains(body, adminToken) || strings.Contains(body, readToken) {
			t.Errorf("%s %s answer shows a token: %s", tc.method, tc.path, body)
		}
		if got >= 400 {
			var e struct {
				Error struct{ Kind, Message string }
			}
			if json.Unmarshal([]byte(body), &e) != nil || e.Error.Kind == "" || e.Error.Message == "" {
				t.Errorf("%s %s error body %s is not {\"error\":{\"kind\",\"message\"}}", tc.method, tc.path, body)
			}
		}
	}
}

// TestFailedJobOverHTTP: a policy run against an unreachable Milvus is a
// job that ends failed, visible in the job list and the policy status.
func TestFailedJobOverHTTP(t *testing.T) {
	srv := newServer(t)
	code, body := do(t, srv, "POST", "/api/v1/policies/hourly/run", adminToken, "")
	if code != 202 {
		t.Fatalf("run = %d %s", code, body)
	}
	var j struct{ ID, State, Error string }
	json.Unmarshal([]byte(body), &j)
	for range 200 {
		_, body = do(t, srv, "GET", "/api/v1/jobs/"+j.ID, readToken, "")
		json.Unmarshal([]byte(body), &j)
		if j.State == "failed" || j.State == "succeeded" {
			break
		}
		waitABit()
	}
	if j.State != "failed" || !strings.Contains(j.Error, "milvus") {
		t.Fatalf("job = %+v, want failed on the Milvus connection", j)
	}
	_, body = do(t, srv, "GET", "/metrics", readToken, "")
	if !strings.Contains(body, `milvault_job_runs_total{kind="backup",policy="hourly",result="failed"} 1`) {
		t.Fatalf("metrics lack the failed run:\n%s", grepLines(body, "milvault_"))
	}
	_, body = do(t, srv, "GET", "/api/v1/policies", readToken, "")
	var ps []service.PolicyStatus
	if err := json.Unmarshal([]byte(body), &ps); err != nil || len(ps) != 1 || ps[0].RPOState != "unknown" || ps[0].LastJob == nil || ps[0].NextRun.IsZero() {
		t.Fatalf("policies = %s", body)
	}
}

// TestOpenAPIPathsAnswer: every path and method in openapi.json reaches a
// handler of ours (a JSON answer or the metrics text), none is the router's
// "404 page not found" or 405.
func TestOpenAPIPathsAnswer(t *testing.T) {
	srv := newServer(t)
	code, body := do(t, srv, "GET", "/api/v1/openapi.json", readToken, "")
	if code != 200 {
		t.Fatalf("openapi.json = %d", code)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi.json is not an OpenAPI 3 document: %v", err)
	}
	fill := strings.NewReplacer("{repo}", "primary", "{ref}", "missing", "{id}", "missing", "{name}", "missing")
	n := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			body := ""
			if method == "post" && path == "/api/v1/jobs" {
				body = `{"kind":"verify","repository":"primary","backup":"missing"}`
			}
			code, answer := do(t, srv, strings.ToUpper(method), fill.Replace(path), adminToken, body)
			n++
			if code == 405 || answer == "404 page not found\n" || code >= 500 && path != "/readyz" {
				t.Errorf("%s %s = %d %q: not answered by a handler", method, path, code, answer)
			}
		}
	}
	if n < 12 {
		t.Fatalf("only %d operations documented", n)
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestJobEvents follows a job over server-sent events to its final state.
func TestJobEvents(t *testing.T) {
	srv := newServer(t)
	_, body := do(t, srv, "POST", "/api/v1/policies/hourly/run", adminToken, "")
	var j struct{ ID, State string }
	json.Unmarshal([]byte(body), &j)
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/jobs/"+j.ID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	stream, _ := io.ReadAll(resp.Body) // ends when the job is final
	var states []string
	for _, line := range strings.Split(string(stream), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var ev struct{ ID, State string }
			if err := json.Unmarshal([]byte(data), &ev); err != nil || ev.ID != j.ID {
				t.Fatalf("event %q: %v", data, err)
			}
			states = append(states, ev.State)
		}
	}
	if len(states) == 0 || states[len(states)-1] != "failed" {
		t.Fatalf("event states = %v, want a stream ending in failed", states)
	}
	if code, _ := do(t, srv, "GET", "/api/v1/jobs/nope/events", readToken, ""); code != 404 {
		t.Fatalf("events of an unknown job = %d, want 404", code)
	}
}
