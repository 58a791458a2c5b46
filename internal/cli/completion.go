package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/checksum"
	"github.com/milvault/milvault/manifest"
	"github.com/milvault/milvault/restore"
	"github.com/milvault/milvault/verify"
)

// completionTimeout bounds the repository reads of one completion: a shell
// waiting on a TAB must not hang on a slow bucket.
const completionTimeout = 5 * time.Second

// backupCommands take a backup id or name as their first argument.
var backupCommands = []string{"show", "restore", "delete", "verify", "drill", "copy"}

// enumFlags lists the fixed values of flags, by command ("" for any).
var enumFlags = map[string]map[string][]string{
	"backup":  {"compression": {"zstd", "none"}, "checksum": {string(checksum.SHA256), string(checksum.BLAKE2b), string(checksum.MD5)}, "verify": {verify.ModeChecksum, verify.ModeQuick, verify.ModeDeep}},
	"verify":  {"mode": {verify.ModeChecksum, verify.ModeQuick, verify.ModeDeep}},
	"restore": {"auto-id": {restore.AutoIDPreserve, restore.AutoIDRegenerate}},
}

// registerCompletions adds dynamic completion to the command tree: backup
// ids and names from the repository, collection names from manifests, and
// the values of every enumerated flag.
func registerCompletions(root *cobra.Command, g *GlobalOptions) {
	for _, cmd := range root.Commands() {
		name := cmd.Name()
		if slices.Contains(backupCommands, name) {
			cmd.ValidArgsFunction = g.completeBackupArg
		}
		for flag, values := range enumFlags[name] {
			_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
		if cmd.Flags().Lookup("collection") != nil && name != "backup" && name != "demo" {
			_ = cmd.RegisterFlagCompletionFunc("collection", g.completeCollections)
		}
	}
}

// completeBackupArg offers the repository's backups (ids and names, newest
// first, described by date and collections) for the first argument.
func (g *GlobalOptions) completeBackupArg(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 && cmd.Name() != "delete" {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	all, err := g.completionManifests(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	var out []string
	for _, m := range all {
		desc := m.CreatedAt.Local().Format("2006-01-02 15:04") + " " + m.CollectionSet()
		if m.Name != "" {
			out = append(out, m.Name+"\t"+m.ID+" "+desc)
		}
		out = append(out, m.ID+"\t"+desc)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeCollections offers collection names: those of the backup named
// in the arguments, else of every backup in the repository.
func (g *GlobalOptions) completeCollections(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	all, err := g.completionManifests(cmd)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	seen := map[string]bool{}
	var out []string
	for _, m := range all {
		if len(args) > 0 && m.ID != args[0] && m.Name != args[0] {
			continue
		}
		for _, c := range m.Collections {
			if !seen[c.QualifiedName()] {
				seen[c.QualifiedName()] = true
				out = append(out, fmt.Sprintf("%s\t%s rows", c.QualifiedName(), strings.TrimSpace(fmt.Sprint(c.Rows))))
			}
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completionManifests lists the repository's backups. Completion runs
// without the pre-run hook, so the options are resolved here.
func (g *GlobalOptions) completionManifests(cmd *cobra.Command) ([]*manifest.Manifest, error) {
	if err := g.preRun(cmd); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionTimeout)
	defer cancel()
	r, err := g.openRepo(ctx)
	if err != nil {
		return nil, err
	}
	all, _, err := r.List(ctx)
	return all, err
}
