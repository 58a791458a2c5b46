package cli

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionJSON(t *testing.T) {
	out, _, err := run(t, nil, "version", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v VersionInfo
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("version --json: %v\n%s", err, out)
	}
	// A test binary carries no module or VCS data; TestFromBuildInfo covers it.
	if v.Version == "" || v.Commit == "" || v.Date == "" || v.MilvusProtocol == "" || !strings.HasPrefix(v.GoVersion, "go1.") {
		t.Errorf("version --json = %+v; want every field and the Go version", v)
	}
	text, _, err := run(t, nil, "--version")
	if err != nil || !strings.HasPrefix(text, "milvault "+v.Version+" (commit ") || !strings.Contains(text, v.MilvusProtocol) {
		t.Errorf("--version = %q, %v", text, err)
	}
}

func TestFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"},
		Deps:     []*debug.Module{{Path: "github.com/spf13/cobra", Version: "v1.10.2"}, {Path: protoModule, Version: "v2.6.18"}},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "true"}}}
	var v VersionInfo
	fromBuildInfo(&v, bi)
	want := VersionInfo{Version: "v1.2.3", Commit: "abc123", Modified: true, Date: "2026-01-02T03:04:05Z", MilvusProtocol: "milvus-proto 2.6.18"}
	if v != want {
		t.Errorf("fromBuildInfo = %+v, want %+v", v, want)
	}
	// Values set with -ldflags -X win over the embedded ones.
	v = VersionInfo{Version: "v9", Commit: "fromldflags"}
	fromBuildInfo(&v, bi)
	if v.Version != "v9" || v.Commit != "fromldflags" {
		t.Errorf("ldflags values were overwritten: %+v", v)
	}
}
