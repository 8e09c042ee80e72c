package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/synth"
)

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "tools for measuring insights (and its peers) on generated data",
		Subcommands: []*cli.Command{{
			Name:      "gen",
			Usage:     "write a synthetic Claude directory with known token totals",
			ArgsUsage: "[--size SIZE] [--seed N] [--broken] DIR",
			Description: "Writes projects/, history.jsonl, todos/ and plans/ under DIR, an empty or new directory, in\n" +
				"the real transcript format: streamed replies split over several lines, subagents (with and\n" +
				"without their own file), tool errors, Edit and Write patches, images, compactions, resumed\n" +
				"sessions that copy earlier records, several models and days. DIR/" + synth.ExpectedFile + " holds the\n" +
				"token totals per UTC day and model that a correct report shows. The same --seed and --size\n" +
				"always write the same bytes.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "size", Value: "250MB", Usage: "about how much to write: `SIZE` in bytes, or with KB, MB or GB (powers of 1000, as sizes are printed)"},
				&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "`N` that decides everything written"},
				&cli.BoolFlag{Name: "broken", Usage: "also write lines a reader must skip (cut-short records, text that is not JSON) and byte-order marks"},
				&cli.IntFlag{Name: "days", Value: 60, Usage: "spread sessions over `N` days"},
				&cli.StringFlag{Name: "start", Value: "2026-01-05", Usage: "first `DATE` (UTC) sessions may start on"},
			},
			Action: benchGen,
		}},
	}
}

func benchGen(c *cli.Context) error {
	if c.NArg() != 1 {
		if args := c.Args().Slice(); len(args) > 1 && strings.HasPrefix(args[1], "-") {
			return fmt.Errorf("flags go before DIR: insights bench gen %s %s", strings.Join(args[1:], " "), args[0])
		}
		return fmt.Errorf("bench gen takes one directory, got %d arguments", c.NArg())
	}
	dir := c.Args().First()
	size, err := parseSize(c.String("size"))
	if err != nil {
		return err
	}
	start, err := time.Parse("2006-01-02", c.String("start"))
	if err != nil {
		return fmt.Errorf("--start %q: want YYYY-MM-DD", c.String("start"))
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty: bench gen writes only into a new or empty directory", dir)
	}
	began := time.Now()
	e, err := synth.Generate(dir, synth.Options{Size: size, Seed: c.Uint64("seed"), Broken: c.Bool("broken"),
		Start: start, Days: c.Int("days")})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.App.Writer, "Wrote %s: %d transcripts, %s, %d lines (%d broken), %d sessions, %d replies in %s.\n",
		dir, e.Files, megabytes(e.Bytes), e.Lines, e.Broken, e.Sessions, e.Totals.Replies, time.Since(began).Round(time.Millisecond))
	fmt.Fprintf(c.App.Writer, "Expected totals: %s.\n", filepath.Join(dir, synth.ExpectedFile))
	return nil
}

// parseSize reads a byte count: 1048576, 512KB, 250MB or 2GB (powers of 1000, as sizes are printed).
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		factor int64
	}{{"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	num, factor := strings.ToUpper(strings.TrimSpace(s)), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, factor = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.factor
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, KB, MB or GB", s)
	}
	return int64(n * float64(factor)), nil
}
