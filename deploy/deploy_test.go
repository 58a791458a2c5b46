package deploy

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/milvault/milvault/service"
)

var update = flag.Bool("update", false, "rewrite the golden files of helm template")

// object is one parsed Kubernetes manifest.
type object map[string]any

func (o object) kind() string { return str(o["kind"]) }
func (o object) name() string { return str(get(o, "metadata", "name")) }

// get walks nested maps by key; nil when a step is missing.
func get(v any, path ...string) any {
	for _, k := range path {
		switch m := v.(type) {
		case object:
			v = m[k]
		case map[string]any:
			v = m[k]
		default:
			return nil
		}
	}
	return v
}

func str(v any) string { s, _ := v.(string); return s }

func list(v any) []any { l, _ := v.([]any); return l }

// parseManifests splits a multi-document YAML stream into objects.
func parseManifests(t *testing.T, data []byte) []object {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []object
	for {
		var o map[string]any // not object: yaml would make every nested map one
		err := dec.Decode(&o)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("parse manifests: %v", err)
		}
		if o != nil {
			out = append(out, object(o))
		}
	}
}

// expect is what a set of manifests must hold.
type expect struct {
	image        string
	secret       string // the Secret every reference names
	secretKeys   []string
	serve        bool // a serve Deployment, Service, ConfigMap, ServiceMonitor, PrometheusRule
	cronjob      bool
	externalOnly bool // the Secret is not among the manifests (existingSecret)
}

func TestPlainManifests(t *testing.T) {
	var all []object
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, parseManifests(t, data)...)
	}
	checkManifests(t, all, expect{image: "ghcr.io/milvault/milvault:0.1.0", secret: "milvault",
		secretKeys: []string{"admin-token", "read-token", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, serve: true, cronjob: true})
	checkKustomization(t, files)
}

// checkKustomization: the kustomization lists every serve file.
func checkKustomization(t *testing.T, files []string) {
	data, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ Resources []string }
	if err := yaml.Unmarshal(data, &k); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		base := filepath.Base(f)
		if base != "kustomization.yaml" && base != "cronjob.yaml" && !slices.Contains(k.Resources, base) {
			t.Errorf("kustomization.yaml does not list %s", base)
		}
	}
}

func checkManifests(t *testing.T, objs []object, want expect) {
	t.Helper()
	byKind := map[string][]object{}
	for _, o := range objs {
		byKind[o.kind()] = append(byKind[o.kind()], o)
	}
	if !want.externalOnly {
		checkSecret(t, byKind["Secret"], want)
	}
	if want.serve {
		deps := byKind["Deployment"]
		if len(deps) != 1 {
			t.Fatalf("%d Deployments, want 1", len(deps))
		}
		checkServe(t, deps[0], byKind, want)
		checkRules(t, byKind["PrometheusRule"])
	}
	if cj := byKind["CronJob"]; want.cronjob != (len(cj) == 1) {
		t.Errorf("%d CronJobs, want cronjob %v", len(cj), want.cronjob)
	} else if want.cronjob {
		checkCronJob(t, cj[0], want)
	}
}

func checkSecret(t *testing.T, secrets []object, want expect) {
	t.Helper()
	if len(secrets) != 1 || secrets[0].name() != want.secret {
		t.Fatalf("Secrets %v, want one named %s", secrets, want.secret)
	}
	data, _ := get(secrets[0], "stringData").(map[string]any)
	for _, k := range want.secretKeys {
		if _, ok := data[k]; !ok {
			t.Errorf("the Secret lacks the key %s", k)
		}
	}
}

func checkServe(t *testing.T, d object, byKind map[string][]object, want expect) {
	t.Helper()
	pod := get(d, "spec", "template", "spec")
	if r := get(d, "spec", "replicas"); r != 1 {
		t.Errorf("Deployment replicas = %v, want 1 (one job history, no policy run twice)", r)
	}
	cs := checkPod(t, "Deployment", pod, want)
	c := cs[0]
	args := strings.Join(strs(c["args"]), " ")
	for _, a := range []string{"serve", "--config=/etc/milvault/serve.yaml", "--listen=0.0.0.0:", "--admin-token-file=", "--read-token-file="} {
		if !strings.Contains(args, a) {
			t.Errorf("serve args %q lack %s", args, a)
		}
	}
	if p := get(c, "livenessProbe", "httpGet", "path"); p != "/healthz" {
		t.Errorf("liveness probe path = %v, want /healthz", p)
	}
	if p := get(c, "readinessProbe", "httpGet", "path"); p != "/readyz" {
		t.Errorf("readiness probe path = %v, want /readyz", p)
	}
	checkVolumes(t, pod, byKind, want)
	labels, _ := get(d, "spec", "template", "metadata", "labels").(map[string]any)
	svcs := byKind["Service"]
	if len(svcs) != 1 || !matches(get(svcs[0], "spec", "selector"), labels) {
		t.Fatalf("Services %v: want one selecting the pods %v", svcs, labels)
	}
	sms := byKind["ServiceMonitor"]
	if len(sms) != 1 {
		t.Fatalf("%d ServiceMonitors, want 1", len(sms))
	}
	sm := sms[0]
	svcLabels, _ := get(svcs[0], "metadata", "labels").(map[string]any)
	if !matches(get(sm, "spec", "selector", "matchLabels"), svcLabels) {
		t.Errorf("the ServiceMonitor's selector does not match the Service's labels %v", svcLabels)
	}
	ep := list(get(sm, "spec", "endpoints"))
	if len(ep) != 1 || get(ep[0], "path") != "/metrics" || get(ep[0], "port") != get(list(get(svcs[0], "spec", "ports"))[0], "name") ||
		get(ep[0], "bearerTokenSecret", "name") != want.secret || get(ep[0], "bearerTokenSecret", "key") != "read-token" {
		t.Errorf("ServiceMonitor endpoints = %v: want /metrics on the Service's port with the read token of %s", ep, want.secret)
	}
}

// checkPod checks the containers of a pod spec and returns them (init
// containers last).
func checkPod(t *testing.T, what string, pod any, want expect) []map[string]any {
	t.Helper()
	if get(pod, "securityContext", "runAsNonRoot") != true || get(pod, "securityContext", "runAsUser") == 0 {
		t.Errorf("%s pod securityContext = %v, want runAsNonRoot and a non-zero runAsUser", what, get(pod, "securityContext"))
	}
	var cs []map[string]any
	for _, c := range append(list(get(pod, "containers")), list(get(pod, "initContainers"))...) {
		m, _ := c.(map[string]any)
		cs = append(cs, m)
	}
	if len(cs) == 0 {
		t.Fatalf("%s has no containers", what)
	}
	for _, c := range cs {
		name := what + " container " + str(c["name"])
		if c["image"] != want.image {
			t.Errorf("%s image = %v, want %s", name, c["image"], want.image)
		}
		if len(strs(c["args"])) == 0 {
			t.Errorf("%s has no args (a milvault command)", name)
		}
		for _, r := range []string{"cpu", "memory"} {
			if get(c, "resources", "limits", r) == nil || get(c, "resources", "requests", r) == nil {
				t.Errorf("%s has no %s request and limit: %v", name, r, c["resources"])
			}
		}
		sc := c["securityContext"]
		if get(sc, "allowPrivilegeEscalation") != false || get(sc, "readOnlyRootFilesystem") != true ||
			!slices.Contains(strs(get(sc, "capabilities", "drop")), "ALL") {
			t.Errorf("%s securityContext = %v, want no privilege escalation, read-only root, all capabilities dropped", name, sc)
		}
		checkEnv(t, name, c, want)
	}
	return cs
}

func checkEnv(t *testing.T, name string, c map[string]any, want expect) {
	t.Helper()
	for _, e := range list(c["env"]) {
		ref := get(e, "valueFrom", "secretKeyRef")
		if ref == nil {
			continue
		}
		if get(ref, "name") != want.secret || !slices.Contains(want.secretKeys, str(get(ref, "key"))) {
			t.Errorf("%s env %v refers to %v, want a key of the Secret %s (%v)", name, get(e, "name"), ref, want.secret, want.secretKeys)
		}
	}
}

// checkVolumes: the config volume is a ConfigMap among the manifests whose
// serve.yaml parses, the token volume is the Secret's token keys.
func checkVolumes(t *testing.T, pod any, byKind map[string][]object, want expect) {
	t.Helper()
	for _, v := range list(get(pod, "volumes")) {
		switch {
		case get(v, "configMap") != nil:
			cm := find(byKind["ConfigMap"], str(get(v, "configMap", "name")))
			if cm == nil {
				t.Errorf("volume %v: no such ConfigMap", get(v, "name"))
				continue
			}
			text := str(get(cm, "data", "serve.yaml"))
			cfg, err := service.ParseConfig("serve.yaml", []byte(text))
			if err != nil {
				t.Errorf("the ConfigMap's serve.yaml does not parse: %v", err)
			} else if cfg.StateDir != "/var/lib/milvault" {
				t.Errorf("state_dir = %s, want /var/lib/milvault (the state volume)", cfg.StateDir)
			}
		case get(v, "secret") != nil:
			if get(v, "secret", "secretName") != want.secret {
				t.Errorf("volume %v: secret %v, want %s", get(v, "name"), get(v, "secret", "secretName"), want.secret)
			}
			for _, it := range list(get(v, "secret", "items")) {
				if !slices.Contains(want.secretKeys, str(get(it, "key"))) {
					t.Errorf("volume %v uses the key %v, not in the Secret", get(v, "name"), get(it, "key"))
				}
			}
		}
	}
}

func checkCronJob(t *testing.T, cj object, want expect) {
	t.Helper()
	if get(cj, "spec", "concurrencyPolicy") != "Forbid" {
		t.Errorf("CronJob concurrencyPolicy = %v, want Forbid", get(cj, "spec", "concurrencyPolicy"))
	}
	pod := get(cj, "spec", "jobTemplate", "spec", "template", "spec")
	checkPod(t, "CronJob", pod, want)
	init := list(get(pod, "initContainers"))
	main := list(get(pod, "containers"))
	if len(init) != 1 || len(main) != 1 {
		t.Fatalf("CronJob containers: %d init, %d main; want backup then prune", len(init), len(main))
	}
	b, p := strs(get(init[0], "args")), strs(get(main[0], "args"))
	if b[0] != "backup" || !slices.ContainsFunc(b, func(a string) bool { return strings.HasPrefix(a, "--verify") }) {
		t.Errorf("CronJob backup args = %v, want backup ... --verify", b)
	}
	if p[0] != "prune" || !slices.ContainsFunc(p, func(a string) bool { return strings.HasPrefix(a, "--keep-") }) {
		t.Errorf("CronJob prune args = %v, want prune with keep rules", p)
	}
}

// checkRules: exactly one PrometheusRule, holding the groups of
// prometheus/milvault-rules.yaml.
func checkRules(t *testing.T, rules []object) {
	t.Helper()
	if len(rules) != 1 {
		t.Fatalf("%d PrometheusRules, want 1", len(rules))
	}
	data, err := os.ReadFile("prometheus/milvault-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]any
	if err := yaml.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	if got := get(rules[0], "spec", "groups"); !reflect.DeepEqual(got, want["groups"]) {
		t.Errorf("the PrometheusRule's groups differ from prometheus/milvault-rules.yaml:\ngot  %v\nwant %v", got, want["groups"])
	}
}

func find(objs []object, name string) object {
	for _, o := range objs {
		if o.name() == name {
			return o
		}
	}
	return nil
}

// matches reports whether every key of sel has the same value in labels.
func matches(sel any, labels map[string]any) bool {
	m, _ := sel.(map[string]any)
	for k, v := range m {
		if labels[k] != v {
			return false
		}
	}
	return len(m) > 0
}

func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

func TestChartRulesAreTheRulesFile(t *testing.T) {
	a, err := os.ReadFile("prometheus/milvault-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("helm/milvault/files/milvault-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("helm/milvault/files/milvault-rules.yaml differs from prometheus/milvault-rules.yaml: cp deploy/prometheus/milvault-rules.yaml deploy/helm/milvault/files/")
	}
}

// helm returns the helm binary: $HELM, else the one scripts/helm.sh
// installs, else helm on PATH; the test skips without one.
func helm(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	out, err := exec.Command("bash", "../scripts/helm.sh", "path").Output()
	if p := strings.TrimSpace(string(out)); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Skip("no helm binary: run `bash scripts/helm.sh install` (make test does), or set HELM")
	return ""
}

func TestHelmChart(t *testing.T) {
	h := helm(t)
	cases := []struct {
		values string
		want   expect
	}{
		{"default", expect{image: "ghcr.io/milvault/milvault:0.1.0", secret: "milvault",
			secretKeys: []string{"admin-token", "read-token", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, serve: true}},
		{"all", expect{image: "registry.example.com/milvault:v9.9.9", secret: "milvault-credentials", externalOnly: true,
			secretKeys: []string{"admin-token", "read-token", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "MILVUS_TOKEN"}, serve: true, cronjob: true}},
	}
	for _, c := range cases {
		t.Run(c.values, func(t *testing.T) {
			values := filepath.Join("helm", "testdata", c.values+".values.yaml")
			run(t, h, "lint", "--strict", "helm/milvault", "-f", values)
			out := run(t, h, "template", "milvault", "helm/milvault", "-f", values)
			golden(t, filepath.Join("helm", "testdata", c.values+".golden.yaml"), out)
			checkManifests(t, parseManifests(t, out), c.want)
		})
	}
	t.Run("missing tokens", func(t *testing.T) {
		cmd := exec.Command(h, "template", "milvault", "helm/milvault")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "secret.adminToken is required") {
			t.Fatalf("helm template without tokens = %v:\n%s\nwant an error naming secret.adminToken", err, out)
		}
	})
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s%s", filepath.Base(name), strings.Join(args, " "), err, out, stderr.Bytes())
	}
	return out
}

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with go test ./deploy/ -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("helm template differs from %s (if the change is intended: go test ./deploy/ -update, and review the diff):\n%s", path, firstDiff(string(want), string(got)))
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}
