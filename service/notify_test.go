package service

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// receiver records webhook bodies; it answers 500 to the first fail
// requests.
type receiver struct {
	mu   sync.Mutex
	fail int
	got  []Notification
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail > 0 {
		rc.fail--
		w.WriteHeader(500)
		return
	}
	var n Notification
	json.NewDecoder(r.Body).Decode(&n)
	rc.got = append(rc.got, n)
}

func (rc *receiver) notes() []Notification {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Notification(nil), rc.got...)
}

func TestWebhookOnFailureOnceWithRetries(t *testing.T) {
	rc := &receiver{fail: 1}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	t.Setenv("TEST_HOOK_URL", hook.URL+"/secret-path")
	dir := t.TempDir()
	cfg, err := ParseConfig("serve.yaml", []byte(fmt.Sprintf(`state_dir: %s
milvus:
  main: {address: "127.0.0.1:1"}
repositories:
  r: {url: %s}
policies:
  p:
    repository: r
    schedule: "@every 1h"
    webhook: {url_env: TEST_HOOK_URL}
`, dir, filepath.Join(dir, "repo"))))
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(cfg, Options{Registry: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	for range 2 { // two failures: one notification
		j, err := s.RunPolicy("p")
		if err != nil {
			t.Fatal(err)
		}
		for !j.State.Final() {
			time.Sleep(10 * time.Millisecond)
			j, _ = s.Jobs().Get(j.ID)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.notes()) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // a second notification would be here by now
	got := rc.notes()
	if len(got) != 1 || got[0].Status != "failing" || got[0].Policy != "p" || !strings.Contains(got[0].Text, "policy p failed") {
		t.Fatalf("notifications = %+v, want one failing notification (after a retry)", got)
	}
}

func TestWebhookErrorHidesURL(t *testing.T) {
	err := postWebhook(context.Background(), "http://127.0.0.1:1/hooks/T000/SECRET", Notification{}, time.Millisecond)
	if err == nil || strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("error = %v, want a failure that does not show the URL", err)
	}
}

func TestWebhookConfigNeedsSecretSource(t *testing.T) {
	_, err := ParseConfig("serve.yaml", []byte(`repositories: {r: {url: /tmp/r}}
milvus: {m: {address: "x:1"}}
policies:
  p:
    repository: r
    schedule: "@daily"
    webhook: {url: "https://hooks.example/secret"}
`))
	if err == nil || !strings.Contains(err.Error(), "serve.yaml:7: policies.p.webhook.url: unknown key") || !strings.Contains(err.Error(), "give url_env or url_file") {
		t.Fatalf("inline webhook URL: error %v", err)
	}
}
