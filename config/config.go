// Package config resolves milvault's settings from command-line flags,
// MILVAULT_* environment variables and a YAML config file, in that
// precedence, over the flag definitions themselves: every flag is also an
// environment variable and a config key, so nothing is listed twice.
//
// The config file holds flag names as keys (chunk-size: 64MiB). A key whose
// value is a mapping and whose name is a command's name is a section that
// applies to that command only and wins over the top-level keys:
//
//	repo: s3://backups/milvus
//	retries: 8
//	backup:
//	  chunk-size: 64MiB
//	  collection: [docs, users]
//
// A "profiles" mapping holds named sets of keys (each with its own command
// sections) for several Milvus instances or repositories in one file;
// --profile (or MILVAULT_PROFILE) selects one, whose keys win over the rest
// of the file:
//
//	profiles:
//	  prod:
//	    milvus: milvus.prod:19530
//	    repo: s3://backups/prod
//	    backup:
//	      verify: quick
//
// In the environment, MILVAULT_<FLAG> (dashes as underscores, upper case)
// applies to every command that has the flag, and MILVAULT_<COMMAND>_<FLAG>
// to one command, winning over MILVAULT_<FLAG>.
package config

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/milvault/milvault/errkind"
)

// EnvPrefix starts every environment variable milvault reads.
const EnvPrefix = "MILVAULT_"

// EnvName returns the environment variable of a flag: chunk-size is
// MILVAULT_CHUNK_SIZE, and with a command, backup's chunk-size is
// MILVAULT_BACKUP_CHUNK_SIZE.
func EnvName(command, flag string) string {
	name := flag
	if command != "" {
		name = command + "_" + flag
	}
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// File is a parsed config file.
type File struct {
	Path     string
	top      map[string]any
	sections map[string]map[string]any
	profiles map[string]*File
	profile  *File // the selected profile, see Use
}

// profilesKey holds the named profiles in a config file.
const profilesKey = "profiles"

// Load reads and parses the YAML config file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errkind.New(errkind.Usage, "config file: %w", err)
	}
	return Parse(path, data)
}

// Parse parses a YAML config file's content; path names it in errors.
func Parse(path string, data []byte) (*File, error) {
	var raw map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil && !errors.Is(err, io.EOF) {
		return nil, errkind.New(errkind.Usage, "config file %s: %v", path, err)
	}
	f := fromMap(path, raw)
	if profiles, ok := raw[profilesKey].(map[string]any); ok {
		delete(f.sections, profilesKey)
		f.profiles = map[string]*File{}
		for name, v := range profiles {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, errkind.New(errkind.Usage, "config file %s: profile %q is not a mapping of keys", path, name)
			}
			f.profiles[name] = fromMap(path+" profile "+name, m)
		}
	}
	return f, nil
}

// Use selects a profile of the file; "" selects none.
func (f *File) Use(profile string) error {
	if profile == "" {
		f.profile = nil
		return nil
	}
	p, ok := f.profiles[profile]
	if !ok {
		var names []string
		for n := range f.profiles {
			names = append(names, n)
		}
		sort.Strings(names)
		return errkind.New(errkind.Usage, "config file %s has no profile %q (profiles: %s)", f.Path, profile, strings.Join(names, ", "))
	}
	f.profile = p
	return nil
}

func fromMap(path string, raw map[string]any) *File {
	f := &File{Path: path, top: map[string]any{}, sections: map[string]map[string]any{}}
	for k, v := range raw {
		if sec, ok := v.(map[string]any); ok {
			f.sections[k] = normalizeKeys(sec)
			continue
		}
		f.top[normalizeKey(k)] = v
	}
	return f
}

func normalizeKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[normalizeKey(k)] = v
	}
	return out
}

// normalizeKey accepts chunk_size for chunk-size.
func normalizeKey(k string) string { return strings.ReplaceAll(k, "_", "-") }

// Check refuses keys that name no flag, in the file and in its profiles:
// flags lists each command's flag names by command name ("" for the flags
// every command has).
func (f *File) Check(flags map[string][]string) error {
	for _, p := range f.profiles {
		if err := p.Check(flags); err != nil {
			return err
		}
	}
	all := map[string]bool{}
	for _, names := range flags {
		for _, n := range names {
			all[n] = true
		}
	}
	var bad []string
	for k := range f.top {
		if !all[k] {
			bad = append(bad, k)
		}
	}
	for cmd, sec := range f.sections {
		names, ok := flags[cmd]
		if !ok || cmd == "" {
			bad = append(bad, cmd+" (not a command)")
			continue
		}
		known := map[string]bool{}
		for _, n := range append(names, flags[""]...) {
			known[n] = true
		}
		for k := range sec {
			if !known[k] {
				bad = append(bad, cmd+"."+k)
			}
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return errkind.New(errkind.Usage, "config file %s: unknown keys %s (keys are the long flag names, see docs/config.md)", f.Path, strings.Join(bad, ", "))
	}
	return nil
}

// lookup returns the file's value of a flag for command.
func (f *File) lookup(command, flag string) (any, bool) {
	if f == nil {
		return nil, false
	}
	if v, ok := f.profile.lookup(command, flag); ok {
		return v, true
	}
	if v, ok := f.sections[command][flag]; ok {
		return v, true
	}
	v, ok := f.top[flag]
	return v, ok
}
