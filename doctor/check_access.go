package doctor

import "strings"

const whyAuth = "Without authorization anyone who can reach port 19530 can drop every collection; " +
	"a mistyped script or a compromised client deletes data with no credentials needed."

const whyTLS = "Without TLS, credentials and vectors cross the network in clear text and can be read or altered in transit."

// CheckAccess flags configurations where authorization or TLS is off
// (check 6, configuration half). It only speaks when Milvus configuration
// or workloads are among the inputs.
func CheckAccess(in *Inputs) []Finding {
	if len(in.allConfigs()) == 0 && !in.hasMilvusWorkload() && len(in.Helm) == 0 {
		return nil
	}
	var out []Finding
	if f, bad := accessSetting(in, "common.security.authorizationEnabled", isTrue, "Authorization is disabled", whyAuth,
		"common:\n  security:\n    authorizationEnabled: true   # then change the root password (default: Milvus)"); bad {
		out = append(out, f)
	}
	tlsOn := func(v string) bool { return v == "1" || v == "2" }
	if f, bad := accessSetting(in, "common.security.tlsMode", tlsOn, "TLS is off", whyTLS,
		"common:\n  security:\n    tlsMode: 1   # with tls.serverPemPath / tls.serverKeyPath"); bad {
		out = append(out, f)
	}
	return out
}

// accessSetting reports key when no source sets it to a value ok accepts.
func accessSetting(in *Inputs, key string, ok func(string) bool, title, why, fix string) (Finding, bool) {
	var evidence []Evidence
	for _, s := range in.accessStatements(key) {
		if ok(strings.ToLower(s.Value)) {
			return Finding{}, false
		}
		evidence = append(evidence, ev(s))
	}
	if len(evidence) == 0 {
		evidence = []Evidence{{Where: Where{Path: key}, Value: "not set in any input (Milvus default: off)"}}
	}
	return Finding{Check: IDAccess, Severity: Warning, Title: title, Evidence: evidence, Why: why, Fix: fix}, true
}

// accessStatements returns every explicit setting of key.
func (in *Inputs) accessStatements(key string) []Setting {
	var out []Setting
	for _, cfg := range in.allConfigs() {
		if v, ok := cfg.Settings.Get(key); ok {
			out = append(out, v)
		}
	}
	in.milvusContainers(func(w Workload, c Container) {
		if v, ok := c.Env.Get(key); ok {
			out = append(out, v)
		}
	})
	return out
}

// CheckConfig runs every check over parsed input files.
func CheckConfig(in *Inputs) []Finding {
	var out []Finding
	for _, check := range []func(*Inputs) []Finding{CheckLocalStorage, CheckEtcd, CheckObjectStore, CheckReclaim, CheckPaths, CheckAccess} {
		out = append(out, check(in)...)
	}
	return out
}
