package doctor

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// got summarizes findings as "severity check" strings, sorted.
func summarize(fs []Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Severity.String()+" "+f.Check)
	}
	slices.Sort(out)
	return out
}

func runCheck(t *testing.T, check func(*Inputs) []Finding, docs ...string) []string {
	t.Helper()
	in := &Inputs{}
	for i, d := range docs {
		p, err := ParseFile(fmt.Sprintf("in%d.yaml", i), []byte(d))
		if err != nil {
			t.Fatalf("ParseFile: %v", err)
		}
		in.Merge(p)
	}
	return summarize(check(in))
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: milvus}
spec:
  template:
    spec:
      containers:
        - name: milvus
          image: milvusdb/milvus:v2.3.5
          env: [%s]
          volumeMounts: [%s]
      volumes: [%s]
`

func deploy(env, mounts, volumes string) string { return fmt.Sprintf(deployment, env, mounts, volumes) }

func TestCheckLocalStorage(t *testing.T) {
	local := `{name: COMMON_STORAGETYPE, value: local}`
	pvc := `{name: d, persistentVolumeClaim: {claimName: c}}`
	cases := []struct {
		name string
		docs []string
		want []string
	}{
		{"minio storage", []string{deploy(`{name: COMMON_STORAGETYPE, value: minio}`, "", "")}, []string{}},
		{"local, nothing mounted", []string{deploy(local, "", "")}, []string{"critical local-storage"}},
		{"local, emptyDir", []string{deploy(local, `{name: d, mountPath: /var/lib/milvus}`, `{name: d, emptyDir: {}}`)}, []string{"critical local-storage"}},
		{"local, PVC at parent dir", []string{deploy(local, `{name: d, mountPath: /var/lib/milvus}`, pvc)}, []string{"info local-storage"}},
		{"local, PVC mounted elsewhere", []string{deploy(local, `{name: d, mountPath: /data}`, pvc)}, []string{"critical local-storage"}},
		{"local via ConfigMap", []string{deploy("", "", ""), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\ndata:\n  milvus.yaml: |\n    common:\n      storageType: local\n"}, []string{"critical local-storage"}},
		{"env overrides config", []string{deploy(`{name: COMMON_STORAGETYPE, value: minio}`, "", ""), "common:\n  storageType: local\n"}, []string{}},
		{"custom path on PVC", []string{deploy(local+`, {name: LOCALSTORAGE_PATH, value: /data/milvus}`, `{name: d, mountPath: /data}`, pvc)}, []string{"info local-storage"}},
		{"bare milvus.yaml, /tmp", []string{"common:\n  storageType: local\nlocalStorage:\n  path: /tmp/m\n"}, []string{"critical local-storage"}},
		{"bare milvus.yaml, /srv", []string{"common:\n  storageType: local\nlocalStorage:\n  path: /srv/m\n"}, []string{"warning local-storage"}},
		{"helm standalone no persistence", []string{"cluster: {enabled: false}\nminio: {enabled: false}\nstandalone:\n  persistence: {enabled: false}\n"}, []string{"critical local-storage"}},
		{"helm standalone with minio", []string{"cluster: {enabled: false}\nstandalone:\n  persistence: {enabled: false}\n"}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runCheck(t, CheckLocalStorage, c.docs...); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckEtcd(t *testing.T) {
	embed := `{name: ETCD_USE_EMBED, value: "true"}, {name: ETCD_DATA_DIR, value: /var/lib/milvus/etcd}`
	cases := []struct {
		name string
		docs []string
		want []string
	}{
		{"external etcd", []string{deploy(`{name: ETCD_ENDPOINTS, value: "etcd:2379"}`, "", "")}, []string{}},
		{"embedded, no volume", []string{deploy(embed, "", "")}, []string{"critical etcd-storage"}},
		{"embedded, on PVC", []string{deploy(embed, `{name: d, mountPath: /var/lib/milvus}`, `{name: d, persistentVolumeClaim: {claimName: c}}`)}, []string{"warning etcd-storage"}},
		{"embedded, default relative dir", []string{deploy(`{name: ETCD_USE_EMBED, value: "true"}`, `{name: d, mountPath: /var/lib/milvus}`, `{name: d, persistentVolumeClaim: {claimName: c}}`)}, []string{"critical etcd-storage"}},
		{"bare milvus.yaml embed", []string{"etcd:\n  use:\n    embed: true\n"}, []string{"critical etcd-storage"}},
		{"compose etcd with volume", []string{"services:\n  etcd:\n    image: quay.io/coreos/etcd:v3.5.5\n    command: etcd --data-dir=/etcd\n    volumes: [\"./v:/etcd\"]\n"}, []string{}},
		{"compose etcd without volume", []string{"services:\n  etcd:\n    image: quay.io/coreos/etcd:v3.5.5\n    command: etcd -data-dir /etcd\n"}, []string{"critical etcd-storage"}},
		{"helm etcd off and single", []string{"etcd:\n  replicaCount: 1\n  persistence: {enabled: false}\n"}, []string{"critical etcd-storage", "warning etcd-storage"}},
		{"helm external etcd", []string{"externalEtcd: {enabled: true}\netcd:\n  persistence: {enabled: false}\n"}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runCheck(t, CheckEtcd, c.docs...); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckObjectStoreAndReclaim(t *testing.T) {
	cases := []struct {
		name  string
		check func(*Inputs) []Finding
		docs  []string
		want  []string
	}{
		{"compose minio on volume", CheckObjectStore, []string{"services:\n  minio:\n    image: minio/minio\n    command: minio server /d\n    volumes: [\"m:/d\"]\n"}, []string{"warning object-store"}},
		{"compose minio tmpfs", CheckObjectStore, []string{"services:\n  minio:\n    image: minio/minio\n    command: minio server /d\n    tmpfs: [/d]\n"}, []string{"critical object-store", "warning object-store"}},
		{"distributed minio", CheckObjectStore, []string{"services:\n  minio:\n    image: minio/minio\n    command: minio server http://m{1...4}/d\n"}, []string{}},
		{"helm minio standalone, no persistence", CheckObjectStore, []string{"minio:\n  mode: standalone\n  persistence: {enabled: false}\n"}, []string{"critical object-store", "warning object-store"}},
		{"helm external S3", CheckObjectStore, []string{"externalS3: {enabled: true}\nminio:\n  mode: standalone\n"}, []string{}},
		{"PV retain", CheckReclaim, []string{"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: p}\nspec: {persistentVolumeReclaimPolicy: Retain}\n"}, []string{}},
		{"PV delete", CheckReclaim, []string{"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: p}\nspec: {persistentVolumeReclaimPolicy: Delete}\n"}, []string{"warning reclaim-policy"}},
		{"StorageClass default", CheckReclaim, []string{"apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: s}\n"}, []string{"warning reclaim-policy"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runCheck(t, c.check, c.docs...); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckPaths(t *testing.T) {
	cfg := func(bucket, root string) string {
		return fmt.Sprintf("minio:\n  bucketName: %s\n  rootPath: %s\n", bucket, root)
	}
	backup := func(bucket, root string) string {
		return fmt.Sprintf("minio:\n  bucketName: %s\n  rootPath: %s\n  backupBucketName: b\n", bucket, root)
	}
	cases := []struct {
		name string
		docs []string
		want []string
	}{
		{"one config", []string{cfg("a", "files")}, []string{}},
		{"agreeing, slash ignored", []string{cfg("a", "files"), cfg("a", "/files/")}, []string{}},
		{"bucket differs", []string{cfg("a", "files"), cfg("b", "files")}, []string{"critical storage-paths"}},
		{"env overrides differ", []string{cfg("a", "files"), deploy(`{name: MINIO_ROOTPATH, value: other}`, "", "")}, []string{"critical storage-paths"}},
		{"backup agrees", []string{cfg("a", "files"), backup("a", "files")}, []string{}},
		{"backup rootPath differs", []string{cfg("a", "files"), backup("a", "file")}, []string{"critical storage-paths"}},
		{"helm vs backup", []string{"minio:\n  enabled: true\n  bucketName: milvus-bucket\n", backup("a-bucket", "files")}, []string{"critical storage-paths"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runCheck(t, CheckPaths, c.docs...); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestCheckAccess(t *testing.T) {
	cases := []struct {
		name string
		docs []string
		want []string
	}{
		{"no milvus inputs", []string{"apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: p}\n"}, []string{}},
		{"defaults", []string{"common:\n  storageType: minio\n"}, []string{"warning access-control", "warning access-control"}},
		{"both on", []string{"common:\n  security:\n    authorizationEnabled: true\n    tlsMode: 2\n"}, []string{}},
		{"auth via env", []string{deploy(`{name: COMMON_SECURITY_AUTHORIZATIONENABLED, value: "true"}, {name: COMMON_SECURITY_TLSMODE, value: "1"}`, "", "")}, []string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := runCheck(t, CheckAccess, c.docs...); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestRoleOf(t *testing.T) {
	cases := map[string]Role{
		"milvusdb/milvus:v2.3.5":                    RoleMilvus,
		"registry.example.com:5000/milvusdb/milvus": RoleMilvus,
		"milvusdb/milvus-backup:v0.4":               RoleOther,
		"docker.io/bitnami/etcd:3.5":                RoleEtcd,
		"quay.io/coreos/etcd:v3.5.5":                RoleEtcd,
		"minio/minio:RELEASE.2023":                  RoleMinIO,
		"minio/mc":                                  RoleOther,
		"zilliz/attu:v2.3":                          RoleOther,
	}
	for image, want := range cases {
		if got := RoleOf(Container{Image: image}); got != want {
			t.Errorf("RoleOf(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestSeed000IsCriticalWithFix(t *testing.T) {
	r := Diagnose(Params{Inputs: parseFixtures(t, "seed000-deployment.yaml")})
	if r.Worst() != Critical {
		t.Fatalf("worst = %v, want critical", r.Worst())
	}
	f := r.Findings[slices.IndexFunc(r.Findings, func(f Finding) bool { return f.Check == IDLocalStorage })]
	for _, want := range []string{"mountPath: /var/lib/milvus", "claimName: hammerspace-milvus-pvc", "COMMON_STORAGETYPE=minio"} {
		if !strings.Contains(f.Fix, want) {
			t.Errorf("fix lacks %q:\n%s", want, f.Fix)
		}
	}
	if !slices.ContainsFunc(f.Evidence, func(e Evidence) bool { return strings.Contains(e.Value, "hammerspace-milvus-pvc is declared") }) {
		t.Errorf("evidence does not name the unmounted PVC: %+v", f.Evidence)
	}
}

func TestHelmGoodIsClean(t *testing.T) {
	r := Diagnose(Params{Inputs: parseFixtures(t, "helm-values-good.yaml")})
	if len(r.Findings) != 0 {
		t.Errorf("findings = %+v, want none", r.Findings)
	}
}
