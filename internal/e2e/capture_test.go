package e2e

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-proto/go-api/v2/schemapb"

	"github.com/milvault/milvault/capture"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/local"
)

// killGuardAddr returns the guard process's listener in
// TestGuardCaptureKill: MILVAULT_TEST_GUARD_ADDR, else one of the test
// ports 23950-23999 (sessions that share a machine give each its own).
func killGuardAddr() string {
	if a := os.Getenv("MILVAULT_TEST_GUARD_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:23955"
}

func milvus23Target(t *testing.T) string {
	t.Helper()
	for _, tg := range targets(t) {
		if tg.name == "milvus23" {
			return tg.addr
		}
	}
	t.Skip("MILVAULT_TEST_TARGETS has no milvus23 target (capture needs Milvus 2.3's AllocTimestamp and Upsert)")
	return ""
}

// startGuardProcess runs `milvault guard --capture fail-closed` on listen
// as its own process and waits until it accepts connections.
func startGuardProcess(t *testing.T, bin, addr, repo, listen string) *exec.Cmd {
	t.Helper()
	if ln, err := net.Listen("tcp", listen); err != nil {
		t.Skipf("the test's guard port %s is busy: %v", listen, err)
	} else {
		ln.Close()
	}
	cmd := exec.Command(bin, "--milvus", addr, "--repo", repo, "guard", "--listen", listen, "--http-listen", "",
		"--capture", "fail-closed", "--guard-id", "kill-test", "--capture-commit-interval", "200ms")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", listen); err == nil {
			c.Close()
			return cmd
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the guard did not listen on %s", listen)
	return nil
}

func createCaptureCollection(t *testing.T, e *env) string {
	t.Helper()
	ctx := testContext(t)
	name := uniqueName("capture")
	schema := &schemapb.CollectionSchema{Name: name, Fields: []*schemapb.FieldSchema{
		{Name: "id", DataType: schemapb.DataType_Int64, IsPrimaryKey: true},
		{Name: "vec", DataType: schemapb.DataType_FloatVector, TypeParams: []*commonpb.KeyValuePair{{Key: "dim", Value: "2"}}},
	}}
	if err := e.client.CreateCollection(ctx, milvus.CreateCollectionRequest{Database: "default", Schema: schema}); err != nil {
		t.Fatal(err)
	}
	e.dropLater(t, name)
	if err := e.client.CreateIndex(ctx, "default", name, "vec", "vec_flat", map[string]string{"index_type": "FLAT", "metric_type": "L2"}); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestGuardCaptureKill kills a fail-closed guard process with SIGKILL in
// the middle of a stream of inserts: every insert the application saw
// acknowledged must be in the capture log, its stale heartbeat and then
// the restart must show the gap,
// and restore --at-ts to the last acknowledged write must bring back
// exactly the acknowledged rows.
func TestGuardCaptureKill(t *testing.T) {
	addr := milvus23Target(t)
	e := newEnv(t, addr)
	repoDir := newRepo(t)
	bin := binary(t, e.root)
	coll := createCaptureCollection(t, e)
	guardCmd := startGuardProcess(t, bin, addr, repoDir, killGuardAddr())
	e.mustRun(t, repoDir, "backup", "-c", coll)
	time.Sleep(300 * time.Millisecond) // Milvus's timestamps lag the wall clock a little
	app, err := milvus.Connect(testContext(t), milvus.Config{Address: killGuardAddr()})
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()

	var acked []uint64
	killAt := time.Now().Add(1500 * time.Millisecond)
	for id := int64(1); id < 100000; id++ {
		if time.Now().After(killAt) && guardCmd.ProcessState == nil {
			guardCmd.Process.Signal(syscall.SIGKILL)
			guardCmd.Wait()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := app.Service().Insert(ctx, &milvuspb.InsertRequest{CollectionName: coll, NumRows: 1,
			FieldsData: []*schemapb.FieldData{milvus.Int64Column("id", []int64{id}), milvus.FloatVectorColumn("vec", 2, []float32{1, 2})}})
		cancel()
		if err != nil || resp.GetStatus().GetErrorCode() != commonpb.ErrorCode_Success {
			break // the guard is gone
		}
		acked = append(acked, resp.GetTimestamp())
	}
	if guardCmd.ProcessState == nil || len(acked) < 3 {
		t.Fatalf("the workload ended before the kill (%d inserts acknowledged)", len(acked))
	}
	var sum capture.Summary
	out := e.mustRun(t, repoDir, "--json", "log", "-c", coll)
	if err := json.Unmarshal([]byte(out.stdout), &sum); err != nil {
		t.Fatalf("milvault log --json: %v\n%s", err, out.stdout)
	}
	if sum.Records < int64(len(acked)) {
		t.Fatalf("the capture log holds %d writes of %s; the application saw %d acknowledged", sum.Records, coll, len(acked))
	}
	r := openRepo(t, repoDir)
	res, err := capture.Read(testContext(t), r, capture.Query{Database: "default", Collection: coll})
	if err != nil {
		t.Fatal(err)
	}
	have := map[uint64]bool{}
	for _, rec := range res.Records {
		have[rec.TS] = true
	}
	for i, ts := range acked {
		if !have[ts] {
			t.Errorf("acknowledged insert %d (timestamp %d) is not in the capture log", i+1, ts)
		}
	}
	checkStoppedGap(t, e, repoDir)
	checkRestartGap(t, e, bin, addr, repoDir)
	restoreAtLastAck(t, e, repoDir, coll, acked)
}

// checkStoppedGap: once three commit intervals (200 ms) passed without a
// heartbeat, the log reports the killed guard as stopped, although its id
// has not started again.
func checkStoppedGap(t *testing.T, e *env, repoDir string) {
	t.Helper()
	time.Sleep(700 * time.Millisecond)
	out := e.mustRun(t, repoDir, "log")
	if !strings.Contains(out.stdout, "guard kill-test stopped without closing its log at ~") {
		t.Errorf("milvault log does not report the killed guard as stopped:\n%s", out.stdout)
	}
}

// checkRestartGap restarts the guard and stops it cleanly: the log must
// report the unclean stop of the killed run as a gap.
func checkRestartGap(t *testing.T, e *env, bin, addr, repoDir string) {
	t.Helper()
	cmd := startGuardProcess(t, bin, addr, repoDir, killGuardAddr())
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	out := e.mustRun(t, repoDir, "log")
	if !strings.Contains(out.stdout, "gap:") || !strings.Contains(out.stdout, "without closing") {
		t.Errorf("milvault log does not show the killed guard's gap:\n%s", out.stdout)
	}
}

// restoreAtLastAck restores the collection at the last acknowledged insert
// into a new name and counts its rows.
func restoreAtLastAck(t *testing.T, e *env, repoDir, coll string, acked []uint64) {
	t.Helper()
	target := coll + "_pitr"
	e.dropLater(t, target)
	last := acked[len(acked)-1]
	e.mustRun(t, repoDir, "restore", "--at-ts", strconv.FormatUint(last, 10), "-c", coll, "--target", target, "--load")
	n, err := e.client.CountRows(testContext(t), "default", target, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(acked)) {
		t.Errorf("restore --at-ts %d holds %d rows, want the %d acknowledged inserts", last, n, len(acked))
	}
	e.dropLater(t, target+"_x")
	r := e.milvault(t, repoDir, "restore", "--at", "1h", "-c", coll, "--target", target+"_x") // before the only backup
	expectFailure(t, r, 3, "no backup of default."+coll)
}

func openRepo(t *testing.T, dir string) *repo.Repository {
	t.Helper()
	st, err := local.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(testContext(t), st)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
