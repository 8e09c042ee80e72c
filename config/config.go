// Package config loads the one TOML file of an install: defaults for every
// key, then the file, then environment and flags (applied by the caller).
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/redact"
)

// Modes of operation.
const (
	ModeSolo = "solo"
	ModeTeam = "team"
)

// Config is the whole configuration of an install.
type Config struct {
	// Mode is "solo" (SQLite, local UI) or "team" (PostgreSQL, upload API).
	Mode string `toml:"mode"`
	// DB is an SQLite file path or a PostgreSQL DSN (postgres://...).
	DB string `toml:"db"`
	// DBConnections is the most connections to PostgreSQL one process opens.
	DBConnections int `toml:"db_connections"`
	// ClaudeDir is the Claude Code directory to read transcripts from.
	ClaudeDir string `toml:"claude_dir"`
	// Timezone groups reports by day in this IANA zone; empty is local time.
	Timezone string `toml:"timezone"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `toml:"log_level"`
	// RescanInterval is how often the daemon checks every transcript for
	// changes that file-system events missed.
	RescanInterval time.Duration `toml:"rescan_interval"`
	// UIAddr is the address the replay UI listens on (solo mode); empty
	// turns it off.
	UIAddr string `toml:"ui_addr"`
	// SQLAddr is the address the SQL explorer listens on (solo mode);
	// empty turns it off.
	SQLAddr string `toml:"sql_addr"`
	// SQLTimeout is how long one explorer query may run.
	SQLTimeout time.Duration `toml:"sql_timeout"`
	// SQLMaxRows is the most rows an explorer page shows.
	SQLMaxRows int `toml:"sql_max_rows"`
	// Pricing overrides the embedded price table, by model id.
	Pricing map[string]pricing.Price `toml:"pricing"`
	// Team configures team mode.
	Team Team `toml:"team"`
	// Push configures sending this install's sessions to a team server.
	Push Push `toml:"push"`
	// Export configures Parquet snapshots.
	Export Export `toml:"export"`
}

// Export configures `insights export` and the team server's daily snapshot.
type Export struct {
	// Dir holds the snapshots: a directory per UTC day, date=YYYY-MM-DD.
	Dir string `toml:"dir"`
	// TimeOfDay is when (HH:MM, UTC) the team server writes the snapshots
	// of the days before; empty turns the daily snapshot off.
	TimeOfDay string `toml:"time_of_day"`
	// RetentionDays removes the snapshots of days older than this many
	// days, at each daily snapshot; 0 keeps them all.
	RetentionDays int `toml:"retention_days"`
	// Compression is zstd or snappy.
	Compression string `toml:"compression"`
}

// At is TimeOfDay as the time after midnight; ok is false when it is empty.
func (e Export) At() (at time.Duration, ok bool, err error) {
	if e.TimeOfDay == "" {
		return 0, false, nil
	}
	t, err := time.Parse("15:04", e.TimeOfDay)
	if err != nil {
		return 0, false, fmt.Errorf("export.time_of_day %q: want HH:MM (UTC), such as 02:00", e.TimeOfDay)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true, nil
}

// Push configures `insights push` and the daemon's pushing.
type Push struct {
	// Server is the team server's URL. When it and Key are set, the solo
	// daemon pushes new lines as it imports them.
	Server string `toml:"server"`
	// Key is the user's API key from `insights user add`; the environment
	// variable INSIGHTS_PUSH_KEY keeps it out of the file.
	Key string `toml:"key"`
	// ShareLevel lowers what is sent below the level the server has for
	// the user: none, metadata or full; empty takes the server's.
	ShareLevel string `toml:"share_level"`
	// StateFile remembers how much of each file the server acknowledged.
	StateFile string `toml:"state_file"`
	// Delay is how long the daemon waits after a change before it pushes,
	// so that a burst of lines goes in one upload.
	Delay time.Duration `toml:"delay"`
	// Redact adds secret patterns to the built-in ones.
	Redact []RedactPattern `toml:"redact"`
}

// RedactPattern is a secret pattern of the user's: what Pattern (a Go
// regular expression) matches is sent as [REDACTED:Kind]; with a group,
// only the group's text is.
type RedactPattern struct {
	Kind    string `toml:"kind"`
	Pattern string `toml:"pattern"`
}

// Enabled reports whether the daemon pushes.
func (p Push) Enabled() bool { return p.Server != "" && p.Key != "" }

// Team configures the team server.
type Team struct {
	// APIAddr is the address the upload and query API listens on.
	APIAddr string `toml:"api_addr"`
	// PublicURL is the address users reach the API at, as named in its
	// OpenAPI document and in what `insights user add` prints; empty is
	// http:// and the API address.
	PublicURL string `toml:"public_url"`
	// MaxUploadMB is the largest upload body, in MiB, before and after
	// decompression.
	MaxUploadMB int `toml:"max_upload_mb"`
	// RateLimit is how many requests per second one key may make, on
	// average; RateBurst, how many at once. 0 turns the limit off.
	RateLimit float64 `toml:"rate_limit"`
	RateBurst int     `toml:"rate_burst"`
	// DashboardAddr is the address the dashboard listens on.
	DashboardAddr string `toml:"dashboard_addr"`
	// SessionTTL is how long a dashboard sign-in lasts.
	SessionTTL time.Duration `toml:"session_ttl"`
	// ShutdownDelay is how long a stopping server answers 503 on /readyz,
	// still serving, before it stops taking requests: time for a load
	// balancer to notice.
	ShutdownDelay time.Duration `toml:"shutdown_delay"`
	// RepairInterval is how often one of the servers on the database
	// recomputes the aggregates of the last two days (0: never).
	RepairInterval time.Duration `toml:"repair_interval"`
}

// MaxUploadBytes is MaxUploadMB in bytes.
func (t Team) MaxUploadBytes() int64 { return int64(t.MaxUploadMB) << 20 }

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Mode:      ModeSolo,
		DB:        filepath.Join(dataHome(), "insights", "insights.db"),
		ClaudeDir: DefaultClaudeDir(),

		DBConnections: 8,
		LogLevel:      "info",

		RescanInterval: 30 * time.Second,
		UIAddr:         "127.0.0.1:8002",
		SQLAddr:        "127.0.0.1:8001",
		SQLTimeout:     5 * time.Second,
		SQLMaxRows:     1000,
		Team: Team{
			APIAddr:        ":8080",
			DashboardAddr:  ":8081",
			SessionTTL:     12 * time.Hour,
			ShutdownDelay:  0,
			RepairInterval: time.Hour,
			MaxUploadMB:    32,
			RateLimit:      50,
			RateBurst:      100,
		},
		Export: Export{
			Dir:         filepath.Join(dataHome(), "insights", "exports"),
			TimeOfDay:   "02:00",
			Compression: "zstd",
		},
		Push: Push{
			StateFile: filepath.Join(dataHome(), "insights", "push-state.json"),
			Delay:     2 * time.Second,
		},
	}
}

// DefaultPath is where the config file is looked for when none is named:
// $XDG_CONFIG_HOME/insights/config.toml, else ~/.config/insights/config.toml.
func DefaultPath() string {
	return filepath.Join(xdg("XDG_CONFIG_HOME", ".config"), "insights", "config.toml")
}

// DefaultClaudeDir is $CLAUDE_CONFIG_DIR, else ~/.claude.
func DefaultClaudeDir() string {
	if d := os.Getenv("CLAUDE_CONFIG_DIR"); d != "" {
		return d
	}
	return filepath.Join(home(), ".claude")
}

func dataHome() string { return xdg("XDG_DATA_HOME", filepath.Join(".local", "share")) }

func xdg(env, fallback string) string {
	if d := os.Getenv(env); d != "" && filepath.IsAbs(d) {
		return d
	}
	return filepath.Join(home(), fallback)
}

func home() string {
	if h, err := os.UserHomeDir(); err == nil {
		return h
	}
	return "."
}

// Load reads the file at path over the defaults. A missing file is an error
// only when required (the user named it); unknown keys are always an error.
func Load(path string, required bool) (Config, error) {
	c := Default()
	md, err := toml.DecodeFile(path, &c)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && !required {
			return c, nil
		}
		return c, fmt.Errorf("read config %s: %w", path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return c, fmt.Errorf("read config %s: unknown keys: %s", path, strings.Join(keys, ", "))
	}
	return c, c.Validate()
}

// Validate checks the values that have a fixed set of choices.
func (c Config) Validate() error {
	if c.Mode != ModeSolo && c.Mode != ModeTeam {
		return fmt.Errorf("mode %q: want %q or %q", c.Mode, ModeSolo, ModeTeam)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel)
	}
	if c.RescanInterval < time.Second {
		return fmt.Errorf("rescan_interval %s: want at least 1s", c.RescanInterval)
	}
	if c.DBConnections < 1 {
		return fmt.Errorf("db_connections %d: want at least 1", c.DBConnections)
	}
	if c.UIAddr != "" {
		if _, _, err := net.SplitHostPort(c.UIAddr); err != nil {
			return fmt.Errorf("ui_addr %q: want host:port, such as 127.0.0.1:8002", c.UIAddr)
		}
	}
	if c.SQLAddr != "" {
		if _, _, err := net.SplitHostPort(c.SQLAddr); err != nil {
			return fmt.Errorf("sql_addr %q: want host:port, such as 127.0.0.1:8001", c.SQLAddr)
		}
	}
	if c.SQLTimeout < 10*time.Millisecond {
		return fmt.Errorf("sql_timeout %s: want at least 10ms", c.SQLTimeout)
	}
	if c.SQLMaxRows < 1 {
		return fmt.Errorf("sql_max_rows %d: want at least 1", c.SQLMaxRows)
	}
	if c.DB == "" {
		return errors.New("db is empty")
	}
	if _, _, err := net.SplitHostPort(c.Team.APIAddr); err != nil {
		return fmt.Errorf("team.api_addr %q: want host:port, such as :8080", c.Team.APIAddr)
	}
	if _, _, err := net.SplitHostPort(c.Team.DashboardAddr); err != nil {
		return fmt.Errorf("team.dashboard_addr %q: want host:port, such as :8081", c.Team.DashboardAddr)
	}
	if c.Team.SessionTTL < time.Minute || c.Team.SessionTTL > 90*24*time.Hour {
		return fmt.Errorf("team.session_ttl %s: want 1m to 2160h (90 days)", c.Team.SessionTTL)
	}
	if c.Team.ShutdownDelay < 0 || c.Team.ShutdownDelay > 5*time.Minute {
		return fmt.Errorf("team.shutdown_delay %s: want 0 to 5m", c.Team.ShutdownDelay)
	}
	if c.Team.RepairInterval != 0 && c.Team.RepairInterval < time.Minute {
		return fmt.Errorf("team.repair_interval %s: want 0 (never) or 1m or more", c.Team.RepairInterval)
	}
	if c.Team.PublicURL != "" {
		if u, err := url.Parse(c.Team.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("team.public_url %q: want an http:// or https:// URL", c.Team.PublicURL)
		}
	}
	if c.Export.Dir == "" {
		return errors.New("export.dir is empty")
	}
	if _, _, err := c.Export.At(); err != nil {
		return err
	}
	if c.Export.RetentionDays < 0 {
		return fmt.Errorf("export.retention_days %d: want 0 (keep all) or more", c.Export.RetentionDays)
	}
	if c.Export.Compression != "zstd" && c.Export.Compression != "snappy" {
		return fmt.Errorf("export.compression %q: want zstd or snappy", c.Export.Compression)
	}
	if c.Team.MaxUploadMB < 1 || c.Team.MaxUploadMB > 1024 {
		return fmt.Errorf("team.max_upload_mb %d: want 1 to 1024", c.Team.MaxUploadMB)
	}
	if c.Team.RateLimit < 0 || (c.Team.RateLimit > 0 && c.Team.RateBurst < 1) {
		return fmt.Errorf("team.rate_limit %g, rate_burst %d: want a limit of 0 (off) or more with a burst of at least 1",
			c.Team.RateLimit, c.Team.RateBurst)
	}
	if err := c.Push.validate(); err != nil {
		return err
	}
	if c.Mode == ModeTeam && !c.IsPostgres() {
		return fmt.Errorf("team mode keeps its data in PostgreSQL: set db to a postgres:// DSN (now %q)", c.DB)
	}
	return nil
}

// IsPostgres reports whether DB names a PostgreSQL database rather than a file.
func (c Config) IsPostgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// Prices is the embedded price table with the config's overrides.
func (c Config) Prices() *pricing.Table {
	return pricing.Default().WithOverrides(c.Pricing)
}

func (p Push) validate() error {
	if p.Server != "" {
		if u, err := url.Parse(p.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("push.server %q: want the team server's http:// or https:// URL", p.Server)
		}
	}
	switch p.ShareLevel {
	case "", "none", "metadata", "full":
	default:
		return fmt.Errorf("push.share_level %q: want none, metadata or full (or nothing: the server's)", p.ShareLevel)
	}
	if p.StateFile == "" {
		return errors.New("push.state_file is empty")
	}
	if p.Delay < 0 || p.Delay > time.Hour {
		return fmt.Errorf("push.delay %s: want 0 to 1h", p.Delay)
	}
	patterns := make([]redact.Pattern, len(p.Redact))
	for i, r := range p.Redact {
		patterns[i] = redact.Pattern{Kind: r.Kind, Regexp: r.Pattern}
	}
	if _, err := redact.New(patterns); err != nil {
		return fmt.Errorf("push.redact: %w", err)
	}
	return nil
}
