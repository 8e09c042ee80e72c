package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/report"
	"github.com/claude-insights/insights/store"
)

// statuslineTimeout bounds the whole status line, so that a database that
// does not answer never stalls Claude Code.
const statuslineTimeout = 2 * time.Second

// statusInput is the part of the JSON Claude Code passes to a status line
// command that the status line uses.
type statusInput struct {
	SessionID string `json:"session_id"`
	Model     struct {
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
	} `json:"model"`
}

// modelName is the model as shown: its display name, else its short id.
func (in statusInput) modelName() string {
	if in.Model.DisplayName != "" {
		return in.Model.DisplayName
	}
	return report.ShortModel(in.Model.ID)
}

func statuslineCommand() *cli.Command {
	return &cli.Command{
		Name:  "statusline",
		Usage: "print one line for Claude Code's status line: model, session, today's and the 5-hour window's cost",
		Description: "Reads the JSON Claude Code writes on stdin and prints one line from the database, e.g.\n" +
			"  Opus | $1.23 session | $4.56 today | $2.10 block (2h 15m left)\n" +
			"It always exits 0: without a database or with input it cannot read, it prints what it can.\n" +
			"It never creates a database. In ~/.claude/settings.json:\n" +
			`  {"statusLine": {"type": "command", "command": "insights statusline"}}`,
		Flags:  []cli.Flag{nowFlag},
		Action: statuslineAction,
	}
}

func statuslineAction(c *cli.Context) error {
	var in statusInput
	inErr := json.NewDecoder(io.LimitReader(c.App.Reader, 1<<20)).Decode(&in)
	var parts []string
	if name := in.modelName(); name != "" {
		parts = append(parts, name)
	}
	costs, err := statusCosts(c, in)
	if inErr != nil || err != nil || len(costs) == 0 {
		if len(parts) == 0 {
			parts = append(parts, "insights: no data")
		}
	} else {
		parts = append(parts, costs...)
	}
	_, err = fmt.Fprintln(c.App.Writer, strings.Join(parts, " | "))
	return err
}

// statusCosts reads this session's, today's and the active window's cost
// from the database, if there is one.
func statusCosts(c *cli.Context, in statusInput) ([]string, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	if !cfg.IsPostgres() {
		// Opening a missing or empty file would create a database.
		if fi, err := os.Stat(cfg.DB); err != nil || fi.Size() == 0 {
			return nil, errors.New("no database")
		}
	}
	now, err := nowOf(c)
	if err != nil {
		return nil, err
	}
	loc, err := location(cfg.Timezone)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.Context, statuslineTimeout)
	defer cancel()
	db, err := openDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()

	var parts []string
	if in.SessionID != "" {
		s, err := db.Session(ctx, in.SessionID)
		switch {
		case err == nil:
			parts = append(parts, fmt.Sprintf("$%.2f session", s.Cost))
		case !errors.Is(err, store.ErrNotFound): // a session not imported yet has no cost to show
			return nil, err
		}
	}
	today, err := report.Usage(ctx, db, report.Options{Period: report.Daily, Since: now, Until: now, Location: loc})
	if err != nil {
		return nil, err
	}
	parts = append(parts, fmt.Sprintf("$%.2f today", today.Totals.Cost))
	b, ok, err := report.ActiveBlock(ctx, db, now)
	if err != nil {
		return nil, err
	}
	if ok {
		parts = append(parts, fmt.Sprintf("$%.2f block (%s left)", b.Cost, report.FormatDuration(b.End.Sub(now))))
	}
	return parts, nil
}
