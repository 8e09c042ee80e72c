package cli

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
)

func userCommand() *cli.Command {
	name := func(c *cli.Context, verb string) (string, error) {
		if c.NArg() != 1 {
			return "", fmt.Errorf("%s takes one user name (see insights user %s --help)", verb, verb)
		}
		return c.Args().First(), nil
	}
	return &cli.Command{
		Name:  "user",
		Usage: "manage the team server's users and their API keys (team mode)",
		Description: "Users upload their sessions to the team server with an API key. The server keeps only a\n" +
			"hash of each key: a key is printed once, when it is made, and cannot be shown again\n" +
			"(rotate makes a new one). A member sees their own sessions and the team's aggregates;\n" +
			"an admin sees everything. The share level decides what the server keeps of a user's\n" +
			"uploads: none (usage numbers only), metadata (sessions, tool and token statistics, no\n" +
			"message text) or full (everything, searchable).",
		Subcommands: []*cli.Command{
			{
				Name:      "add",
				Usage:     "create a user and print their API key",
				ArgsUsage: "NAME [--admin] [--email ADDRESS] [--share none|metadata|full]",
				Flags: []cli.Flag{
					&cli.BoolFlag{Name: "admin", Usage: "the user sees every session and manages users"},
					&cli.StringFlag{Name: "email", Usage: "the user's `ADDRESS`"},
					&cli.StringFlag{Name: "share", Value: string(store.ShareFull), Usage: "what the server keeps of the user's uploads, `LEVEL` none, metadata or full"},
				},
				Action: func(c *cli.Context) error {
					// The flags may also follow the name, as the usage shows them.
					if c.NArg() == 0 {
						return fmt.Errorf("add takes one user name (see insights user add --help)")
					}
					fs := flag.NewFlagSet("add", flag.ContinueOnError)
					fs.SetOutput(io.Discard)
					admin := fs.Bool("admin", c.Bool("admin"), "")
					email := fs.String("email", c.String("email"), "")
					share := fs.String("share", c.String("share"), "")
					n := c.Args().First()
					if err := fs.Parse(c.Args().Tail()); err != nil {
						return fmt.Errorf("user add %s: %w", n, err)
					}
					if fs.NArg() > 0 {
						return fmt.Errorf("add takes one user name, got %q too", fs.Arg(0))
					}
					if err := store.CheckUserName(n); err != nil {
						return err
					}
					level, err := store.ParseShareLevel(*share)
					if err != nil {
						return err
					}
					return withTeam(c, func(e *env, team store.Team) error {
						key, hash, prefix := store.NewAPIKey()
						u, err := team.AddUser(c.Context, store.User{Name: n, Email: *email, Admin: *admin,
							Share: level, KeyPrefix: prefix}, hash)
						if errors.Is(err, store.ErrExists) {
							return fmt.Errorf("user %s exists already (insights user rotate %s makes a new key)", n, n)
						}
						if err != nil {
							return err
						}
						return printKey(c.App.Writer, e, u, key, "created")
					})
				},
			},
			{
				Name:      "list",
				Usage:     "list the users",
				ArgsUsage: " ",
				Action: func(c *cli.Context) error {
					if c.Args().Present() {
						return fmt.Errorf("list takes no arguments, got %q", c.Args().First())
					}
					return withTeam(c, func(_ *env, team store.Team) error {
						us, err := team.Users(c.Context)
						if err != nil {
							return err
						}
						return listUsers(c.App.Writer, us)
					})
				},
			},
			{
				Name:      "rotate",
				Usage:     "give a user a new API key (the old one stops working) and print it",
				ArgsUsage: "NAME",
				Action: func(c *cli.Context) error {
					n, err := name(c, "rotate")
					if err != nil {
						return err
					}
					return withTeam(c, func(e *env, team store.Team) error {
						key, hash, prefix := store.NewAPIKey()
						u, err := team.SetKey(c.Context, n, hash, prefix)
						if err != nil {
							return noUser(err, n)
						}
						return printKey(c.App.Writer, e, u, key, "new key for")
					})
				},
			},
			{
				Name:      "revoke",
				Usage:     "make a user's API key open nothing (rotate gives them a new one)",
				ArgsUsage: "NAME",
				Action: func(c *cli.Context) error {
					n, err := name(c, "revoke")
					if err != nil {
						return err
					}
					return withTeam(c, func(_ *env, team store.Team) error {
						u, err := team.Revoke(c.Context, n)
						if err != nil {
							return noUser(err, n)
						}
						_, err = fmt.Fprintf(c.App.Writer, "revoked the key %s… of %s\n", u.KeyPrefix, u.Name)
						return err
					})
				},
			},
			{
				Name: "set-password",
				Usage: "set the password a user signs in to the dashboard with (12 to 72 characters), read from the " +
					"first line of standard input; an empty line removes it. Their other sign-ins end",
				ArgsUsage: "NAME < FILE",
				Action: func(c *cli.Context) error {
					n, err := name(c, "set-password")
					if err != nil {
						return err
					}
					line, err := bufio.NewReader(c.App.Reader).ReadString('\n')
					if err != nil && !errors.Is(err, io.EOF) {
						return fmt.Errorf("read the password from standard input: %w", err)
					}
					pw := strings.TrimRight(line, "\r\n")
					var hash string
					if pw != "" {
						if hash, err = server.HashPassword(pw); err != nil {
							return err
						}
					}
					return withTeam(c, func(_ *env, team store.Team) error {
						u, err := team.SetPassword(c.Context, n, hash)
						if err != nil {
							return noUser(err, n)
						}
						what := "set the dashboard password of"
						if hash == "" {
							what = "removed the dashboard password of"
						}
						_, err = fmt.Fprintf(c.App.Writer, "%s %s\n", what, u.Name)
						return err
					})
				},
			},
			{
				Name:      "set-share",
				Usage:     "change what the server keeps of a user's next uploads",
				ArgsUsage: "NAME none|metadata|full",
				Action: func(c *cli.Context) error {
					if c.NArg() != 2 {
						return fmt.Errorf("set-share takes a user name and a level: none, metadata or full")
					}
					level, err := store.ParseShareLevel(c.Args().Get(1))
					if err != nil {
						return err
					}
					return withTeam(c, func(_ *env, team store.Team) error {
						u, err := team.SetShare(c.Context, c.Args().First(), level)
						if err != nil {
							return noUser(err, c.Args().First())
						}
						_, err = fmt.Fprintf(c.App.Writer, "%s now shares %s (from their next upload on)\n", u.Name, u.Share)
						return err
					})
				},
			},
		},
	}
}

func noUser(err error, name string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %s (insights user list shows them)", name)
	}
	return err
}

// withTeam runs f over the configured database's users, which only a
// PostgreSQL database has.
func withTeam(c *cli.Context, f func(*env, store.Team) error) error {
	e, err := setup(c)
	if err != nil {
		return err
	}
	defer e.db.Close()
	team, ok := e.db.(store.Team)
	if !ok {
		return fmt.Errorf("users belong to the team server: set db to its postgres:// DSN (now %s)", dbName(e.cfg))
	}
	return f(e, team)
}

func printKey(w io.Writer, e *env, u store.User, key, what string) error {
	_, err := fmt.Fprintf(w, "%s %s (%s, shares %s)\n\n  API key: %s\n\n"+
		"It is shown this once: the server keeps only its hash. Give it to %s to push with:\n"+
		"  insights push --server %s --key %s\n", what, u.Name, u.Role(), u.Share, key, u.Name, publicURL(e.cfg.Team), key)
	return err
}

func listUsers(w io.Writer, us []store.User) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tROLE\tSHARE\tKEY\tKEY MADE\tSTATE\tEMAIL")
	for _, u := range us {
		state := "active"
		if !u.RevokedAt.IsZero() {
			state = "revoked " + u.RevokedAt.Local().Format(time.DateOnly)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s…\t%s\t%s\t%s\n", u.Name, u.Role(), u.Share, u.KeyPrefix,
			u.KeyCreatedAt.Local().Format(time.DateOnly), state, u.Email)
	}
	if len(us) == 0 {
		fmt.Fprintln(tw, "(no users yet: insights user add NAME)")
	}
	return tw.Flush()
}
