package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/store/sqlite"
)

func datasetteCommand() *cli.Command {
	return &cli.Command{
		Name:      "datasette-metadata",
		Usage:     "write a Datasette metadata.json with the SQL explorer's canned queries and table descriptions",
		ArgsUsage: " ",
		Description: "For those who have Datasette: the file describes the database's tables and holds the same\n" +
			"canned queries as the SQL explorer (http://127.0.0.1:8001), so that\n\n" +
			"   insights datasette-metadata --out metadata.json\n" +
			"   datasette ~/.local/share/insights/insights.db --metadata metadata.json\n\n" +
			"opens the same file with them. The database's name in the file is the file's name without its\n" +
			"extension, as Datasette names it.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "write to `FILE` instead of standard output"},
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return fmt.Errorf("datasette-metadata takes no arguments, got %q", c.Args().First())
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			if cfg.IsPostgres() {
				return fmt.Errorf("datasette-metadata describes an SQLite database; db is PostgreSQL")
			}
			b, err := datasetteMetadata(cfg.DB)
			if err != nil {
				return err
			}
			if out := c.String("out"); out != "" {
				if err := os.WriteFile(out, b, 0o644); err != nil {
					return fmt.Errorf("write %s: %w", out, err)
				}
				return nil
			}
			_, err = c.App.Writer.Write(b)
			return err
		},
	}
}

// Datasette's metadata.json, as far as it is written here.
type (
	datasetteMeta struct {
		Title       string                       `json:"title"`
		Description string                       `json:"description"`
		Databases   map[string]datasetteDatabase `json:"databases"`
	}
	datasetteDatabase struct {
		Tables  map[string]datasetteTable `json:"tables"`
		Queries map[string]datasetteQuery `json:"queries"`
	}
	datasetteTable struct {
		Description string `json:"description,omitempty"`
	}
	datasetteQuery struct {
		SQL         string `json:"sql"`
		Title       string `json:"title"`
		Description string `json:"description"`
	}
)

// datasetteMetadata is the metadata.json for the database at path.
func datasetteMetadata(path string) ([]byte, error) {
	db := datasetteDatabase{Tables: map[string]datasetteTable{}, Queries: map[string]datasetteQuery{}}
	for name, desc := range sqlite.TableDescriptions {
		db.Tables[name] = datasetteTable{Description: desc}
	}
	for _, q := range sqlite.CannedQueries {
		desc := q.Description
		if ps := q.Params; len(ps) > 0 {
			desc += " Leave a parameter empty for any."
		}
		db.Queries[q.Name] = datasetteQuery{SQL: q.SQL, Title: q.Title, Description: desc}
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	m := datasetteMeta{
		Title:       "Claude Insights",
		Description: "Claude Code sessions imported by insights. Times are milliseconds since 1970, UTC; days in the canned queries are UTC days.",
		Databases:   map[string]datasetteDatabase{name: db},
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode Datasette metadata: %w", err)
	}
	return append(b, '\n'), nil
}
