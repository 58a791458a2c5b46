package deploy

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/milvault/milvault/internal/cli"
)

// TestGuardManifests checks deploy/kubernetes/guard/guard.yaml: a
// Deployment whose container runs `milvault guard` with flags the command
// really has, probes on the guard's /healthz port, and a Service selecting
// its pods on the gRPC and metrics ports.
func TestGuardManifests(t *testing.T) {
	data, err := os.ReadFile("kubernetes/guard/guard.yaml")
	if err != nil {
		t.Fatal(err)
	}
	byKind := map[string][]object{}
	for _, o := range parseManifests(t, data) {
		byKind[o.kind()] = append(byKind[o.kind()], o)
	}
	deps, svcs := byKind["Deployment"], byKind["Service"]
	if len(deps) != 1 || len(svcs) != 1 {
		t.Fatalf("%d Deployments and %d Services, want 1 each", len(deps), len(svcs))
	}
	c := list(get(deps[0], "spec", "template", "spec", "containers"))[0]
	args := strs(get(c, "args"))
	if len(args) == 0 || args[0] != "guard" {
		t.Fatalf("container args %v, want guard ...", args)
	}
	checkGuardFlags(t, args[1:])
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if get(c, probe, "httpGet", "path") != "/healthz" || get(c, probe, "httpGet", "port") != "metrics" {
			t.Errorf("%s = %v, want /healthz on port metrics", probe, get(c, probe))
		}
	}
	labels, _ := get(deps[0], "spec", "template", "metadata", "labels").(map[string]any)
	if !matches(get(svcs[0], "spec", "selector"), labels) {
		t.Errorf("the Service's selector does not match the pods' labels %v", labels)
	}
}

// checkGuardFlags parses args with the real `milvault guard` command.
func checkGuardFlags(t *testing.T, args []string) {
	t.Helper()
	root := cli.NewRootCommand(strings.NewReader(""), io.Discard, io.Discard)
	cmd, _, err := root.Find([]string{"guard"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Errorf("milvault guard %v: %v", args, err)
	}
	for _, f := range []string{"listen", "milvus", "repo"} {
		if !cmd.Flags().Changed(f) {
			t.Errorf("guard args %v do not set --%s", args, f)
		}
	}
}
