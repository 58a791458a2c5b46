package doctor

import "strings"

// Setting is one configuration value and where it was set.
type Setting struct {
	Key   string // as written: "common.storageType" or "COMMON_STORAGETYPE"
	Value string
	Where Where
	// Unknown is true when the value comes from elsewhere (valueFrom, a
	// template), so only its presence is known.
	Unknown bool
}

// Settings are Milvus configuration values by normalized key. Milvus itself
// matches keys from milvus.yaml and the environment by lowercasing them and
// dropping dots, underscores and slashes; Settings does the same, so
// "common.storageType" and COMMON_STORAGETYPE are one key.
type Settings map[string]Setting

// NormalizeKey maps a milvus.yaml key path or an environment variable name to
// the key Milvus compares.
func NormalizeKey(k string) string {
	return strings.NewReplacer(".", "", "_", "", "/", "").Replace(strings.ToLower(k))
}

// Get returns the setting for key (any spelling) and whether it is set.
func (s Settings) Get(key string) (Setting, bool) {
	v, ok := s[NormalizeKey(key)]
	return v, ok && !v.Unknown
}

// Set records v under its normalized key.
func (s Settings) Set(v Setting) { s[NormalizeKey(v.Key)] = v }

// MilvusConfig is one milvus.yaml (a file, a ConfigMap entry, or Helm's
// extraConfigFiles) flattened into settings.
type MilvusConfig struct {
	Source   string // "milvus.yaml", "ConfigMap milvus-config key milvus.yaml"
	Settings Settings
}

// VolumeKind says what backs a volume.
type VolumeKind string

// Volume kinds. Claim, ClaimTemplate, DockerVolume and Bind survive a
// container or pod restart; EmptyDir and Tmpfs do not; HostPath survives
// only while the pod stays on the same node.
const (
	Claim         VolumeKind = "persistentVolumeClaim"
	ClaimTemplate VolumeKind = "volumeClaimTemplate"
	EmptyDir      VolumeKind = "emptyDir"
	HostPath      VolumeKind = "hostPath"
	DockerVolume  VolumeKind = "volume"
	Bind          VolumeKind = "bind"
	Tmpfs         VolumeKind = "tmpfs"
	ConfigOnly    VolumeKind = "config" // configMap, secret, projected, downwardAPI
	OtherVolume   VolumeKind = "other"
)

// Persistent reports whether data on a volume of kind k outlives the pod or
// container.
func (k VolumeKind) Persistent() bool {
	switch k {
	case Claim, ClaimTemplate, DockerVolume, Bind, HostPath, OtherVolume:
		return true
	}
	return false
}

// Volume is a pod volume or a compose volume source.
type Volume struct {
	Name      string
	Kind      VolumeKind
	ClaimName string // for Claim
	Where     Where
}

// Mount is a volume mounted into a container.
type Mount struct {
	Volume string
	Path   string
	Where  Where
}

// Container is one container of a workload (a compose service is a workload
// with one container).
type Container struct {
	Name    string
	Image   string
	Command []string // command and args together
	Env     Settings
	Mounts  []Mount
	Where   Where
}

// Workload is a Kubernetes Deployment, StatefulSet, DaemonSet, ReplicaSet,
// Job or Pod, or a docker-compose service.
type Workload struct {
	Kind       string // "Deployment", ..., "compose service"
	Name       string
	Replicas   int // 1 when not stated
	Containers []Container
	Volumes    map[string]Volume
	Where      Where
}

// ClaimInfo is a PersistentVolumeClaim object.
type ClaimInfo struct {
	Name         string
	StorageClass string
	VolumeName   string
	Where        Where
}

// ReclaimPolicy is a PersistentVolume's or StorageClass's reclaim policy.
type ReclaimPolicy struct {
	Object string // "PersistentVolume pv-1", "StorageClass standard"
	Name   string
	Policy string // "Delete", "Retain", "" (StorageClass default: Delete)
	Where  Where
}

// HelmValues is a values.yaml of the Milvus Helm chart, kept as the key
// values the checks read.
type HelmValues struct {
	File     string
	Values   map[string]Setting // by dotted path as written, e.g. "minio.persistence.enabled"
	Embedded []MilvusConfig     // extraConfigFiles.user.yaml
}

// Get returns the value at dotted path p and whether it is set.
func (h HelmValues) Get(p string) (Setting, bool) {
	v, ok := h.Values[p]
	return v, ok
}

// BackupToolConfig is a milvus-backup backup.yaml: where that tool expects
// Milvus's files.
type BackupToolConfig struct {
	File     string
	Settings Settings // minio.bucketName, minio.rootPath, minio.address, ...
}

// Inputs are every parsed input file, merged. The doctor assumes they
// describe one deployment.
type Inputs struct {
	Files         []string
	Configs       []MilvusConfig
	Workloads     []Workload
	Claims        []ClaimInfo
	Reclaim       []ReclaimPolicy
	Helm          []HelmValues
	BackupConfigs []BackupToolConfig
}

// Merge appends everything in o to in.
func (in *Inputs) Merge(o *Inputs) {
	in.Files = append(in.Files, o.Files...)
	in.Configs = append(in.Configs, o.Configs...)
	in.Workloads = append(in.Workloads, o.Workloads...)
	in.Claims = append(in.Claims, o.Claims...)
	in.Reclaim = append(in.Reclaim, o.Reclaim...)
	in.Helm = append(in.Helm, o.Helm...)
	in.BackupConfigs = append(in.BackupConfigs, o.BackupConfigs...)
}
