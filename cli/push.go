package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/push"
	"github.com/claude-insights/insights/redact"
	"github.com/claude-insights/insights/store"
)

func pushCommand() *cli.Command {
	return &cli.Command{
		Name:      "push",
		Usage:     "send your sessions to the team server, secrets redacted",
		ArgsUsage: "[DIR]",
		Description: "Sends what the team server lacks of every transcript under DIR (default: the Claude\n" +
			"directory), then exits. Each line is first reduced to your share level (the server's, or\n" +
			"push.share_level if lower) and its secrets are replaced by [REDACTED:<kind>]; nothing else\n" +
			"leaves the machine. How far the server has each file is remembered (push.state_file), so a\n" +
			"push sends only new lines and resumes where an interrupted one stopped. While the server\n" +
			"or the network is down it retries, waiting longer each time, up to --give-up. With [push]\n" +
			"server and key in the config, the daemon pushes new lines as it imports them.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "server", Usage: "the team server's `URL` (default push.server)"},
			&cli.StringFlag{Name: "key", Usage: "your API `KEY` (default $INSIGHTS_PUSH_KEY, else push.key)"},
			&cli.StringFlag{Name: "share", Usage: "send at most `LEVEL`: none, metadata or full (default push.share_level, else the server's)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "print what would be sent (files, bytes, sessions, redactions by kind); send nothing"},
			&cli.DurationFlag{Name: "give-up", Value: 10 * time.Minute, Usage: "stop retrying a server that does not answer after `DURATION` (0: never)"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return fmt.Errorf("push takes at most one directory, got %d arguments", c.NArg())
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			for flag, dst := range map[string]*string{"server": &cfg.Push.Server, "key": &cfg.Push.Key, "share": &cfg.Push.ShareLevel} {
				if c.IsSet(flag) {
					*dst = c.String(flag)
				}
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if c.NArg() == 1 {
				cfg.ClaudeDir = c.Args().First()
			}
			p, err := newPusher(c, cfg)
			if err != nil {
				return err
			}
			p.DryRun, p.GiveUp = c.Bool("dry-run"), c.Duration("give-up")
			bar := newProgressBar(c.App.ErrWriter, isTerminal(c.App.ErrWriter))
			p.Progress = func(done, total int64) { bar.update(done, total) }
			ctx, stop := contextOf(c)
			defer stop()
			start := time.Now()
			sum, err := p.Push(ctx)
			bar.finish()
			printPush(c.App.Writer, cfg, sum, p.DryRun, time.Since(start))
			return err
		},
	}
}

// newPusher makes the pusher of cfg's [push] section.
func newPusher(c *cli.Context, cfg config.Config) (*push.Pusher, error) {
	if cfg.Push.Server == "" || cfg.Push.Key == "" {
		return nil, fmt.Errorf("push needs the team server and your key: --server URL --key KEY, or push.server and push.key in %s (the key may be in INSIGHTS_PUSH_KEY)", configName(c))
	}
	log, err := newLogger(c, cfg)
	if err != nil {
		return nil, err
	}
	rd, err := newRedactor(cfg)
	if err != nil {
		return nil, err
	}
	state, err := push.LoadState(cfg.Push.StateFile)
	if err != nil {
		return nil, err
	}
	return &push.Pusher{
		Client:   &push.Client{URL: strings.TrimSuffix(cfg.Push.Server, "/"), Key: cfg.Push.Key},
		Redactor: rd,
		Cap:      store.ShareLevel(cfg.Push.ShareLevel),
		State:    state,
		Dir:      cfg.ClaudeDir,
		Log:      log,
	}, nil
}

// configName is the config file as the user would name it.
func configName(c *cli.Context) string {
	if path, ok := lookup(c, flagConfig); ok {
		return path
	}
	return config.DefaultPath()
}

func newRedactor(cfg config.Config) (*redact.Redactor, error) {
	patterns := make([]redact.Pattern, len(cfg.Push.Redact))
	for i, r := range cfg.Push.Redact {
		patterns[i] = redact.Pattern{Kind: r.Kind, Regexp: r.Pattern}
	}
	return redact.New(patterns)
}

func printPush(w io.Writer, cfg config.Config, sum *push.Summary, dry bool, took time.Duration) {
	verb, level := "Pushed", string(sum.Level)
	if dry {
		verb = "Would push"
	}
	if sum.Assumed {
		level += ", assumed: the server did not answer"
	}
	fmt.Fprintf(w, "%s to %s (share level %s): %d files, %d lines, %s of transcripts as %s, %d sessions",
		verb, cfg.Push.Server, level, sum.Files, sum.Lines, megabytes(sum.Bytes), megabytes(sum.Sent), sum.Sessions)
	if !dry {
		if sum.Known > 0 {
			fmt.Fprintf(w, " (%s the server had already)", megabytes(sum.Known))
		}
		fmt.Fprintf(w, ", in %d requests, %s", sum.Requests, took.Round(time.Millisecond))
		if sum.Retries > 0 {
			fmt.Fprintf(w, " (%d retries)", sum.Retries)
		}
	}
	fmt.Fprintln(w, ".")
	if len(sum.Redactions) == 0 {
		fmt.Fprintln(w, "Redactions: none.")
	} else {
		parts := []string{}
		for _, k := range sum.Redactions.Sorted() {
			parts = append(parts, fmt.Sprintf("%s %d", k, sum.Redactions[k]))
		}
		fmt.Fprintf(w, "Redactions: %d (%s).\n", sum.Redactions.Total(), strings.Join(parts, ", "))
	}
	if sum.Unsent > 0 {
		fmt.Fprintf(w, "Not sent: %d lines that are not JSON objects or are too long (the log names them).\n", sum.Unsent)
	}
}

// errSecretsFound makes `redact --check` exit with status 1, as grep does
// when it finds something.
var errSecretsFound = errors.New("secrets found: a push sends them redacted")

func redactCommand() *cli.Command {
	return &cli.Command{
		Name:      "redact",
		Usage:     "show the secrets push would redact in a file",
		ArgsUsage: "--check FILE...",
		Description: "Reads each FILE (a transcript, or any text) and prints every secret push would replace,\n" +
			"with its line, kind and a masked preview, then a count by kind. Nothing is changed. Uses\n" +
			"the built-in rules and the [[push.redact]] patterns of the config. Exits with status 1\n" +
			"when something was found, so it can guard a commit hook.",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "check", Usage: "report what would be redacted (the only mode)"},
		},
		Action: func(c *cli.Context) error {
			if !c.Bool("check") || c.NArg() == 0 {
				return fmt.Errorf("usage: insights redact --check FILE... (see insights redact --help)")
			}
			cfg, err := loadConfig(c)
			if err != nil {
				return err
			}
			rd, err := newRedactor(cfg)
			if err != nil {
				return err
			}
			total := push.Redactions{}
			for _, path := range c.Args().Slice() {
				found, err := checkFile(c.Context, c.App.Writer, rd, path)
				if err != nil {
					return err
				}
				total.Add(found)
			}
			if total.Total() == 0 {
				fmt.Fprintln(c.App.Writer, "No secrets found.")
				return nil
			}
			parts := []string{}
			for _, k := range total.Sorted() {
				parts = append(parts, fmt.Sprintf("%s %d", k, total[k]))
			}
			fmt.Fprintf(c.App.Writer, "%d secrets would be redacted: %s.\n", total.Total(), strings.Join(parts, ", "))
			return errSecretsFound
		},
	}
}

// checkFile prints the secrets in the file at path.
func checkFile(_ context.Context, w io.Writer, rd *redact.Redactor, path string) (push.Redactions, error) {
	found := push.Redactions{}
	b, err := os.ReadFile(path)
	if err != nil {
		return found, fmt.Errorf("redact --check: %w", err)
	}
	for i, line := range strings.SplitAfter(string(b), "\n") {
		for _, f := range push.Find(rd, line) {
			found[f.Kind]++
			fmt.Fprintf(w, "%s:%d: %s  %s\n", path, i+1, f.Kind, f.Preview)
		}
	}
	return found, nil
}

// startPushing runs the daemon's pusher until ctx ends: it pushes at once,
// a moment after each wake, and every rescan interval. A refusal (a wrong
// key, say) stops pushing, not the daemon. stop ends it and waits.
func startPushing(ctx context.Context, c *cli.Context, e *env) (wake func(), stop func(), err error) {
	p, err := newPusher(c, e.cfg)
	if err != nil {
		return nil, nil, err
	}
	p.Log = e.log.With("push", p.Client.URL)
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.Run(ctx, ch, e.cfg.Push.Delay, e.cfg.RescanInterval); err != nil {
			p.Log.Error("pushing stopped: fix the push settings and restart insights", "err", err)
		}
	}()
	e.log.Info("pushing", "server", p.Client.URL, "state", e.cfg.Push.StateFile)
	wake = func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return wake, func() { cancel(); <-done }, nil
}
