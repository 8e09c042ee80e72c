package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/exporter"
	"github.com/claude-insights/insights/store"
)

// exportLock is the advisory lock of the Parquet export: of several
// servers on one database, one exports at a time.
const exportLock = "parquet-export"

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write Parquet snapshots, a directory per UTC day",
		Description: "Writes DIR/date=YYYY-MM-DD/{sessions,messages,tool_calls,file_changes,usage,daily_stats}.parquet\n" +
			"and _manifest.json (files, row counts, SHA-256) for each UTC day, from the database of either mode.\n" +
			"Each file is complete before it is renamed into place. Without dates, it writes every day that is\n" +
			"missing from DIR or whose rows changed since it was written; --date, --since and --until write the\n" +
			"days named whatever DIR holds. In team mode, messages are written only for users who share in full,\n" +
			"and tool input and output likewise; the server also writes the days before each day at\n" +
			"export.time_of_day.\n\n" +
			"Read them with DuckDB: SELECT * FROM read_parquet('DIR/*/usage.parquet', hive_partitioning = true)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "date", Usage: "write the UTC day `DATE` (YYYY-MM-DD)"},
			&cli.StringFlag{Name: "since", Usage: "write every day holding rows from `DATE` (YYYY-MM-DD) on"},
			&cli.StringFlag{Name: "until", Usage: "write every day holding rows up to `DATE` (YYYY-MM-DD)"},
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Usage: "`DIR` to write into (default: export.dir)"},
		},
		Action: runExport,
	}
}

// exportRange reads --date, --since and --until; named is false when none
// is set.
func exportRange(c *cli.Context) (since, until time.Time, named bool, err error) {
	parse := func(flag string) (time.Time, error) {
		s := c.String(flag)
		if s == "" {
			return time.Time{}, nil
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return t, fmt.Errorf("--%s %q: want a date as YYYY-MM-DD", flag, s)
		}
		return t, nil
	}
	if c.IsSet("date") && (c.IsSet("since") || c.IsSet("until")) {
		return since, until, false, errors.New("--date goes alone: use --since and --until for a range")
	}
	if since, err = parse("since"); err != nil {
		return
	}
	if until, err = parse("until"); err != nil {
		return
	}
	if c.IsSet("date") {
		if since, err = parse("date"); err != nil {
			return
		}
		until = since
	}
	if !since.IsZero() && !until.IsZero() && until.Before(since) {
		return since, until, false, fmt.Errorf("--until %s is before --since %s", c.String("until"), c.String("since"))
	}
	return since, until, !since.IsZero() || !until.IsZero(), nil
}

func runExport(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("export takes no arguments (see insights export --help)")
	}
	since, until, named, err := exportRange(c)
	if err != nil {
		return err
	}
	e, err := setup(c)
	if err != nil {
		return err
	}
	defer e.db.Close()
	ctx, stop := contextOf(c)
	defer stop()
	dir := e.cfg.Export.Dir
	if c.IsSet("out") {
		dir = c.String("out")
	}
	x, err := exporter.New(e.db, exporter.Options{Dir: dir, Compression: e.cfg.Export.Compression})
	if err != nil {
		return err
	}
	if team, ok := e.db.(store.Team); ok {
		unlock, ok, err := team.TryLock(ctx, exportLock)
		if err != nil {
			return err
		}
		if !ok {
			return errors.New("another server is exporting to Parquet now: try again when it is done")
		}
		defer unlock()
	}
	start := time.Now()
	w := c.App.ErrWriter
	done := func(i, n int, m exporter.Manifest) {
		fmt.Fprintf(w, "%s  %9d rows  %9s  (%d/%d)\n", m.Date, m.Rows(), megabytes(m.Bytes()), i, n)
	}
	var ms []exporter.Manifest
	if named {
		ms, err = exportDays(ctx, e.db, x, since, until, done)
	} else {
		ms, err = x.Sync(ctx, time.Time{}, time.Time{}, done)
	}
	var rows, bytes int64
	for _, m := range ms {
		rows, bytes = rows+m.Rows(), bytes+m.Bytes()
	}
	if len(ms) == 0 && err == nil {
		fmt.Fprintf(c.App.Writer, "nothing to write: %s is up to date\n", dir)
		return nil
	}
	unit := "days"
	if len(ms) == 1 {
		unit = "day"
	}
	fmt.Fprintf(c.App.Writer, "wrote %d %s (%d rows, %s) to %s in %s\n", len(ms), unit, rows, megabytes(bytes), dir,
		time.Since(start).Round(time.Millisecond))
	return err
}

// exportDays writes the days from since to until that hold rows (a single
// day named by --date is written even if empty), whatever the directory has.
func exportDays(ctx context.Context, db store.Exports, x *exporter.Exporter, since, until time.Time,
	done func(i, n int, m exporter.Manifest)) ([]exporter.Manifest, error) {
	days, err := db.ExportDays(ctx, since, until)
	if err != nil {
		return nil, err
	}
	if len(days) == 0 && since.Equal(until) {
		days = []store.ExportDay{{Day: since}}
	}
	var out []exporter.Manifest
	for i, d := range days {
		m, err := x.Day(ctx, d.Day)
		if err != nil {
			return out, err
		}
		out = append(out, m)
		done(i+1, len(days), m)
	}
	return out, nil
}
