package config

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/errkind"
)

type testFlags struct {
	chunk   int64
	wait    time.Duration
	retries int
	colls   []string
	fs      *pflag.FlagSet
}

func newTestFlags(t *testing.T, args ...string) *testFlags {
	t.Helper()
	tf := &testFlags{fs: pflag.NewFlagSet("backup", pflag.ContinueOnError)}
	SizeVar(tf.fs, &tf.chunk, "chunk-size", 256<<20, "")
	DurationVar(tf.fs, &tf.wait, "lock-wait", 0, "")
	tf.fs.IntVar(&tf.retries, "retries", 5, "")
	tf.fs.StringArrayVarP(&tf.colls, "collection", "c", nil, "")
	if err := tf.fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return tf
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestApplyPrecedence(t *testing.T) {
	file, err := Parse("c.yaml", []byte("chunk-size: 1GiB\nlock_wait: 2w\nretries: 9\ncollection: [a, b]\nbackup:\n  retries: 7\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		chunk   int64
		wait    time.Duration
		retries int
		colls   string
	}{
		{"file, section over top level", nil, nil, 1 << 30, 14 * 24 * time.Hour, 7, "a,b"},
		{"env over file", nil, map[string]string{"MILVAULT_CHUNK_SIZE": "64MiB", "MILVAULT_LOCK_WAIT": "1d", "MILVAULT_COLLECTION": "x,y,z"},
			64 << 20, 24 * time.Hour, 7, "x,y,z"},
		{"command env over env", nil, map[string]string{"MILVAULT_RETRIES": "2", "MILVAULT_BACKUP_RETRIES": "3"}, 1 << 30, 14 * 24 * time.Hour, 3, "a,b"},
		{"flags over env", []string{"--chunk-size", "2MB", "--retries", "1", "-c", "q"}, map[string]string{"MILVAULT_CHUNK_SIZE": "64MiB", "MILVAULT_RETRIES": "2"},
			2e6, 14 * 24 * time.Hour, 1, "q"},
		{"empty env is unset", nil, map[string]string{"MILVAULT_CHUNK_SIZE": ""}, 1 << 30, 14 * 24 * time.Hour, 7, "a,b"},
	}
	for _, tt := range tests {
		tf := newTestFlags(t, tt.args...)
		if err := Apply(tf.fs, "backup", envOf(tt.env), file); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if tf.chunk != tt.chunk || tf.wait != tt.wait || tf.retries != tt.retries || strings.Join(tf.colls, ",") != tt.colls {
			t.Errorf("%s: chunk %d, wait %v, retries %d, collections %v; want %d, %v, %d, %s",
				tt.name, tf.chunk, tf.wait, tf.retries, tf.colls, tt.chunk, tt.wait, tt.retries, tt.colls)
		}
	}
	tf := newTestFlags(t)
	if err := Apply(tf.fs, "backup", envOf(nil), nil); err != nil || tf.chunk != 256<<20 || tf.retries != 5 {
		t.Errorf("defaults: chunk %d, retries %d, err %v", tf.chunk, tf.retries, err)
	}
}

func TestApplyErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		yaml string
		want string
	}{
		{map[string]string{"MILVAULT_CHUNK_SIZE": "lots"}, "", "MILVAULT_CHUNK_SIZE"},
		{map[string]string{"MILVAULT_LOCK_WAIT": "soon"}, "", "MILVAULT_LOCK_WAIT"},
		{nil, "retries: many\n", "key retries"},
		{nil, "retries: [1, 2]\n", "takes one value"},
	}
	for _, tt := range tests {
		file, err := Parse("c.yaml", []byte(tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		err = Apply(newTestFlags(t).fs, "backup", envOf(tt.env), file)
		if errkind.Of(err) != errkind.Usage || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("env %v, yaml %q: %v; want a usage error naming %q", tt.env, tt.yaml, err, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	flags := map[string][]string{"": {"repo", "retries"}, "backup": {"chunk-size"}, "list": {"collection"}}
	file, _ := Parse("c.yaml", []byte("repo: /r\nchunk-size: 1GiB\nbackup:\n  retries: 2\n  chunk-size: 1MiB\n"))
	if err := file.Check(flags); err != nil {
		t.Errorf("valid file: %v", err)
	}
	file, _ = Parse("c.yaml", []byte("colour: blue\nbackup:\n  collection: x\nrestore:\n  x: 1\n"))
	err := file.Check(flags)
	if errkind.Of(err) != errkind.Usage || !strings.Contains(err.Error(), "backup.collection, colour, restore (not a command)") {
		t.Errorf("bad keys: %v", err)
	}
}

func TestProfiles(t *testing.T) {
	file, err := Parse("c.yaml", []byte("retries: 9\nchunk-size: 1GiB\nbackup:\n  retries: 7\nprofiles:\n  prod:\n    chunk-size: 2GiB\n    backup:\n      lock-wait: 1d\n  dev:\n    retries: 1\n"))
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string][]string{"": {"retries", "chunk-size"}, "backup": {"lock-wait"}}
	if err := file.Check(flags); err != nil {
		t.Fatalf("Check: %v", err)
	}
	tests := []struct {
		profile string
		chunk   int64
		wait    time.Duration
		retries int
	}{{"", 1 << 30, 0, 7}, {"prod", 2 << 30, 24 * time.Hour, 7}, {"dev", 1 << 30, 0, 1}}
	for _, tt := range tests {
		if err := file.Use(tt.profile); err != nil {
			t.Fatal(err)
		}
		tf := newTestFlags(t)
		if err := Apply(tf.fs, "backup", envOf(nil), file); err != nil {
			t.Fatal(err)
		}
		if tf.chunk != tt.chunk || tf.wait != tt.wait || tf.retries != tt.retries {
			t.Errorf("profile %q: chunk %d, wait %v, retries %d; want %d, %v, %d", tt.profile, tf.chunk, tf.wait, tf.retries, tt.chunk, tt.wait, tt.retries)
		}
	}
	if err := file.Use("staging"); errkind.Of(err) != errkind.Usage || !strings.Contains(err.Error(), "profiles: dev, prod") {
		t.Errorf("Use(staging) = %v, want a usage error listing the profiles", err)
	}
	bad, _ := Parse("c.yaml", []byte("profiles:\n  prod:\n    colour: blue\n"))
	if err := bad.Check(flags); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Errorf("Check with an unknown key in a profile = %v", err)
	}
}
