package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDoctorExitCodes(t *testing.T) {
	fixtures := fixtureDir(t)
	// No repository and no server: only the files are judged.
	env := map[string]string{"MILVAULT_REPO": "", "MILVAULT_MILVUS": "", "MILVAULT_CONFIG": ""}
	t.Chdir(t.TempDir())
	cases := []struct {
		name     string
		files    []string
		code     int
		contains string
	}{
		{"seed-000 deployment", []string{"seed000-deployment.yaml"}, doctorCritical, "hammerspace-milvus-pvc"},
		{"correct Helm values", []string{"helm-values-good.yaml"}, doctorClean, "CLEAN"},
		{"compose", []string{"docker-compose.yaml"}, doctorWarning, "single-node MinIO"},
		{"malformed", []string{"malformed.yaml"}, doctorCannot, "malformed.yaml:"},
		{"unknown", []string{"unknown.yaml"}, doctorCannot, "unknown.yaml:2: unknown document"},
		{"missing", []string{"nope.yaml"}, doctorCannot, "nope.yaml"},
		{"nothing checked", []string{"/dev/null"}, doctorCannot, "UNKNOWN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"doctor"}
			for _, f := range c.files {
				if !filepath.IsAbs(f) {
					f = filepath.Join(fixtures, f)
				}
				args = append(args, "-f", f)
			}
			out, _, err := run(t, env, args...)
			if got := ExitCode(err); got != c.code {
				t.Fatalf("exit code %d (err %v), want %d\n%s", got, err, c.code, out)
			}
			if text := out + errText(err); !strings.Contains(text, c.contains) {
				t.Errorf("output lacks %q:\n%s", c.contains, text)
			}
		})
	}
}

// TestDoctorCannotRun checks that bad flags, arguments and values exit with
// "could not run" (3), not with a verdict: 2 would read as critical.
func TestDoctorCannotRun(t *testing.T) {
	for _, args := range [][]string{{"doctor", "--bogus"}, {"doctor", "extra"}, {"doctor", "--rpo", "soon"}} {
		_, _, err := run(t, nil, args...)
		if got := ExitCode(err); got != doctorCannot {
			t.Errorf("%v: exit %d (%v), want %d", args, got, err, doctorCannot)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestDoctorJSON(t *testing.T) {
	fixtures := fixtureDir(t)
	t.Chdir(t.TempDir())
	out, _, err := run(t, nil, "doctor", "--json", "-f", filepath.Join(fixtures, "seed000-deployment.yaml"))
	if ExitCode(err) != doctorCritical {
		t.Fatalf("exit %d, want %d: %v", ExitCode(err), doctorCritical, err)
	}
	var doc struct {
		Verdict  string `json:"verdict"`
		Findings []struct {
			Check, Severity, Fix string
		} `json:"findings"`
		Undetermined []string `json:"undetermined"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if doc.Verdict != "critical" || len(doc.Findings) == 0 || doc.Findings[0].Severity != "critical" || doc.Findings[0].Fix == "" {
		t.Errorf("unexpected document: %+v", doc)
	}
}

// fixtureDir is the absolute path of doctor/testdata (tests then leave the
// package directory so that no ./milvault-backups is found).
func fixtureDir(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", "..", "doctor", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestMetricsURL(t *testing.T) {
	cases := map[string]string{"localhost:19530": "http://localhost:9091", "https://m.example.com:443": "http://m.example.com:9091", "10.0.0.1": "http://10.0.0.1:9091",
		"https://m.example.com": "http://m.example.com:9091", "HTTP://[::1]:19530/db": "http://[::1]:9091", "bad://x": ""}
	for addr, want := range cases {
		if got := metricsURL(addr, ""); got != want {
			t.Errorf("metricsURL(%q) = %q, want %q", addr, got, want)
		}
	}
}
