package web_test

// The browser test drives a real headless Chromium (Debian's chromium
// package) with github.com/chromedp/chromedp, a maintained Go client of the
// DevTools protocol, against the page of a live service with real backups
// of the real Milvus (and MinIO when MILVAULT_TEST_S3_ENDPOINT is set).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/milvault/milvault/internal/testenv"
	"github.com/milvault/milvault/jobs"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
	"github.com/milvault/milvault/service"
	"github.com/milvault/milvault/service/api"
	"github.com/milvault/milvault/service/web"
)

// chromium finds the browser: $MILVAULT_CHROMIUM, else chromium on PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MILVAULT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (and MILVAULT_CHROMIUM unset): install Debian's chromium package (apt-get install chromium; .ci/run does) to run the browser test")
	return ""
}

// screenshotDir is where the test keeps its screenshots (t.TempDir is
// wiped): .milvus-test/screenshots at the top of the tree, git-ignored.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", ".milvus-test", "screenshots"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browserRepo returns the URL of a new empty repository: on the test S3
// server when there is one, else in a local folder.
func browserRepo(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	endpoint := os.Getenv("MILVAULT_TEST_S3_ENDPOINT")
	u := filepath.Join(t.TempDir(), "repo")
	if endpoint != "" {
		t.Setenv("AWS_ACCESS_KEY_ID", os.Getenv("MILVAULT_TEST_S3_ACCESS_KEY"))
		t.Setenv("AWS_SECRET_ACCESS_KEY", os.Getenv("MILVAULT_TEST_S3_SECRET_KEY"))
		t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
		b := make([]byte, 6)
		rand.Read(b)
		q := url.Values{"endpoint": {endpoint}, "region": {"us-east-1"}, "use_path_style": {"true"}}
		u = "s3://" + os.Getenv("MILVAULT_TEST_S3_BUCKET") + "/web-" + hex.EncodeToString(b) + "?" + q.Encode()
	}
	bs, err := blob.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if endpoint != "" {
			bs.DeleteAll(context.Background(), "")
		}
		bs.Close()
	})
	if _, err := repo.OpenOrInit(ctx, bs); err != nil {
		t.Fatal(err)
	}
	return u
}

// milvusTarget prefers the Milvus 2.3.5 server of the test targets.
func milvusTarget(t *testing.T) testenv.Target {
	tgs := testenv.Targets(t)
	for _, tg := range tgs {
		if strings.Contains(tg.Name, "23") {
			return tg
		}
	}
	return tgs[0]
}

// waitJob waits for job id to end and fails the test unless it succeeded.
func waitJob(t *testing.T, svc *service.Service, id string) jobs.Job {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		j, err := svc.Jobs().Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State.Final() {
			if j.State != jobs.StateSucceeded {
				t.Fatalf("job %s (%s) = %s: %s", id, j.Kind, j.State, j.Error)
			}
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 3 minutes", id, j.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestStatusPageInChromium backs up a real collection three times and
// drills it once through a live service, then loads the status page in
// headless Chromium: an unauthenticated visit gets the login form and no
// data; after logging in with the admin token the page shows both
// policies with their health, the job rows, the backups, and SVG charts
// with one point per run; an admin cancels a running job through the
// confirmation page. Screenshots (desktop, phone, login) go to
// .milvus-test/screenshots.
func TestStatusPageInChromium(t *testing.T) {
	exe := chromium(t)
	tg := milvusTarget(t)
	repoURL := browserRepo(t)
	ctx := context.Background()
	c, err := milvus.Connect(ctx, milvus.Config{Address: tg.Address})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	coll := testenv.Collection(t, c, "web", 300, 8)
	svc, base := liveService(t, tg.Address, repoURL, coll)

	for range 3 {
		j, err := svc.RunPolicy("nightly")
		if err != nil {
			t.Fatal(err)
		}
		waitJob(t, svc, j.ID)
	}
	dj, err := svc.RunDrill("nightly")
	if err != nil {
		t.Fatal(err)
	}
	waitJob(t, svc, dj.ID)
	running := runningJob(t, svc, repoURL)
	// A second policy's run waits for the same lock: the live-update check
	// watches it end without reloading the page.
	other, err := svc.RunPolicy("archive")
	if err != nil {
		t.Fatal(err)
	}

	bctx := newBrowser(t, exe)
	shots := screenshotDir(t)
	checkLoginWall(t, bctx, base, shots)
	logIn(t, bctx, base)
	checkStatusPage(t, bctx, coll, running.ID, other.ID, shots)
	checkHistoryAPI(t, base)
	checkLiveUpdate(t, bctx, svc, other.ID)
	cancelFromPage(t, bctx, svc, running.ID)
}

// liveService starts the service and its page (the handler `milvault
// serve` builds) on a loopback port.
func liveService(t *testing.T, milvusAddr, repoURL, coll string) (*service.Service, string) {
	t.Helper()
	cfg, err := service.ParseConfig("serve.yaml", []byte(fmt.Sprintf(`state_dir: %s
lock_wait: 5m
milvus:
  main: {address: %q}
repositories:
  primary: {url: %q}
policies:
  nightly:
    repository: primary
    collections: [%s]
    schedule: "@every 1h"
    run_missed: false
    verify: checksum
    rpo: 1h
    drill: {schedule: "@every 24h", max_rto: 10m}
  archive:
    repository: primary
    collections: [%s]
    schedule: "@every 24h"
    run_missed: false
    rpo: 48h
`, t.TempDir(), milvusAddr, repoURL, coll, coll)))
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close(); svc.Shutdown() })
	return svc, "http://" + ln.Addr().String()
}

// runningJob starts a backup of the policy while the test holds the
// repository's exclusive lock, so that it stays running (waiting for the
// lock) until it is cancelled or the test ends.
func runningJob(t *testing.T, svc *service.Service, repoURL string) jobs.Job {
	t.Helper()
	ctx := context.Background()
	bs, err := blob.Open(ctx, repoURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	r, err := repo.Open(ctx, bs)
	if err != nil {
		t.Fatal(err)
	}
	l, _, err := r.Lock(ctx, repo.LockOptions{Exclusive: true, Operation: "browser test holds the repository"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Unlock() })
	j, err := svc.RunPolicy("nightly")
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func newBrowser(t *testing.T, exe string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.WindowSize(1280, 900),
		chromedp.Flag("user-data-dir", t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	bctx, cancelTimeout := context.WithTimeout(bctx, 4*time.Minute) // generous: CI runs other packages alongside
	t.Cleanup(func() { cancelTimeout(); cancelBrowser(); cancelAlloc() })
	return bctx
}

// do runs browser steps and fails the test on an error.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("chromium: %s: %v", what, err)
	}
}

// read runs a browser action that returns a value.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("chromium: %s: %v", what, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := read(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func checkLoginWall(t *testing.T, ctx context.Context, base, shots string) {
	t.Helper()
	do(t, ctx, "unauthenticated visit", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.ID("login")))
	policies := read(t, ctx, "count policies", chromedp.Evaluate[int](`document.querySelectorAll("[data-policy]").length`))
	body := read(t, ctx, "page text", chromedp.Evaluate[string](`document.body.innerText`))
	if policies != 0 || strings.Contains(body, "nightly") {
		t.Fatalf("an unauthenticated visit shows %d policies: %q", policies, body)
	}
	screenshot(t, ctx, shots, "status-login.png")
}

func logIn(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	do(t, ctx, "log in", chromedp.SendKeys(chromedp.ID("token"), adminToken),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS(`[data-policy="nightly"]`)))
	if loc := read(t, ctx, "location", chromedp.Location()); strings.Contains(loc, adminToken) {
		t.Fatalf("the token is in the URL %s", loc)
	}
}

// pageFacts is what the test reads from the rendered DOM.
type pageFacts struct {
	Health  map[string]string `json:"health"`
	Jobs    map[string]string `json:"jobs"`
	Points  map[string]int    `json:"points"`
	Backups int               `json:"backups"`
	Proven  []string          `json:"proven"`
	Bars    int               `json:"bars"`
}

const factsJS = `(() => {
  const f = {health: {}, jobs: {}, points: {}, backups: 0, proven: [], bars: 0};
  for (const p of document.querySelectorAll("[data-policy]")) f.health[p.dataset.policy] = p.dataset.health;
  for (const j of document.querySelectorAll("tr[data-job]")) f.jobs[j.dataset.job] = j.dataset.state;
  for (const c of document.querySelectorAll("figure.chart")) f.points[c.id] = c.querySelectorAll("svg circle").length;
  f.backups = document.querySelectorAll("tr.backup").length;
  f.proven = [...document.querySelectorAll("tr.backup td.proven")].map(td => td.textContent.trim());
  f.bars = document.querySelectorAll("tr[data-live] progress").length;
  return f;
})()`

func checkStatusPage(t *testing.T, ctx context.Context, coll, runningID, otherID, shots string) {
	t.Helper()
	f := read(t, ctx, "read the page", chromedp.Evaluate[pageFacts](factsJS))
	if f.Health["nightly"] != "green" || f.Health["archive"] != "amber" {
		t.Errorf("health = %v, want nightly green (3 fresh backups), archive amber (never ran)", f.Health)
	}
	want := map[string]int{"chart-nightly-size": 3, "chart-nightly-duration": 3, "chart-nightly-rto": 1,
		"chart-archive-size": 0, "chart-archive-duration": 0, "chart-archive-rto": 0}
	for id, n := range want {
		if f.Points[id] != n {
			t.Errorf("%s has %d points, want %d (all: %v)", id, f.Points[id], n, f.Points)
		}
	}
	succeeded := 0
	for _, s := range f.Jobs {
		if s == "succeeded" {
			succeeded++
		}
	}
	// The other job is queued behind the first with the default
	// max_concurrent_jobs of 1.
	if succeeded != 4 || f.Jobs[runningID] != "running" || f.Jobs[otherID] != "queued" || f.Bars != 2 {
		t.Errorf("job rows = %v (%d progress bars), want 4 succeeded, %s running and %s queued, with progress bars", f.Jobs, f.Bars, runningID, otherID)
	}
	if f.Backups != 3 || !strings.HasPrefix(f.Proven[0], "drill") || !strings.HasPrefix(f.Proven[1], "verify-checksum") {
		t.Errorf("backup rows = %d, last proven %q: want 3, the newest drilled, the others verified", f.Backups, f.Proven)
	}
	heading := read(t, ctx, "backups heading", chromedp.Text(chromedp.CSS("#backups h4")))
	if !strings.Contains(heading, coll) {
		t.Errorf("backups are grouped under %q, want the collection %s", heading, coll)
	}
	screenshot(t, ctx, shots, "status-desktop.png")
	do(t, ctx, "phone viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	if read(t, ctx, "phone layout", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth + 1`)) {
		t.Errorf("on a 390 px wide phone the page scrolls sideways")
	}
	screenshot(t, ctx, shots, "status-phone.png")
	do(t, ctx, "desktop viewport", chromedp.EmulateViewport(1280, 900))
}

func cancelFromPage(t *testing.T, ctx context.Context, svc *service.Service, id string) {
	t.Helper()
	do(t, ctx, "cancel link", chromedp.Click(chromedp.CSS(`a[href="/jobs/`+id+`/cancel"]`)),
		chromedp.WaitVisible(chromedp.ID("confirm-cancel")))
	title := read(t, ctx, "confirmation title", chromedp.Text(chromedp.CSS("#confirm-cancel h2")))
	if j, _ := svc.Jobs().Get(id); j.State != jobs.StateRunning || !strings.Contains(title, id) {
		t.Fatalf("confirmation page %q: job %s is %s before confirming", title, id, j.State)
	}
	do(t, ctx, "confirm", chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.CSS(".notice, .error")))
	if msg := read(t, ctx, "answer", chromedp.Evaluate[string](`document.body.innerText`)); !strings.Contains(msg, "cancelling job "+id) {
		t.Fatalf("the confirmed cancel answered %q", msg)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, _ := svc.Jobs().Get(id)
		if j.State == jobs.StateCancelled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s is %s after the confirmed cancel, want cancelled", id, j.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
	do(t, ctx, "reload", chromedp.Reload())
	state := read(t, ctx, "job row", chromedp.AttributeValue(chromedp.CSS(`tr[data-job="`+id+`"]`), "data-state"))
	if state.Value != "cancelled" {
		t.Errorf("after the cancel the job row says %q, want cancelled", state.Value)
	}
}

// checkHistoryAPI: the API's history of the policy, which the charts draw,
// holds the same runs as the page's points.
func checkHistoryAPI(t *testing.T, base string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/v1/policies/nightly/history", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h service.PolicyHistory
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET history = %d, %v", resp.StatusCode, err)
	}
	if len(h.Backups) != 3 || len(h.Drills) != 1 || h.Backups[0].Rows != 300 || h.Drills[0].Seconds <= 0 {
		t.Fatalf("history = %+v, want 3 backups of 300 rows and 1 drill with an RTO", h)
	}
}

// checkLiveUpdate cancels a job behind the page's back and waits for the
// page's script to show it cancelled, without a reload (the other job still
// runs, so the script only swaps the jobs table).
func checkLiveUpdate(t *testing.T, ctx context.Context, svc *service.Service, id string) {
	t.Helper()
	do(t, ctx, "mark the page", chromedp.Evaluate[chromedp.Void](`window.milvaultMark = 1`))
	if err := svc.Jobs().Cancel(id); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		state := read(t, ctx, "job row", chromedp.Evaluate[string](`(document.querySelector('tr[data-job="`+id+`"]') || {dataset: {}}).dataset.state || ""`))
		if state == "cancelled" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("15 s after the cancel the page still shows job %s as %q", id, state)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if read(t, ctx, "page mark", chromedp.Evaluate[int](`window.milvaultMark || 0`)) != 1 {
		t.Errorf("the page was reloaded; want only the jobs table swapped while a job still runs")
	}
}
