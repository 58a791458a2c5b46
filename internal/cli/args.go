package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// noArgs refuses positional arguments with a usage error (cobra.NoArgs
// returns an unclassified one).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("%s takes no arguments, got %q (see %s --help)", cmd.CommandPath(), strings.Join(args, " "), cmd.CommandPath())
	}
	return nil
}

// maxArgs refuses more than n positional arguments with a usage error.
func maxArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErrorf("%s takes %s, got %q", cmd.CommandPath(), what, strings.Join(args, " "))
		}
		return nil
	}
}
