package service_test

import (
	"os/exec"
	"testing"
)

// TestAlertRules checks deploy/prometheus/milvault-rules.yaml and runs its
// unit tests with promtool (Debian package prometheus).
func TestAlertRules(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool is not installed (apt-get install prometheus): the alert rules are not tested")
	}
	for _, args := range [][]string{
		{"check", "rules", "milvault-rules.yaml"},
		{"test", "rules", "milvault-rules.test.yaml"},
	} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../deploy/prometheus"
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
