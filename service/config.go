// Package service is `milvault serve`: it reads the service configuration
// (Milvus connections, repositories, policies), runs each policy on its
// schedule as a job (backup, then verify, prune and offsite copies, through
// the same library calls as the CLI commands), and exposes what happened as
// Prometheus metrics. The HTTP API (package service/api) is a thin layer
// over it.
package service

import (
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/milvault/milvault/errkind"
	"github.com/milvault/milvault/milvus"
	"github.com/milvault/milvault/repo"
)

// Config is the service configuration file.
type Config struct {
	// File is the path it was read from (for messages).
	File string `yaml:"-"`
	// StateDir holds the job store (jobs.db).
	StateDir string `yaml:"state_dir"`
	// MaxConcurrentJobs bounds the jobs running at once (default 1).
	MaxConcurrentJobs int `yaml:"max_concurrent_jobs"`
	// JobHistory is how many finished jobs are kept (default 1000).
	JobHistory int `yaml:"job_history"`
	// ShutdownGrace is how long SIGTERM waits for running jobs (default 5m).
	ShutdownGrace string `yaml:"shutdown_grace"`
	// LockWait is how long a job waits for another process's repository
	// lock (default 1m).
	LockWait     string                      `yaml:"lock_wait"`
	Milvus       map[string]MilvusConfig     `yaml:"milvus"`
	Repositories map[string]RepositoryConfig `yaml:"repositories"`
	Policies     map[string]PolicyConfig     `yaml:"policies"`

	shutdownGrace, lockWait time.Duration
}

// MilvusConfig is one Milvus connection. The token comes from an
// environment variable or a file, never from the configuration itself.
type MilvusConfig struct {
	Address   string `yaml:"address"`
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
	// TLS files, as the CLI's --tls-ca, --tls-cert, --tls-key and
	// --tls-server-name; any of them (or an https:// address) means TLS.
	TLSCA         string `yaml:"tls_ca"`
	TLSCert       string `yaml:"tls_cert"`
	TLSKey        string `yaml:"tls_key"`
	TLSServerName string `yaml:"tls_server_name"`

	token string
	tls   *tls.Config
}

// tlsFiles returns the connection's TLS settings.
func (m MilvusConfig) tlsFiles() milvus.TLSFiles {
	return milvus.TLSFiles{CA: m.TLSCA, Cert: m.TLSCert, Key: m.TLSKey, ServerName: m.TLSServerName}
}

// RepositoryConfig is one repository: a folder or a bucket URL. Object
// storage credentials come from the process environment (AWS_*,
// GOOGLE_APPLICATION_CREDENTIALS, AZURE_*), never from the URL.
//
// The key of an encrypted repository is named by files or an environment
// variable, never inline: identity_file (an age identity), and/or
// password_file or password_env (the passphrase). A repository without
// them is used write-only: backups, checksum verification and pruning by
// time work; restores, drills and deeper verifications fail with a key
// error (docs/encryption.md).
type RepositoryConfig struct {
	URL          string `yaml:"url"`
	IdentityFile string `yaml:"identity_file"`
	PasswordFile string `yaml:"password_file"`
	PasswordEnv  string `yaml:"password_env"`

	creds repo.Credentials
}

// PolicyConfig is one policy: what to back up, where, when, and what to do
// after each backup.
type PolicyConfig struct {
	Milvus       string   `yaml:"milvus"` // default: the only connection
	Repository   string   `yaml:"repository"`
	Database     string   `yaml:"database"`
	AllDatabases bool     `yaml:"all_databases"`
	Collections  []string `yaml:"collections"`
	Partitions   []string `yaml:"partitions"`
	// Schedule is a cron expression (optionally CRON_TZ=<zone> ...) or
	// @every <duration>.
	Schedule string `yaml:"schedule"`
	// RunMissed runs a run missed while the service was down once at
	// start-up (default true).
	RunMissed *bool           `yaml:"run_missed"`
	Backup    BackupConfig    `yaml:"backup"`
	Retention RetentionConfig `yaml:"retention"`
	// Verify is the verification after each backup: checksum (default),
	// quick or none.
	Verify string `yaml:"verify"`
	// CopyTo names repositories each new backup is copied to.
	CopyTo []string `yaml:"copy_to"`
	// RPO is how old the newest good backup may get before it is an alarm.
	RPO string `yaml:"rpo"`
	// Webhook, if set, is told when the policy starts failing and when it
	// recovers.
	Webhook *WebhookConfig `yaml:"webhook"`
	// Verification, if set, verifies the policy's newest backup again on
	// its own schedule (e.g. deep weekly).
	Verification *VerificationConfig `yaml:"verification"`
	// Drill, if set, rehearses a restore of the policy's newest backup on
	// its own schedule.
	Drill *DrillConfig `yaml:"drill"`

	rpo time.Duration
}

// VerificationConfig schedules verifications of a policy's newest backup.
type VerificationConfig struct {
	Schedule string `yaml:"schedule"`
	// Mode is checksum, quick or deep (restore into scratch collections
	// and compare every row).
	Mode string `yaml:"mode"`
}

// DrillConfig schedules drills: restore the newest backup of the policy
// into scratch collections, check and search them, measure the RTO, drop
// them, and record the proof.
type DrillConfig struct {
	Schedule string `yaml:"schedule"`
	Milvus   string `yaml:"milvus"`  // target; default: the policy's Milvus
	MaxRTO   string `yaml:"max_rto"` // a longer RTO fails the drill
	// MilvusStorage is the target's object storage, through which native
	// backups are drilled by binlog import; default: the policy's
	// backup.milvus_storage when the drill targets the policy's Milvus.
	MilvusStorage string `yaml:"milvus_storage"`

	maxRTO time.Duration
}

// BackupConfig are the backup options of a policy.
type BackupConfig struct {
	Compression      string `yaml:"compression"`
	CompressionLevel int    `yaml:"compression_level"`
	Checksum         string `yaml:"checksum"`
	ChunkSize        string `yaml:"chunk_size"`
	EncodeWorkers    int    `yaml:"encode_workers"` // as backup --encode-workers; 0: the default
	// SkipCountCheck does not fail a backup whose rows read differ from
	// the server's count(*) (collections with primary keys inserted more
	// than once), as backup --skip-count-check.
	SkipCountCheck bool `yaml:"skip_count_check"`
	// ScanWorkers is the number of streams reading each partition at once
	// (0: one per query node), as backup --scan-workers.
	ScanWorkers int `yaml:"scan_workers"`
	// Mode is logical (default), native or auto, as backup --mode.
	Mode string `yaml:"mode"`
	// MilvusStorage is Milvus's object storage (native and auto), as
	// backup --milvus-storage.
	MilvusStorage string `yaml:"milvus_storage"`
	// MilvusMetrics is Milvus's metrics URL used to pause garbage
	// collection during a native backup (default http://<milvus
	// host>:9091; none: no pause), as backup --milvus-metrics.
	MilvusMetrics string `yaml:"milvus_metrics"`
	// GCPause is the length of one garbage-collection pause (default
	// 10m), as backup --gc-pause.
	GCPause string `yaml:"gc_pause"`

	gcPause time.Duration
}

// RetentionConfig are the keep rules of `milvault prune`.
type RetentionConfig struct {
	KeepLast    int    `yaml:"keep_last"`
	KeepWithin  string `yaml:"keep_within"`
	KeepDaily   int    `yaml:"keep_daily"`
	KeepWeekly  int    `yaml:"keep_weekly"`
	KeepMonthly int    `yaml:"keep_monthly"`
	MinKeep     *int   `yaml:"min_keep"` // default 3
	// KeepCapture keeps capture log segments younger than this; older
	// ones go once no retained backup needs them (see
	// retention.PruneCapture).
	KeepCapture string `yaml:"keep_capture"`
}

// ConfigError is one problem in the configuration, at a line of the file.
type ConfigError struct {
	File string
	Line int
	Key  string // dotted path, e.g. policies.nightly.schedule
	Msg  string
}

// Kind makes a configuration problem a usage error.
func (e *ConfigError) Kind() errkind.Kind { return errkind.Usage }

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Key, e.Msg)
}

// LoadConfig reads and checks the configuration file. Every problem found
// is returned (joined), each a *ConfigError naming file, line and key.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errkind.New(errkind.Usage, "service config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig is LoadConfig on data read from file.
func ParseConfig(file string, data []byte) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, errkind.New(errkind.Usage, "%s: %v", file, err)
	}
	if len(doc.Content) == 0 {
		return nil, &ConfigError{File: file, Line: 1, Key: "(file)", Msg: "the configuration is empty: it needs at least repositories and policies"}
	}
	root := doc.Content[0]
	c := &checker{file: file, root: root}
	c.unknownKeys(root, reflect.TypeOf(Config{}), "")
	cfg := &Config{File: file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(cfg); err != nil {
		return nil, errkind.New(errkind.Usage, "%s: %v", file, err)
	}
	cfg.File = file
	c.validate(cfg)
	if len(c.errs) > 0 {
		sort.SliceStable(c.errs, func(i, j int) bool { return c.errs[i].(*ConfigError).Line < c.errs[j].(*ConfigError).Line })
		return nil, errors.Join(c.errs...)
	}
	return cfg, nil
}

// checker collects problems with their positions.
type checker struct {
	file string
	root *yaml.Node
	errs []error
}

func (c *checker) add(n *yaml.Node, key, format string, args ...any) {
	c.errs = append(c.errs, &ConfigError{File: c.file, Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// errorAt reports a problem at the value of the dotted key, or at its
// nearest present parent when the key is missing.
func (c *checker) errorAt(key, format string, args ...any) {
	c.add(c.node(key), key, format, args...)
}

// node finds the node of a dotted key (the nearest present parent).
func (c *checker) node(key string) *yaml.Node {
	n := c.root
	for _, part := range strings.Split(key, ".") {
		next := mapValue(n, part)
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// unknownKeys reports mapping keys that no field of t (a struct, a map of
// structs, or a pointer to one) is named by.
func (c *checker) unknownKeys(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind != yaml.MappingNode {
		return
	}
	switch t.Kind() {
	case reflect.Map:
		for i := 0; i+1 < len(n.Content); i += 2 {
			c.unknownKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
		}
	case reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				c.add(k, join(path, k.Value), "unknown key (known here: %s)", strings.Join(sortedKeys(fields), ", "))
				continue
			}
			c.unknownKeys(n.Content[i+1], ft, join(path, k.Value))
		}
	}
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			out[name] = f.Type
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// PolicyNames returns the policy names, sorted.
func (c *Config) PolicyNames() []string { return sortedKeys(c.Policies) }

// ShutdownGraceDuration is how long a stop waits for running jobs.
func (c *Config) ShutdownGraceDuration() time.Duration { return c.shutdownGrace }

// RPODuration is the policy's RPO (0 when none is set).
func (p PolicyConfig) RPODuration() time.Duration { return p.rpo }

// runMissed reports whether a run missed while the service was down runs
// at start-up.
func (p PolicyConfig) runMissed() bool { return p.RunMissed == nil || *p.RunMissed }

// milvusFor returns the name of the Milvus connection policy p uses.
func (c *Config) milvusFor(p PolicyConfig) string {
	if p.Milvus == "" && len(c.Milvus) == 1 {
		return sortedKeys(c.Milvus)[0]
	}
	return p.Milvus
}

func known(names []string) string {
	if len(names) == 0 {
		return "none is configured"
	}
	return "configured: " + strings.Join(names, ", ")
}
