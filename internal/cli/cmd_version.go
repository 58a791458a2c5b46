package cli

import (
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Build data, set by `make build` with -ldflags "-X
// github.com/milvault/milvault/internal/cli.Version=...". Unset values come
// from the build information Go embeds (module version, VCS revision and
// time).
var (
	Version = ""
	Commit  = ""
	Date    = ""
)

// protoModule is the module whose version is the Milvus protocol spoken.
const protoModule = "github.com/milvus-io/milvus-proto/go-api/v2"

// VersionInfo describes this build of milvault.
type VersionInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	Modified       bool   `json:"modified,omitempty"`
	Date           string `json:"build_date"`
	GoVersion      string `json:"go_version"`
	Platform       string `json:"platform"`
	MilvusProtocol string `json:"milvus_protocol"`
}

// BuildVersion returns the version information of the running binary.
func BuildVersion() VersionInfo {
	v := VersionInfo{Version: Version, Commit: Commit, Date: Date, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		fromBuildInfo(&v, bi)
	}
	v.Version = firstSet(v.Version, "dev")
	v.Commit = firstSet(v.Commit, "unknown")
	v.Date = firstSet(v.Date, "unknown")
	v.MilvusProtocol = firstSet(v.MilvusProtocol, "unknown")
	return v
}

func fromBuildInfo(v *VersionInfo, bi *debug.BuildInfo) {
	if mv := bi.Main.Version; v.Version == "" && mv != "" && mv != "(devel)" {
		v.Version = mv
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = firstSet(v.Commit, s.Value)
		case "vcs.time":
			v.Date = firstSet(v.Date, s.Value)
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == protoModule {
			v.MilvusProtocol = "milvus-proto " + strings.TrimPrefix(d.Version, "v")
		}
	}
}

// String is the one-line form printed by --version.
func (v VersionInfo) String() string {
	commit := v.Commit
	if v.Modified {
		commit += "-dirty"
	}
	return v.Version + " (commit " + commit + ", built " + v.Date + ", " + v.GoVersion + " " + v.Platform + ", " + v.MilvusProtocol + ")"
}

func newVersionCommand(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date, Go version and Milvus protocol",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := BuildVersion()
			if g.JSON {
				return writeJSON(g, v)
			}
			commit := v.Commit
			if v.Modified {
				commit += " (modified)"
			}
			g.printf("milvault %s\ncommit:          %s\nbuilt:           %s\ngo:              %s %s\nmilvus protocol: %s\n",
				v.Version, commit, v.Date, v.GoVersion, v.Platform, v.MilvusProtocol)
			return nil
		},
	}
}
