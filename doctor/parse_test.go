package doctor

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFileErrors(t *testing.T) {
	cases := []struct {
		name, data string
		line       int
		msg        string
	}{
		{"malformed", "common: 1\nminio: 2\n etcd: 3\n", 3, "malformed YAML"},
		{"unknown", "# hi\nfoo: bar\n", 2, "unknown document"},
		{"scalar", "just text\n", 1, "expected a YAML mapping"},
		{"second document unknown", "common:\n  storageType: local\n---\nfoo: 1\n", 4, "unknown document"},
		{"list item not an object", "apiVersion: v1\nkind: List\nitems:\n  - 3\n", 4, "not a Kubernetes object"},
		{"service not a mapping", "services:\n  milvus: 3\n", 2, "not a mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseFile("f.yaml", []byte(c.data))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseFile: got %v, want a *ParseError", err)
			}
			if pe.Line != c.line || !strings.Contains(pe.Msg, c.msg) || pe.File != "f.yaml" {
				t.Errorf("got %s (line %d), want line %d and %q", pe, pe.Line, c.line, c.msg)
			}
		})
	}
}

func TestParseFileKinds(t *testing.T) {
	cases := []struct {
		file                                           string
		configs, workloads, claims, reclaim, helm, bak int
	}{
		{"seed000-deployment.yaml", 0, 1, 1, 0, 0, 0},
		{"helm-values-good.yaml", 0, 0, 0, 0, 1, 0},
		{"docker-compose.yaml", 0, 3, 0, 0, 0, 0},
		{"milvus-local.yaml", 1, 0, 0, 0, 0, 0},
		{"milvus-backup.yaml", 0, 0, 0, 0, 0, 1},
		{"kubectl-list.yaml", 1, 2, 0, 2, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			in := parseFixtures(t, c.file)
			got := []int{len(in.Configs), len(in.Workloads), len(in.Claims), len(in.Reclaim), len(in.Helm), len(in.BackupConfigs)}
			want := []int{c.configs, c.workloads, c.claims, c.reclaim, c.helm, c.bak}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("configs, workloads, claims, reclaim, helm, backup = %v, want %v", got, want)
				}
			}
		})
	}
}

func TestParseFilesMissing(t *testing.T) {
	_, err := ParseFiles([]string{filepath.Join(t.TempDir(), "nope.yaml")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v, want a not-exist error", err)
	}
}

func TestSettingsNormalizeEnvAndYAML(t *testing.T) {
	in := parseFixtures(t, "seed000-deployment.yaml")
	c := in.Workloads[0].Containers[0]
	got, ok := c.Env.Get("common.storageType")
	if !ok || got.Value != "local" || got.Where.Line != 35 {
		t.Errorf("Get(common.storageType) = %+v, %v; want local from line 35", got, ok)
	}
}

func TestSplitVolumeSpec(t *testing.T) {
	cases := map[string][]string{
		"${DIR:-.}/volumes/etcd:/etcd": {"${DIR:-.}/volumes/etcd", "/etcd"},
		"data:/var/lib/milvus:ro":      {"data", "/var/lib/milvus", "ro"},
		"/only":                        {"/only"},
	}
	for spec, want := range cases {
		if got := splitVolumeSpec(spec); strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("splitVolumeSpec(%q) = %q, want %q", spec, got, want)
		}
	}
}

// FuzzParseFile feeds arbitrary bytes to the parser and every config check:
// they may reject input, never panic.
func FuzzParseFile(f *testing.F) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "*.yaml"))
	for _, p := range fixtures {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("services:\n  x:\n    volumes: [\"${A:-:}:/x\"]\n    tmpfs: /t\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := ParseFile("fuzz.yaml", data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		r := Diagnose(Params{Inputs: in})
		_ = BucketTargets(in)
		if err := WriteText(discard{}, r); err != nil {
			t.Fatal(err)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
