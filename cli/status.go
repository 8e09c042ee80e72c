package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/store"
)

// defaultCleanupDays is how long Claude Code keeps transcripts when its
// settings.json does not say.
const defaultCleanupDays = 30

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:  "status",
		Usage: "show what the database holds and what could not be imported",
		Description: "Prints the database's path and size, the transcript files tracked, the last import, the\n" +
			"sessions whose transcripts Claude Code has deleted (the database holds their only copy), and\n" +
			"the lines and files that were skipped, newest first, with file, line and reason. Warns when\n" +
			"Claude Code's settings.json deletes transcripts sooner than the history the database keeps.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "skipped", Value: 50, Usage: "list at most `N` skipped lines"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return fmt.Errorf("status takes no arguments, got %q", c.Args().First())
			}
			if c.Int("skipped") < 0 {
				return fmt.Errorf("--skipped %d: want 0 or more", c.Int("skipped"))
			}
			e, err := setup(c)
			if err != nil {
				return err
			}
			defer e.db.Close()
			st, err := e.db.Status(c.Context, c.Int("skipped"))
			if err != nil {
				return err
			}
			cleanup, set, err := cleanupPeriodDays(e.cfg.ClaudeDir)
			if err != nil {
				e.log.Warn("cannot read Claude Code's settings", "err", err)
			}
			r := statusReport{DB: dbName(e.cfg), ClaudeDir: e.cfg.ClaudeDir, Status: st, CleanupDays: cleanup}
			if set && !st.FirstAt.IsZero() {
				if kept := int(time.Since(st.FirstAt).Hours() / 24); kept > cleanup {
					r.Warning = fmt.Sprintf("Claude Code deletes transcripts after %d days (cleanupPeriodDays in %s), "+
						"but the database keeps %d days: keep the daemon running (insights service install) so that "+
						"nothing is deleted before it is imported.", cleanup, filepath.Join(e.cfg.ClaudeDir, "settings.json"), kept)
				}
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(r.jsonForm())
			}
			r.print(c.App.Writer)
			return nil
		},
	}
}

// cleanupPeriodDays reads cleanupPeriodDays from the Claude directory's
// settings.json; set is false when the file or the key is absent.
func cleanupPeriodDays(claudeDir string) (days int, set bool, err error) {
	path := filepath.Join(claudeDir, "settings.json")
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return defaultCleanupDays, false, nil
	}
	if err != nil {
		return defaultCleanupDays, false, fmt.Errorf("read %s: %w", path, err)
	}
	var s struct {
		CleanupPeriodDays *int `json:"cleanupPeriodDays"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return defaultCleanupDays, false, fmt.Errorf("read %s: %w", path, err)
	}
	if s.CleanupPeriodDays == nil {
		return defaultCleanupDays, false, nil
	}
	return *s.CleanupPeriodDays, true, nil
}

type statusReport struct {
	DB, ClaudeDir string
	store.Status
	CleanupDays int
	Warning     string
}

func (r statusReport) print(w io.Writer) {
	fmt.Fprintf(w, "Database:     %s (%s)\n", r.DB, megabytes(r.Size))
	fmt.Fprintf(w, "Claude dir:   %s (transcripts kept %d days)\n", r.ClaudeDir, r.CleanupDays)
	fmt.Fprintf(w, "Files:        %d tracked, %d deleted since imported\n", r.Files, r.FilesGone)
	fmt.Fprintf(w, "Sessions:     %d, of which %d live only in the database\n", r.Sessions, r.SessionsOnlyHere)
	if !r.FirstAt.IsZero() {
		fmt.Fprintf(w, "History:      since %s\n", r.FirstAt.Local().Format("2006-01-02"))
	}
	if r.LastImport.IsZero() {
		fmt.Fprintln(w, "Last import:  never (run insights import, or the daemon)")
	} else {
		fmt.Fprintf(w, "Last import:  %s (%s ago)\n", r.LastImport.Local().Format("2006-01-02 15:04:05"),
			time.Since(r.LastImport).Round(time.Second))
	}
	if r.Skipped == 0 {
		fmt.Fprintln(w, "Skipped:      nothing")
	} else {
		fmt.Fprintf(w, "Skipped:      %d (lines, or whole files at line 0); newest first:\n", r.Skipped)
		for _, s := range r.Recent {
			where := s.Path
			if s.Line > 0 {
				where = fmt.Sprintf("%s:%d", s.Path, s.Line)
			}
			fmt.Fprintf(w, "  %s  %s  %s\n", s.At.Local().Format("2006-01-02 15:04"), where, s.Detail)
		}
		if n := r.Skipped - int64(len(r.Recent)); n > 0 {
			fmt.Fprintf(w, "  ... and %d more (--skipped N lists more)\n", n)
		}
	}
	if r.Warning != "" {
		fmt.Fprintf(w, "Warning:      %s\n", r.Warning)
	}
}

// jsonForm is the report as `status --json` prints it.
func (r statusReport) jsonForm() any {
	type skipped struct {
		Path   string    `json:"path"`
		Line   int64     `json:"line"`
		Reason string    `json:"reason"`
		Detail string    `json:"detail"`
		At     time.Time `json:"at"`
	}
	recent := make([]skipped, len(r.Recent))
	for i, s := range r.Recent {
		recent[i] = skipped{s.Path, s.Line, s.Reason, s.Detail, s.At}
	}
	return struct {
		DB               string     `json:"db"`
		DBBytes          int64      `json:"dbBytes"`
		ClaudeDir        string     `json:"claudeDir"`
		CleanupDays      int        `json:"cleanupPeriodDays"`
		Files            int64      `json:"files"`
		FilesGone        int64      `json:"filesGone"`
		Sessions         int64      `json:"sessions"`
		SessionsOnlyInDB int64      `json:"sessionsOnlyInDatabase"`
		FirstAt          *time.Time `json:"firstSessionAt"`
		LastImport       *time.Time `json:"lastImportAt"`
		Skipped          int64      `json:"skipped"`
		Recent           []skipped  `json:"recentSkipped"`
		Warning          string     `json:"warning,omitempty"`
	}{r.DB, r.Size, r.ClaudeDir, r.CleanupDays, r.Files, r.FilesGone, r.Sessions, r.SessionsOnlyHere,
		timeOrNil(r.FirstAt), timeOrNil(r.LastImport), r.Skipped, recent, r.Warning}
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
