// Package cli defines the insights command line: global flags, subcommands
// and the wiring of config, store and ingest behind them.
package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

// New returns the insights application.
func New(version string) *cli.App {
	return &cli.App{
		Name:    "insights",
		Usage:   "search, replay and measure Claude Code sessions",
		Version: version,
		Commands: []*cli.Command{
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					_, err := fmt.Fprintln(c.App.Writer, "insights", version)
					return err
				},
			},
		},
	}
}
