// Package cli defines the insights command line: global flags, subcommands
// and the wiring of config, store and ingest behind them.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/ingest"
	"github.com/claude-insights/insights/pricing"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/postgres"
	"github.com/claude-insights/insights/store/sqlite"
)

// Global flag names, valid with every subcommand.
const (
	flagConfig    = "config"
	flagMode      = "mode"
	flagDB        = "db"
	flagClaudeDir = "claude-dir"
	flagLogLevel  = "log-level"
	flagUIAddr    = "ui-addr"
	flagSQLAddr   = "sql-addr"
	flagAPIAddr   = "api-addr"
	flagDashAddr  = "dashboard-addr"
	flagExportDir = "export-dir"
)

// envPushKey holds the API key push sends with, over push.key.
const envPushKey = "INSIGHTS_PUSH_KEY"

// globalFlags are accepted before the command and after it. Only the top
// level reads the environment, so that a flag anywhere beats a variable.
func globalFlags(env bool) []cli.Flag {
	flags := []cli.Flag{
		&cli.StringFlag{Name: flagConfig, Usage: "config `FILE` (default: " + config.DefaultPath() + ")", EnvVars: []string{"INSIGHTS_CONFIG"}},
		&cli.StringFlag{Name: flagMode, Usage: "`solo` (SQLite, local UI) or team (PostgreSQL, upload API)", EnvVars: []string{"INSIGHTS_MODE"}},
		&cli.StringFlag{Name: flagDB, Usage: "database: SQLite file `PATH` or PostgreSQL DSN", EnvVars: []string{"INSIGHTS_DB"}},
		&cli.StringFlag{Name: flagClaudeDir, Usage: "Claude Code `DIR` to read (default: $CLAUDE_CONFIG_DIR or ~/.claude)", EnvVars: []string{"INSIGHTS_CLAUDE_DIR", "CLAUDE_CONFIG_DIR"}},
		&cli.StringFlag{Name: flagLogLevel, Usage: "`LEVEL` of logs on stderr: debug, info, warn, error", EnvVars: []string{"INSIGHTS_LOG_LEVEL"}},
	}
	if !env {
		for _, f := range flags {
			f.(*cli.StringFlag).EnvVars = nil
		}
	}
	return flags
}

// withGlobalFlags gives every command, at any depth, the global flags.
func withGlobalFlags(cmds []*cli.Command) []*cli.Command {
	for _, c := range cmds {
		c.Flags = append(c.Flags, globalFlags(false)...)
		withGlobalFlags(c.Subcommands)
	}
	return cmds
}

// New returns the insights application.
func New(version string) *cli.App {
	return &cli.App{
		Name:    "insights",
		Usage:   "search, replay and measure Claude Code sessions",
		Version: version,
		Description: "Without a command, insights runs as a daemon until interrupted. In solo mode it imports\n" +
			"every transcript under the Claude directory into the database, keeps it current, and serves\n" +
			"the replay UI on http://127.0.0.1:8002 (ui_addr) and the SQL explorer on\n" +
			"http://127.0.0.1:8001 (sql_addr). In team mode (--mode team, db a postgres:// DSN) it serves\n" +
			"the upload and query API on :8080 (team.api_addr) that team members push their sessions to, and\n" +
			"the dashboard on :8081 (team.dashboard_addr); insights user add NAME gives them keys.",
		Flags: append(globalFlags(true), &cli.StringFlag{Name: flagUIAddr, EnvVars: []string{"INSIGHTS_UI_ADDR"},
			Usage: "`ADDR` the replay UI listens on while the daemon runs (default 127.0.0.1:8002; \"\" turns it off)"},
			&cli.StringFlag{Name: flagSQLAddr, EnvVars: []string{"INSIGHTS_SQL_ADDR"},
				Usage: "`ADDR` the SQL explorer listens on while the daemon runs, solo mode (default 127.0.0.1:8001; \"\" turns it off)"},
			&cli.StringFlag{Name: flagAPIAddr, EnvVars: []string{"INSIGHTS_API_ADDR"},
				Usage: "`ADDR` the upload and query API listens on, team mode (default :8080)"},
			&cli.StringFlag{Name: flagDashAddr, EnvVars: []string{"INSIGHTS_DASHBOARD_ADDR"},
				Usage: "`ADDR` the dashboard listens on, team mode (default :8081)"},
			&cli.StringFlag{Name: flagExportDir, EnvVars: []string{"INSIGHTS_EXPORT_DIR"},
				Usage: "`DIR` the daily Parquet snapshots go to, team mode (default: export.dir)"}),
		Action: runDaemon,
		Commands: withGlobalFlags([]*cli.Command{
			importCommand(),
			usageCommand(),
			searchCommand(),
			statusCommand(),
			statuslineCommand(),
			serviceCommand(),
			benchCommand(),
			datasetteCommand(),
			userCommand(),
			pushCommand(),
			exportCommand(),
			redactCommand(),
			healthcheckCommand(),
			{
				Name:  "version",
				Usage: "print the version",
				Action: func(c *cli.Context) error {
					_, err := fmt.Fprintln(c.App.Writer, "insights", version)
					return err
				},
			},
		}),
	}
}

// loadConfig reads the config file and applies environment and flags over it.
func loadConfig(c *cli.Context) (config.Config, error) {
	path, named := lookup(c, flagConfig)
	if !named {
		path = config.DefaultPath()
	}
	cfg, err := config.Load(path, named)
	if err != nil {
		return cfg, err
	}
	for name, dst := range map[string]*string{
		flagMode:      &cfg.Mode,
		flagDB:        &cfg.DB,
		flagClaudeDir: &cfg.ClaudeDir,
		flagLogLevel:  &cfg.LogLevel,
		flagUIAddr:    &cfg.UIAddr,
		flagSQLAddr:   &cfg.SQLAddr,
		flagAPIAddr:   &cfg.Team.APIAddr,
		flagDashAddr:  &cfg.Team.DashboardAddr,
		flagExportDir: &cfg.Export.Dir,
	} {
		if v, ok := lookup(c, name); ok {
			*dst = v
		}
	}
	// A key is better kept out of the file.
	if v := os.Getenv(envPushKey); v != "" {
		cfg.Push.Key = v
	}
	return cfg, cfg.Validate()
}

// lookup finds a global flag set on the command line (innermost command
// first) or in the environment.
func lookup(c *cli.Context, name string) (string, bool) {
	for _, cc := range c.Lineage() {
		if cc.IsSet(name) {
			return cc.String(name), true
		}
	}
	return "", false
}

// env is what every command runs with.
type env struct {
	cfg    config.Config
	log    *slog.Logger
	db     store.Driver
	prices *pricing.Table
}

// setup loads the config and opens the database.
func setup(c *cli.Context) (*env, error) {
	cfg, err := loadConfig(c)
	if err != nil {
		return nil, err
	}
	log, err := newLogger(c, cfg)
	if err != nil {
		return nil, err
	}
	db, err := openDB(c.Context, cfg)
	if err != nil {
		return nil, err
	}
	prices := cfg.Prices()
	changed, err := db.Reprice(c.Context, prices.Fingerprint(), prices.Cost)
	if err != nil {
		db.Close()
		return nil, err
	}
	if changed {
		log.Debug("costs computed with the current prices")
	}
	return &env{cfg: cfg, log: log, db: db, prices: prices}, nil
}

// newLogger logs at the configured level on the command's error output.
func newLogger(c *cli.Context, cfg config.Config) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	return slog.New(slog.NewTextHandler(c.App.ErrWriter, &slog.HandlerOptions{Level: level})), nil
}

// openDB opens the configured database: PostgreSQL for a postgres:// DSN,
// else an SQLite file.
func openDB(ctx context.Context, cfg config.Config) (store.Driver, error) {
	if cfg.IsPostgres() {
		return postgres.Open(ctx, cfg.DB, postgres.Options{MaxConns: cfg.DBConnections})
	}
	return sqlite.Open(ctx, cfg.DB)
}

// dbName is the database as shown to users: without a password.
func dbName(cfg config.Config) string {
	if cfg.IsPostgres() {
		return postgres.Redact(cfg.DB)
	}
	return cfg.DB
}

func (e *env) importer() *ingest.Importer {
	return &ingest.Importer{Store: e.db, Prices: e.prices, Log: e.log}
}

// runDaemon imports everything, then keeps the database current with what
// changes under the Claude directory until interrupted.
func runDaemon(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("unknown command %q (see insights --help)", c.Args().First())
	}
	e, err := setup(c)
	if err != nil {
		return err
	}
	defer e.db.Close()
	if e.cfg.Mode == config.ModeTeam {
		return runTeam(c, e)
	}
	if !e.cfg.IsPostgres() {
		release, err := lockDaemon(e.cfg.DB)
		if err != nil {
			return err
		}
		defer release()
	}
	ctx, stop := contextOf(c)
	defer stop()
	if _, err := os.Stat(e.cfg.ClaudeDir); errors.Is(err, fs.ErrNotExist) {
		e.log.Warn("no Claude directory yet: it is imported when it appears", "claude_dir", e.cfg.ClaudeDir)
	}
	opt := ingest.WatchOptions{Rescan: e.cfg.RescanInterval}
	var replayURL string
	if e.cfg.UIAddr != "" {
		ui, url, stopUI, err := serveUI(e, e.cfg.UIAddr)
		if err != nil {
			return err
		}
		defer stopUI()
		replayURL = url
		// Open pages follow the sessions each import changed.
		opt.OnImport = func(st *ingest.Stats) { ui.Notify(st.SessionIDs()...) }
	}
	if e.cfg.SQLAddr != "" && !e.cfg.IsPostgres() {
		stopSQL, err := serveSQL(ctx, e, e.cfg.SQLAddr, replayURL)
		if err != nil {
			return err
		}
		defer stopSQL()
	}
	if e.cfg.Push.Enabled() {
		wake, stopPush, err := startPushing(ctx, c, e)
		if err != nil {
			return err
		}
		defer stopPush()
		notify := opt.OnImport
		opt.OnImport = func(st *ingest.Stats) {
			if notify != nil {
				notify(st)
			}
			wake()
		}
	}
	e.log.Info("watching", "claude_dir", e.cfg.ClaudeDir, "db", dbName(e.cfg), "rescan", e.cfg.RescanInterval)
	err = e.importer().Watch(ctx, e.cfg.ClaudeDir, opt)
	e.log.Info("stopped")
	return err
}

// contextOf is the command's context, cancelled on interrupt.
func contextOf(c *cli.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(c.Context, os.Interrupt, syscall.SIGTERM)
}
