package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/ingest"
)

func importCommand() *cli.Command {
	return &cli.Command{
		Name:      "import",
		Usage:     "import the transcripts under a Claude directory, then exit",
		ArgsUsage: "[DIR]",
		Description: "Reads every *.jsonl transcript under DIR/projects (or under DIR itself when it has no\n" +
			"projects folder); DIR defaults to the configured Claude directory. Only what is new since the\n" +
			"last import is read. Broken lines are skipped and reported; the rest of each file imports.",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return fmt.Errorf("import takes at most one directory, got %d arguments", c.NArg())
			}
			e, err := setup(c)
			if err != nil {
				return err
			}
			defer e.db.Close()
			dir := e.cfg.ClaudeDir
			if c.NArg() == 1 {
				dir = c.Args().First()
			}
			ctx, stop := contextOf(c)
			defer stop()
			im := e.importer()
			if isTerminal(c.App.ErrWriter) {
				im.Progress = func(done, total int, st *ingest.Stats) {
					fmt.Fprintf(c.App.ErrWriter, "\rimporting %d/%d files, %.1f MB", done, total, float64(st.Bytes)/1e6)
				}
			}
			start := time.Now()
			st, err := im.ImportTree(ctx, dir)
			if im.Progress != nil {
				fmt.Fprintln(c.App.ErrWriter)
			}
			if st != nil {
				printImportStats(c.App.Writer, dir, st, time.Since(start))
			}
			return err
		},
	}
}

func printImportStats(w io.Writer, dir string, st *ingest.Stats, took time.Duration) {
	fmt.Fprintf(w, "Imported %s: %d files (%d with new data), %d lines, %.1f MB in %s.\n",
		dir, st.Files, st.FilesRead, st.Lines, float64(st.Bytes)/1e6, took.Round(time.Millisecond))
	if len(st.Types) > 0 {
		kinds := make([]string, 0, len(st.Types))
		for k := range st.Types {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		parts := make([]string, len(kinds))
		for i, k := range kinds {
			parts[i] = fmt.Sprintf("%s %d", k, st.Types[k])
		}
		fmt.Fprintf(w, "Records: %s.\n", strings.Join(parts, ", "))
	}
	if st.Broken > 0 {
		fmt.Fprintf(w, "Skipped %d broken lines:\n", st.Broken)
		for _, e := range st.Errors {
			fmt.Fprintf(w, "  %v\n", e)
		}
		if n := st.Broken - int64(len(st.Errors)); n > 0 {
			fmt.Fprintf(w, "  ... and %d more\n", n)
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
