package cli

import (
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/report"
)

func usageFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "since", Usage: "first `DATE` to include (YYYY-MM-DD or YYYYMMDD)"},
		&cli.StringFlag{Name: "until", Usage: "last `DATE` to include (YYYY-MM-DD or YYYYMMDD)"},
		&cli.StringFlag{Name: "timezone", Aliases: []string{"z"}, Usage: "IANA `ZONE` that days are counted in (default: config, else local)"},
		&cli.StringFlag{Name: "project", Usage: "only sessions whose working directory is `DIR` or ends with it"},
		&cli.BoolFlag{Name: "breakdown", Aliases: []string{"b"}, Usage: "show each model's usage under each row; for sessions, also who spent it (main thread, each subagent, skills, MCP servers)"},
		&cli.BoolFlag{Name: "json", Aliases: []string{"j"}, Usage: "print JSON in the shape of ccusage's --json output"},
	}
}

func usageCommand() *cli.Command {
	sub := func(p report.Period, usage string) *cli.Command {
		return &cli.Command{Name: string(p), Usage: usage, Flags: usageFlags(), Action: usageAction(p)}
	}
	return &cli.Command{
		Name:      "usage",
		Usage:     "print token and cost reports (daily by default)",
		ArgsUsage: "[daily|weekly|monthly|session|blocks]",
		Description: "Each API reply is counted once, with its final usage, whichever files it appears in.\n" +
			"Reports read the database only: run `insights import` (or the daemon) to bring it up to date.",
		Flags:  usageFlags(),
		Action: usageAction(report.Daily),
		Subcommands: []*cli.Command{
			sub(report.Daily, "usage per day"),
			sub(report.Weekly, "usage per week (weeks start on Monday)"),
			sub(report.Monthly, "usage per month"),
			sub(report.Session, "usage per session"),
			blocksCommand(),
		},
	}
}

func usageAction(p report.Period) cli.ActionFunc {
	return func(c *cli.Context) error {
		if c.Args().Present() {
			return fmt.Errorf("unknown report %q: want daily, weekly, monthly, session or blocks", c.Args().First())
		}
		e, err := setup(c)
		if err != nil {
			return err
		}
		defer e.db.Close()
		opt, err := usageOptions(c, p, e.cfg.Timezone)
		if err != nil {
			return err
		}
		r, err := report.Usage(c.Context, e.db, opt)
		if err != nil {
			return err
		}
		if c.Bool("json") {
			return r.WriteJSON(c.App.Writer, opt.Location)
		}
		return r.WriteTable(c.App.Writer, c.Bool("breakdown"))
	}
}

func usageOptions(c *cli.Context, p report.Period, defaultZone string) (report.Options, error) {
	opt := report.Options{Period: p, Project: c.String("project"),
		SpentBy: p == report.Session && c.Bool("breakdown")}
	zone := defaultZone
	if c.IsSet("timezone") {
		zone = c.String("timezone")
	}
	var err error
	if opt.Location, err = location(zone); err != nil {
		return opt, err
	}
	if s := c.String("since"); s != "" {
		if opt.Since, err = report.ParseDate(s, opt.Location); err != nil {
			return opt, fmt.Errorf("--since: %w", err)
		}
	}
	if s := c.String("until"); s != "" {
		if opt.Until, err = report.ParseDate(s, opt.Location); err != nil {
			return opt, fmt.Errorf("--until: %w", err)
		}
	}
	if !opt.Since.IsZero() && !opt.Until.IsZero() && opt.Until.Before(opt.Since) {
		return opt, fmt.Errorf("--until %s is before --since %s", c.String("until"), c.String("since"))
	}
	return opt, nil
}

// location is the time zone named (IANA), or the local one for "".
func location(zone string) (*time.Location, error) {
	if zone == "" {
		return time.Local, nil
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", zone, err)
	}
	return loc, nil
}
