package cli

import (
	"bufio"
	"fmt"
	"strings"
)

// confirm asks the operator to type answer before a destructive action.
// Without a terminal it refuses unless yes is set.
func confirm(g *GlobalOptions, yes bool, action, answer string) error {
	if yes {
		return nil
	}
	if !isTerminal(g.stdin) {
		return conflictErrorf("%s needs confirmation: pass --yes (no terminal to ask)", action)
	}
	fmt.Fprintf(g.stderr, "About to %s. Type %q to continue: ", action, answer)
	line, _ := bufio.NewReader(g.stdin).ReadString('\n')
	if strings.TrimSpace(line) != answer {
		return conflictErrorf("not confirmed; nothing was changed")
	}
	return nil
}
