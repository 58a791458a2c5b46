package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/milvault/milvault/audit"
	"github.com/milvault/milvault/repo"
)

// AuditOptions are the flags of `milvault audit`.
type AuditOptions struct {
	Since string
}

// AddFlags registers the flags.
func (o *AuditOptions) AddFlags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.Since, "since", "", "only entries from this time on: RFC 3339 (2026-11-30T14:00:00Z), a date (2026-11-30) or an age (24h)")
}

func newAuditCommand(g *GlobalOptions) *cobra.Command {
	o := &AuditOptions{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "List the repository's audit trail: who backed up, restored, deleted, pruned, copied or unlocked what, when",
		Example: `  milvault audit --since 24h
  milvault audit verify       # check the hash chain`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runAudit(cmd.Context(), g, o) },
	}
	o.AddFlags(cmd)
	cmd.AddCommand(&cobra.Command{
		Use:   "verify",
		Short: "Check the audit trail's hash chain: name every entry removed, edited or moved",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return runAuditVerify(cmd.Context(), g) },
	})
	return cmd
}

func runAudit(ctx context.Context, g *GlobalOptions, o *AuditOptions) error {
	since, err := parseSince(o.Since, time.Now())
	if err != nil {
		return err
	}
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	entries, err := audit.List(ctx, r, since)
	if err != nil {
		return err
	}
	if g.JSON {
		return writeJSON(g, entries)
	}
	for _, e := range entries {
		g.printf("%s\n", auditLine(e))
	}
	if len(entries) == 0 {
		g.printf("no audit entries\n")
	}
	return nil
}

// auditLine renders one entry on one line.
func auditLine(e audit.Entry) string {
	who := e.User + "@" + e.Host
	if e.Principal != "" {
		who += " (api: " + e.Principal + ")"
	}
	line := fmt.Sprintf("%s  %-13s %-6s %s", e.Time.Format(time.RFC3339), e.Operation, e.Result, who)
	if len(e.BackupIDs) > 0 {
		line += "  backups " + strings.Join(e.BackupIDs, ",")
	}
	if len(e.Collections) > 0 {
		line += "  collections " + strings.Join(e.Collections, ",")
	}
	if e.Error != "" {
		line += "  error: " + e.Error
	}
	return line
}

// parseSince reads --since: RFC 3339, a date, or an age before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageErrorf("--since %q: give a time (2026-11-30T14:00:00Z), a date (2026-11-30) or an age (24h)", s)
}

func runAuditVerify(ctx context.Context, g *GlobalOptions) error {
	r, err := g.openRepo(ctx)
	if err != nil {
		return err
	}
	rep, err := audit.Verify(ctx, r)
	if g.JSON {
		if jerr := writeJSON(g, rep); jerr != nil {
			return jerr
		}
		return err
	}
	if err != nil {
		return err
	}
	g.printf("audit trail intact: %d entries", rep.Entries)
	if rep.Forks > 0 {
		g.printf(", %d forks of concurrent writers (joined)", rep.Forks)
	}
	g.printf("\n")
	for _, h := range rep.Heads {
		g.printf("head %s sha256:%s (keep it elsewhere to detect removal of the newest entries)\n", h.Name, h.Digest)
	}
	return nil
}

// recordAudit appends an entry for an operation that wrote to r (or to
// Milvus through it) and ended with opErr. A trail that cannot be written
// is a warning: the operation itself already happened or failed.
func (g *GlobalOptions) recordAudit(ctx context.Context, r *repo.Repository, e audit.Entry, opErr error) {
	if r == nil {
		return
	}
	e.Outcome(opErr)
	if _, err := audit.Record(context.WithoutCancel(ctx), r, e); err != nil {
		g.warnf("the audit entry for this %s was not written: %v", e.Operation, err)
	}
}
