package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/milvault/milvault/internal/fixture"
)

// TestProofCommands runs verify (all modes), drill and list through the CLI
// against every server: a verified, drilled backup shows as proven, the
// drill report carries the measured RTO, and a too-small --max-rto fails
// the drill with exit code 8.
func TestProofCommands(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			e := newEnv(t, tg.addr)
			name := uniqueName("proof")
			e.createFixture(t, fixture.Options{Name: name, Rows: 3000, Seed: 9})
			repo := newRepo(t)
			sum := e.backup(t, repo, name, "--verify=quick")
			for _, mode := range []string{"checksum", "quick", "deep"} {
				r := e.mustRun(t, repo, "--json", "verify", sum.ID, "--mode", mode)
				var rep struct {
					OK   bool  `json:"ok"`
					Rows int64 `json:"rows_checked"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || !rep.OK || rep.Rows == 0 {
					t.Fatalf("verify --mode %s = %+v, %v: %s", mode, rep, err, r.stdout)
				}
			}
			r := e.mustRun(t, repo, "--json", "drill", sum.ID, "--max-rto", "10m")
			var dr struct {
				OK  bool    `json:"ok"`
				RTO float64 `json:"rto_seconds"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &dr); err != nil || !dr.OK || dr.RTO <= 0 {
				t.Fatalf("drill report = %+v, %v: %s", dr, err, r.stdout)
			}
			t.Logf("drill RTO on %s: %.2fs", tg.name, dr.RTO)
			fail := e.milvault(t, repo, "drill", sum.ID, "--max-rto", "1ms")
			expectFailure(t, fail, 8, "exceeds the maximum")
			list := e.mustRun(t, repo, "list")
			if !strings.Contains(list.stdout, "drill") {
				t.Errorf("list does not show the drill as the last proof:\n%s", list.stdout)
			}
		})
	}
}
