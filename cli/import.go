package cli

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
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
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the import to `FILE` (read it with `go tool pprof`)"},
		},
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
			if path := c.String("cpuprofile"); path != "" {
				stopProfile, err := startCPUProfile(path)
				if err != nil {
					return err
				}
				defer stopProfile()
			}
			im := e.importer()
			bar := newProgressBar(c.App.ErrWriter, isTerminal(c.App.ErrWriter))
			im.Progress = bar.update
			start := time.Now()
			st, err := im.ImportTree(ctx, dir)
			bar.finish()
			if st != nil {
				printImportStats(c.App.Writer, dir, st, time.Since(start))
			}
			return err
		},
	}
}

func printImportStats(w io.Writer, dir string, st *ingest.Stats, took time.Duration) {
	fmt.Fprintf(w, "Imported %s: %d files (%d with new data), %d lines, %s in %s (%s/s).\n",
		dir, st.Files, st.FilesRead, st.Lines, megabytes(st.Bytes), took.Round(time.Millisecond),
		megabytes(int64(float64(st.Bytes)/max(took.Seconds(), 1e-3))))
	if len(st.Types) > 0 {
		fmt.Fprintf(w, "Records: %s.\n", counts(st.Types))
	}
	fmt.Fprintf(w, "Sessions added or updated: %d.\n", st.Sessions())
	if st.Reread > 0 {
		fmt.Fprintf(w, "Replaced since imported: %d files, read again from the start (nothing is counted twice).\n", st.Reread)
	}
	if st.Gone > 0 {
		fmt.Fprintf(w, "Deleted since imported: %d files (what was imported from them stays).\n", st.Gone)
	}
	if st.Broken > 0 {
		fmt.Fprintf(w, "Skipped %d: %s.\n", st.Broken, counts(st.Reasons))
		for _, e := range st.Errors {
			fmt.Fprintf(w, "  %v\n", e)
		}
		if n := st.Broken - int64(len(st.Errors)); n > 0 {
			fmt.Fprintf(w, "  ... and %d more (insights status lists the newest)\n", n)
		}
	}
}

// counts formats a count per name, by name.
func counts(m map[string]int64) string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, k := range names {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// progressBar shows an import's progress: on a terminal a bar redrawn at
// most ten times a second, elsewhere (a log, a pipe) a plain line every few
// seconds.
type progressBar struct {
	w     io.Writer
	tty   bool
	every time.Duration // between draws
	start time.Time
	last  time.Time
	drawn bool
}

func newProgressBar(w io.Writer, tty bool) *progressBar {
	p := &progressBar{w: w, tty: tty, every: 100 * time.Millisecond, start: time.Now()}
	if !tty {
		p.every = 5 * time.Second
		p.last = p.start // the first line after five seconds: short imports print none
	}
	return p
}

func (p *progressBar) update(done, total int64) {
	now := time.Now()
	if now.Sub(p.last) < p.every && (done < total || !p.tty) {
		return
	}
	p.last = now
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	rate := float64(done) / max(now.Sub(p.start).Seconds(), 1e-3)
	eta := ""
	if rate > 0 && done < total {
		eta = " ETA " + time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second).String()
	}
	if !p.tty {
		fmt.Fprintf(p.w, "importing: %.0f%%, %s of %s, %s/s%s\n", frac*100, megabytes(done), megabytes(total),
			megabytes(int64(rate)), eta)
		return
	}
	const width = 30
	filled := int(frac * width)
	fmt.Fprintf(p.w, "\r%3.0f%% [%s%s] %s / %s  %s/s%s   ", frac*100, strings.Repeat("=", filled),
		strings.Repeat(" ", width-filled), megabytes(done), megabytes(total), megabytes(int64(rate)), eta)
	p.drawn = true
}

// finish ends the bar's line; a nil bar does nothing.
func (p *progressBar) finish() {
	if p != nil && p.drawn {
		fmt.Fprintln(p.w)
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

// startCPUProfile writes a CPU profile to path until the returned function is called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile %s: %w", path, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
