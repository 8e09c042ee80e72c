package cli

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/report"
)

// nowFlag fixes the current time, so that tests and scripts get the same
// active block and time left on every run.
var nowFlag = &cli.StringFlag{Name: "now", Hidden: true, Usage: "take `TIME` (RFC 3339) as the current time (for tests and scripts)"}

// nowOf is the time given with --now, else the current time.
func nowOf(c *cli.Context) (time.Time, error) {
	s := c.String(nowFlag.Name)
	if s == "" {
		return time.Now(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, fmt.Errorf("--now: want RFC 3339 time: %w", err)
	}
	return t, nil
}

func blocksCommand() *cli.Command {
	var flags []cli.Flag
	for _, f := range usageFlags() {
		if f.Names()[0] != "breakdown" {
			flags = append(flags, f)
		}
	}
	flags = append(flags,
		&cli.BoolFlag{Name: "active", Aliases: []string{"a"}, Usage: "show only the active block"},
		&cli.BoolFlag{Name: "recent", Aliases: []string{"r"}, Usage: "show only the blocks of the last 3 days"},
		nowFlag,
	)
	return &cli.Command{
		Name:  "blocks",
		Usage: "usage per 5-hour billing window, with the active one's burn rate and projection",
		Description: "A window starts at the hour of the first reply after a pause (UTC hours) and lasts 5 hours;\n" +
			"a reply more than 5 hours after the window's start or after the previous reply opens the next.\n" +
			"--since and --until keep the windows that start on those days.",
		Flags:  flags,
		Action: blocksAction,
	}
}

func blocksAction(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unexpected argument %q", c.Args().First())
	}
	e, err := setup(c)
	if err != nil {
		return err
	}
	defer e.db.Close()
	uopt, err := usageOptions(c, report.Daily, e.cfg.Timezone)
	if err != nil {
		return err
	}
	opt := report.BlockOptions{Since: uopt.Since, Until: uopt.Until, Location: uopt.Location, Project: uopt.Project,
		Active: c.Bool("active"), Recent: c.Bool("recent")}
	if opt.Now, err = nowOf(c); err != nil {
		return err
	}
	r, err := report.UsageBlocks(c.Context, e.db, opt)
	if err != nil {
		return err
	}
	if c.Bool("json") {
		return r.WriteJSON(c.App.Writer)
	}
	return r.WriteTable(c.App.Writer)
}
