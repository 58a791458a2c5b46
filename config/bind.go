package config

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/milvault/milvault/errkind"
)

// Unbound lists the flags that neither the environment nor the file set:
// help and version are actions, config and profile select the file's
// content (their environment variables are read before the others).
var Unbound = map[string]bool{"help": true, "version": true, "config": true, "profile": true}

// Apply sets every flag of fs that was not given on the command line: from
// the environment (MILVAULT_<COMMAND>_<FLAG>, then MILVAULT_<FLAG>), else
// from the file (the command's section, then the top level). Flags given on
// the command line win; what none of them sets keeps its default. env looks
// up a variable (os.LookupEnv); f may be nil. Errors are of kind
// errkind.Usage and name where the bad value came from.
func Apply(fs *pflag.FlagSet, command string, env func(string) (string, bool), f *File) error {
	var err error
	fs.VisitAll(func(fl *pflag.Flag) {
		if err != nil || fl.Changed || Unbound[fl.Name] {
			return
		}
		err = applyOne(fl, command, env, f)
	})
	return err
}

func applyOne(fl *pflag.Flag, command string, env func(string) (string, bool), f *File) error {
	for _, name := range []string{EnvName(command, fl.Name), EnvName("", fl.Name)} {
		if v, ok := env(name); ok && v != "" {
			return set(fl, splitList(fl, v), name)
		}
	}
	if v, ok := f.lookup(command, fl.Name); ok {
		return set(fl, fileValues(v), fmt.Sprintf("config file %s, key %s", f.Path, fl.Name))
	}
	return nil
}

// splitList splits a list flag's environment value at commas.
func splitList(fl *pflag.Flag, v string) []string {
	if _, ok := fl.Value.(pflag.SliceValue); ok {
		return strings.Split(v, ",")
	}
	return []string{v}
}

// fileValues turns a YAML value (scalar or sequence) into flag strings.
func fileValues(v any) []string {
	if list, ok := v.([]any); ok {
		out := make([]string, len(list))
		for i, x := range list {
			out[i] = fmt.Sprint(x)
		}
		return out
	}
	if v == nil {
		return []string{""}
	}
	return []string{fmt.Sprint(v)}
}

// set gives fl the values and marks it set, as the command line would.
func set(fl *pflag.Flag, vals []string, from string) error {
	if sv, ok := fl.Value.(pflag.SliceValue); ok {
		if err := sv.Replace(vals); err != nil {
			return errkind.New(errkind.Usage, "%s: %v", from, err)
		}
		fl.Changed = true
		return nil
	}
	if len(vals) != 1 {
		return errkind.New(errkind.Usage, "%s: --%s takes one value, got a list", from, fl.Name)
	}
	if err := fl.Value.Set(vals[0]); err != nil {
		return errkind.New(errkind.Usage, "%s: invalid value %q for --%s: %v", from, vals[0], fl.Name, err)
	}
	fl.Changed = true
	return nil
}
