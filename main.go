// Command insights imports Claude Code transcripts into a database and
// reports on them.
package main

import (
	"fmt"
	"os"

	"github.com/claude-insights/insights/cli"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := cli.New(version).Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "insights:", err)
		os.Exit(1)
	}
}
