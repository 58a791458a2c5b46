package doctor

import (
	"fmt"
	"strings"

	"github.com/milvault/milvault/milvus"
)

// LiveFacts is what a running Milvus told the doctor. Pointers are nil when
// the question could not be answered.
type LiveFacts struct {
	Address      string `json:"address"`
	Version      string `json:"version"`
	DeployMode   string `json:"deploy_mode,omitempty"`   // GetMetrics system_info: STANDALONE / CLUSTER
	BuildVersion string `json:"build_version,omitempty"` // GetMetrics system_info
	Bucket       string `json:"bucket,omitempty"`        // an index node's minio_bucket_name
	// TLS says whether the server answered a TLS handshake; TLSProbe is
	// what the handshake showed (nil when the server could not be probed).
	TLS      bool             `json:"tls"`
	TLSProbe *milvus.TLSState `json:"tls_probe,omitempty"`
	// Anonymous says whether a client without credentials could list
	// collections; DefaultRoot whether root:Milvus was accepted.
	Anonymous   *bool           `json:"anonymous_access,omitempty"`
	DefaultRoot *bool           `json:"default_root_password,omitempty"`
	Health      string          `json:"health,omitempty"` // the management port's answer
	Collections []CollectionRef `json:"collections,omitempty"`
}

// Kind names the server flavour from its version strings.
func (f LiveFacts) Kind() string {
	switch {
	case strings.HasPrefix(f.Version, "milvus_lite") || strings.Contains(f.Version, "lite-3"):
		return "milvus-lite"
	case strings.HasSuffix(f.BuildVersion, "-lite"):
		return "embedded"
	case f.DeployMode != "":
		return strings.ToLower(f.DeployMode)
	}
	return "unknown"
}

// apiWhere locates evidence in an API answer.
func (f LiveFacts) apiWhere(call string) Where {
	return Where{File: f.Address, Path: call}
}

// CheckLive turns facts about a running server into findings: what its
// build implies about storage, and open access (check 6, server half).
func CheckLive(f LiveFacts) []Finding {
	out := liveStorage(f)
	if f.Anonymous != nil && *f.Anonymous {
		out = append(out, Finding{Check: IDAccess, Severity: Warning, Title: "Milvus at " + f.Address + " accepts clients without credentials",
			Evidence: []Evidence{{Where: f.apiWhere("ShowCollections without a token"), Value: "succeeded"}},
			Why:      whyAuth, Fix: "common:\n  security:\n    authorizationEnabled: true   # env COMMON_SECURITY_AUTHORIZATIONENABLED=true"})
	}
	if f.DefaultRoot != nil && *f.DefaultRoot {
		out = append(out, Finding{Check: IDAccess, Severity: Warning, Title: "Milvus at " + f.Address + " accepts the default root password",
			Evidence: []Evidence{{Where: f.apiWhere("ShowCollections as root:Milvus"), Value: "succeeded"}},
			Why:      "root:Milvus is public knowledge; with it anyone can drop every collection and user.",
			Fix:      "Change it: pymilvus utility.update_password('root', 'Milvus', '<new>') or the UpdateCredential API."})
	}
	return append(out, liveTLS(f)...)
}

// liveTLS judges the TLS handshake the doctor made with the server.
func liveTLS(f LiveFacts) []Finding {
	if !f.TLS {
		return []Finding{{Check: IDAccess, Severity: Warning, Title: "Connection to Milvus at " + f.Address + " is not encrypted",
			Evidence: []Evidence{{Where: f.apiWhere("TLS handshake"), Value: "not answered: the server speaks plain gRPC"}},
			Why:      whyTLS, Fix: "common:\n  security:\n    tlsMode: 1\nand connect with --milvus https://host:19530"}}
	}
	if p := f.TLSProbe; p != nil && !p.Verified {
		return []Finding{{Check: IDAccess, Severity: Warning, Title: "The TLS certificate of Milvus at " + f.Address + " is not trusted by this client",
			Evidence: []Evidence{{Where: f.apiWhere("TLS handshake"), Value: p.Problem}},
			Why:      "An unverified certificate does not prove the server is who it claims to be: the connection is open to interception.",
			Fix:      "Give the CA that signed the server's certificate with --tls-ca (and --tls-server-name if the address is not a name in it)."}}
	}
	return nil
}

// liveStorage judges what the server's build says about where it keeps data.
func liveStorage(f LiveFacts) []Finding {
	switch f.Kind() {
	case "embedded":
		return []Finding{{Check: IDLive, Severity: Critical,
			Title: fmt.Sprintf("Milvus at %s is the embedded build (%s): embedded etcd and local storage in one data directory", f.Address, f.BuildVersion),
			Evidence: []Evidence{{Where: f.apiWhere("GetMetrics system_info"), Value: "build_version " + f.BuildVersion + ", deploy_mode " + f.DeployMode},
				{Where: f.apiWhere("GetMetrics system_info"), Value: "minio_bucket_name " + orNone(f.Bucket) + " (configured, but the embedded build writes to localStorage.path)"}},
			Why: "The embedded Milvus (PyPI milvus / milvus-server) runs etcd in-process and stores segments on the local disk: " +
				"one directory holds all metadata and data, with no replica. Deleting it, or the machine, loses every collection. " +
				"(Inferred from the build; pass its milvus.yaml with --config-file to check the paths themselves.)",
			Fix: "For data you cannot lose run Milvus standalone or cluster with external etcd and MinIO/S3 on persistent volumes, and back up with milvault."}}
	case "milvus-lite":
		return []Finding{{Check: IDLive, Severity: Warning,
			Title:    fmt.Sprintf("Milvus at %s is Milvus Lite (%s): all data in one local directory of one process", f.Address, f.Version),
			Evidence: []Evidence{{Where: f.apiWhere("GetVersion"), Value: f.Version}},
			Why:      "Milvus Lite keeps collections in local files with no replica; it is meant for prototypes. Losing that directory loses everything.",
			Fix:      "Back it up with milvault, and move data you cannot lose to Milvus standalone or cluster."}}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// LiveUnknowns lists what the API could not tell about the server.
func LiveUnknowns(f LiveFacts) []string {
	var out []string
	if f.Kind() != "embedded" && f.Kind() != "milvus-lite" {
		out = append(out, fmt.Sprintf("storage type, localStorage.path, etcd mode and rootPath of %s: Milvus does not expose its configuration over gRPC or the metrics port; pass its milvus.yaml, Helm values or manifests with --config-file", f.Address))
	}
	if f.DeployMode == "" && f.Kind() != "milvus-lite" {
		out = append(out, "deployment mode of "+f.Address+": GetMetrics did not answer")
	}
	if f.Anonymous == nil {
		out = append(out, "whether "+f.Address+" accepts clients without credentials")
	}
	return out
}
