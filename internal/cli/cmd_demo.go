package cli

import "github.com/spf13/cobra"

func newDemoCommand(g *GlobalOptions) *cobra.Command {
	return &cobra.Command{Use: "demo", Hidden: true}
}
