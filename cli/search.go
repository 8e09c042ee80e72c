package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/report"
	"github.com/claude-insights/insights/store"
)

func searchCommand() *cli.Command {
	return &cli.Command{
		Name:      "search",
		Usage:     "search the text of every message, tool input and tool result",
		ArgsUsage: "[flags] QUERY",
		Description: "Words must all occur (whole words, any case); \"a phrase\" in this order; prefix* any word\n" +
			"starting so; -word must not occur. Hits are ranked best first, with the passage that matched.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "project", Usage: "only sessions whose working directory is `DIR` or ends with it"},
			&cli.StringFlag{Name: "session", Usage: "only the session `ID`"},
			&cli.StringFlag{Name: "role", Usage: "only messages of `ROLE` (user, assistant, system)"},
			&cli.StringFlag{Name: "tool", Usage: "only messages that call the tool `NAME` or carry its result"},
			&cli.StringFlag{Name: "since", Usage: "first `DATE` to include (YYYY-MM-DD)"},
			&cli.StringFlag{Name: "until", Usage: "last `DATE` to include (YYYY-MM-DD)"},
			&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Value: store.DefaultSearchLimit, Usage: "show `N` hits"},
			&cli.IntFlag{Name: "offset", Usage: "skip the first `N` hits"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return errors.New("search needs a QUERY, such as: insights search \"off by one\" config")
			}
			for _, a := range c.Args().Slice() {
				if strings.HasPrefix(a, "--") {
					return fmt.Errorf("%s: flags go before the query (insights search --role user QUERY)", a)
				}
			}
			q := store.SearchQuery{Text: strings.Join(c.Args().Slice(), " "), Project: c.String("project"),
				SessionID: c.String("session"), Role: c.String("role"), Tool: c.String("tool"),
				Limit: c.Int("limit"), Offset: c.Int("offset")}
			if q.Limit < 1 || q.Limit > store.MaxSearchLimit || q.Offset < 0 {
				return fmt.Errorf("--limit %d --offset %d: want a limit of 1 to %d and an offset of 0 or more", q.Limit, q.Offset, store.MaxSearchLimit)
			}
			e, err := setup(c)
			if err != nil {
				return err
			}
			defer e.db.Close()
			loc, err := location(e.cfg.Timezone)
			if err != nil {
				return err
			}
			if s := c.String("since"); s != "" {
				if q.Since, err = report.ParseDate(s, loc); err != nil {
					return fmt.Errorf("--since: %w", err)
				}
			}
			if s := c.String("until"); s != "" {
				d, err := report.ParseDate(s, loc)
				if err != nil {
					return fmt.Errorf("--until: %w", err)
				}
				q.Until = d.AddDate(0, 0, 1)
			}
			res, err := e.db.Search(c.Context, q)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				if res.Hits == nil {
					res.Hits = []store.SearchHit{} // "hits": [], not null
				}
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			return writeHits(c.App.Writer, q, res, loc)
		},
	}
}

var space = regexp.MustCompile(`\s+`)

// writeHits prints hits one per paragraph, matched words in [brackets].
func writeHits(w io.Writer, q store.SearchQuery, res store.SearchResult, loc *time.Location) error {
	if res.Total == 0 {
		_, err := fmt.Fprintf(w, "No message matches %q.\n", q.Text)
		return err
	}
	limit, offset := store.SearchPage(q)
	last := min(int64(offset+limit), res.Total)
	if _, err := fmt.Fprintf(w, "%d hits for %q; %d to %d:\n", res.Total, q.Text, offset+1, last); err != nil {
		return err
	}
	for _, h := range res.Hits {
		var snippet strings.Builder
		for _, f := range h.Snippet {
			text := space.ReplaceAllString(f.Text, " ")
			if f.Match {
				text = "[" + text + "]"
			}
			snippet.WriteString(text)
		}
		title := h.Title
		if len(title) > 60 {
			title = title[:60] + "…"
		}
		if _, err := fmt.Fprintf(w, "\n%s  %s  %s #%d (%s)  %s\n  %s\n", h.Timestamp.In(loc).Format("2006-01-02 15:04"),
			h.Project, h.SessionID, h.Seq, h.Role, strings.Join(strings.Fields(title), " "), snippet.String()); err != nil {
			return err
		}
	}
	if last < res.Total {
		_, err := fmt.Fprintf(w, "\nMore: --offset %d\n", last)
		return err
	}
	return nil
}
