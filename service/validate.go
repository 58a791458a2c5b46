package service

import (
	"fmt"
	"os"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/milvault/milvault/backup"
	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/config"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/native"
	"github.com/milvault/milvault/repo"
	"github.com/milvault/milvault/repo/blob"
	"github.com/milvault/milvault/retention"
	"github.com/milvault/milvault/schedule"
)

// Verification modes a policy may run after each backup.
const (
	VerifyNone     = "none"
	VerifyChecksum = "checksum"
	VerifyQuick    = "quick"
	// VerifyDeep (scheduled verifications only) restores the backup into
	// scratch collections and compares every row.
	VerifyDeep = "deep"
)

func (c *checker) validate(cfg *Config) {
	cfg.shutdownGrace = c.duration("shutdown_grace", cfg.ShutdownGrace, 5*time.Minute)
	cfg.lockWait = c.duration("lock_wait", cfg.LockWait, time.Minute)
	if cfg.MaxConcurrentJobs < 0 || cfg.JobHistory < 0 {
		c.errorAt("max_concurrent_jobs", "max_concurrent_jobs and job_history must not be negative")
	}
	for name, m := range cfg.Milvus {
		cfg.Milvus[name] = c.milvus("milvus."+name, m)
	}
	for name, r := range cfg.Repositories {
		cfg.Repositories[name] = c.repository("repositories."+name, r)
	}
	if len(cfg.Policies) == 0 {
		c.errorAt("policies", "no policies: add at least one under policies:")
	}
	for name, p := range cfg.Policies {
		if manifest.ValidateRef("name", name) != nil {
			c.errorAt("policies."+name, "policy names use letters, digits, '.', '_' or '-', starting with a letter or digit")
		}
		cfg.Policies[name] = c.policy(cfg, "policies."+name, p)
	}
}

// duration reads a duration with d (days) and w (weeks) units too.
func (c *checker) duration(key, v string, def time.Duration) time.Duration {
	if v == "" {
		return def
	}
	d, err := config.ParseDuration(v)
	if err == nil && d == 0 {
		err = fmt.Errorf("%q: use a duration above zero, e.g. 90s, 12h, 30d or 2w", v)
	}
	if err != nil {
		c.errorAt(key, "%v", err)
	}
	return d
}

func (c *checker) milvus(key string, m MilvusConfig) MilvusConfig {
	if m.Address == "" {
		c.errorAt(key+".address", "missing: the Milvus address, host:port")
	}
	if m.TokenEnv != "" || m.TokenFile != "" {
		m.token = c.secret(key, m.TokenEnv, m.TokenFile, "token")
	}
	conf, err := m.tlsFiles().Config()
	if err != nil {
		c.errorAt(key+".tls", "%v", err)
	}
	m.tls = conf
	return m
}

// secret reads a secret from the environment variable env or the file
// file (exactly one of them, keys <what>_env and <what>_file under key).
func (c *checker) secret(key, env, file, what string) string {
	switch {
	case env != "" && file != "":
		c.errorAt(key+"."+what+"_file", "give %s_env or %s_file, not both", what, what)
	case env != "":
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			c.errorAt(key+"."+what+"_env", "environment variable %s is not set", env)
		}
		return v
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			c.errorAt(key+"."+what+"_file", "cannot read the %s file: %v", what, err)
		}
		return strings.TrimSpace(string(data))
	default:
		c.errorAt(key, "give %s_env or %s_file", what, what)
	}
	return ""
}

func (c *checker) repository(key string, r RepositoryConfig) RepositoryConfig {
	if r.URL == "" {
		c.errorAt(key+".url", "missing: a folder or a bucket URL (s3://, gs://, azblob://, file://)")
		return r
	}
	if strings.Contains(blob.RedactURL(r.URL), "REDACTED") {
		c.errorAt(key+".url", "the URL holds a credential: remove it and give it in the environment (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_KEY)")
	}
	if r.PasswordEnv != "" || r.PasswordFile != "" {
		r.creds.Passphrase = c.secret(key, r.PasswordEnv, r.PasswordFile, "password")
	}
	if r.IdentityFile != "" {
		r.creds.Identities = c.identities(key+".identity_file", r.IdentityFile)
	}
	return r
}

// identities reads an age identity file.
func (c *checker) identities(key, file string) []age.Identity {
	f, err := os.Open(file)
	if err != nil {
		c.errorAt(key, "cannot read the identity file: %v", err)
		return nil
	}
	defer f.Close()
	ids, err := repo.ParseIdentities(f)
	if err != nil {
		c.errorAt(key, "%v", err)
	}
	return ids
}

func (c *checker) policy(cfg *Config, key string, p PolicyConfig) PolicyConfig {
	if _, err := schedule.Parse(p.Schedule); err != nil {
		c.errorAt(key+".schedule", "%v", err)
	}
	reference(c, key+".repository", p.Repository, cfg.Repositories)
	reference(c, key+".milvus", cfg.milvusFor(p), cfg.Milvus)
	for i, to := range p.CopyTo {
		k := fmt.Sprintf("%s.copy_to[%d]", key, i)
		if to == p.Repository {
			c.errorAt(key+".copy_to", "copy_to[%d] is the policy's own repository %s", i, to)
			continue
		}
		if _, ok := cfg.Repositories[to]; !ok {
			c.errorAt(key+".copy_to", "%s: unknown repository %q (%s)", k, to, known(sortedKeys(cfg.Repositories)))
		}
	}
	if len(p.Partitions) > 0 && len(p.Collections) != 1 {
		c.errorAt(key+".partitions", "partitions need exactly one collection")
	}
	if p.AllDatabases && (p.Database != "" || len(p.Collections) > 0) {
		c.errorAt(key+".all_databases", "all_databases excludes database and collections")
	}
	switch p.Verify {
	case "":
		p.Verify = VerifyChecksum
	case VerifyNone, VerifyChecksum, VerifyQuick:
	default:
		c.errorAt(key+".verify", "%q: use checksum, quick or none", p.Verify)
	}
	if p.Backup.Checksum != "" {
		if _, err := checksum.Parse(p.Backup.Checksum); err != nil {
			c.errorAt(key+".backup.checksum", "%v", err)
		}
	}
	if p.Backup.ChunkSize != "" {
		if _, err := config.ParseSize(p.Backup.ChunkSize); err != nil {
			c.errorAt(key+".backup.chunk_size", "%v", err)
		}
	}
	p.Backup = c.backupOptions(key+".backup", p.Backup)
	if _, err := p.Retention.policy(); err != nil {
		c.errorAt(key+".retention", "%v", err)
	}
	if _, err := p.Retention.keepCapture(); err != nil {
		c.errorAt(key+".retention.keep_capture", "%v", err)
	}
	if p.RPO != "" {
		p.rpo = c.duration(key+".rpo", p.RPO, 0)
	}
	if v := p.Verification; v != nil {
		if _, err := schedule.Parse(v.Schedule); err != nil {
			c.errorAt(key+".verification.schedule", "%v", err)
		}
		if v.Mode != VerifyChecksum && v.Mode != VerifyQuick && v.Mode != VerifyDeep {
			c.errorAt(key+".verification.mode", "%q: use checksum, quick or deep", v.Mode)
		}
	}
	if p.Drill != nil {
		d := *p.Drill
		if _, err := schedule.Parse(d.Schedule); err != nil {
			c.errorAt(key+".drill.schedule", "%v", err)
		}
		if d.Milvus != "" {
			reference(c, key+".drill.milvus", d.Milvus, cfg.Milvus)
		}
		d.maxRTO = c.duration(key+".drill.max_rto", d.MaxRTO, 0)
		if p.Backup.Mode != "" && p.Backup.Mode != native.ModeLogical && d.Milvus != "" && d.Milvus != cfg.milvusFor(p) && d.MilvusStorage == "" {
			c.errorAt(key+".drill.milvus", "native backups are drilled by binlog import through the target's storage: set drill.milvus_storage for Milvus %s", d.Milvus)
		}
		p.Drill = &d
	}
	if p.Webhook != nil {
		w := *p.Webhook
		w.url = c.secret(key+".webhook", w.URLEnv, w.URLFile, "url")
		p.Webhook = &w
	}
	return p
}

// reference checks that name is a key of m.
func reference[V any](c *checker, key, name string, m map[string]V) {
	switch _, ok := m[name]; {
	case name == "":
		c.errorAt(key, "missing (%s)", known(sortedKeys(m)))
	case !ok:
		c.errorAt(key, "unknown name %q (%s)", name, known(sortedKeys(m)))
	}
}

// policy returns the retention policy; an empty one means "never prune".
func (r RetentionConfig) policy() (retention.Policy, error) {
	p := retention.Policy{KeepLast: r.KeepLast, KeepDaily: r.KeepDaily, KeepWeekly: r.KeepWeekly, KeepMonthly: r.KeepMonthly, MinKeep: 3}
	if r.MinKeep != nil {
		p.MinKeep = *r.MinKeep
	}
	if r.KeepWithin != "" {
		d, err := config.ParseDuration(r.KeepWithin)
		if err != nil {
			return p, fmt.Errorf("keep_within: %w", err)
		}
		p.KeepWithin = d
	}
	return p, p.Validate()
}

// keepCapture returns the keep window of the capture log (0: none).
func (r RetentionConfig) keepCapture() (time.Duration, error) {
	if r.KeepCapture == "" {
		return 0, nil
	}
	d, err := config.ParseDuration(r.KeepCapture)
	if err == nil && d < 0 {
		err = fmt.Errorf("%s: must be positive", r.KeepCapture)
	}
	return d, err
}

// backupOptions checks a policy's scan workers and backup mode, and the
// native options that go with the mode.
func (c *checker) backupOptions(key string, b BackupConfig) BackupConfig {
	if err := (backup.Params{ScanWorkers: b.ScanWorkers, Collections: []string{"x"}}).Validate(); err != nil {
		c.errorAt(key+".scan_workers", "%v", err)
	}
	switch b.Mode {
	case "", native.ModeLogical:
		for k, v := range map[string]string{"milvus_storage": b.MilvusStorage, "milvus_metrics": b.MilvusMetrics, "gc_pause": b.GCPause} {
			if v != "" {
				c.errorAt(key+"."+k, "%s applies to native backups only: set mode: native or auto, or remove it", k)
			}
		}
		return b
	case native.ModeNative, native.ModeAuto:
	default:
		c.errorAt(key+".mode", "%q: use logical, native or auto", b.Mode)
		return b
	}
	if b.MilvusStorage == "" {
		c.errorAt(key+".mode", "mode %s needs milvus_storage: Milvus's object storage, e.g. s3://bucket/files?endpoint=http://minio:9000&use_path_style=true (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) or the local storage folder of a standalone on this host", b.Mode)
	}
	if b.GCPause != "" {
		if b.gcPause = c.duration(key+".gc_pause", b.GCPause, 0); b.gcPause < 0 {
			c.errorAt(key+".gc_pause", "%s: give a positive duration", b.GCPause)
		}
	}
	return b
}
