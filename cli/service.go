package cli

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/config"
)

const (
	systemdUnit  = "insights.service"
	launchdLabel = "dev.insights.daemon"
	flagNoStart  = "no-start"
)

// serviceCommand installs insights as a login item.
func serviceCommand() *cli.Command {
	noStart := func(usage string) []cli.Flag {
		return []cli.Flag{&cli.BoolFlag{Name: flagNoStart, Usage: usage}}
	}
	return &cli.Command{
		Name:  "service",
		Usage: "install or uninstall insights as a login item",
		Description: "Runs the daemon (insights --mode solo) at every login, with the config file in use now,\n" +
			"under the user's service manager: a systemd user unit on Linux\n" +
			"($XDG_CONFIG_HOME/systemd/user/" + systemdUnit + "), a LaunchAgent on macOS\n" +
			"(~/Library/LaunchAgents/" + launchdLabel + ".plist, logging to ~/Library/Logs/insights.log).",
		Subcommands: []*cli.Command{
			{
				Name:  "install",
				Usage: "write the login item and start it",
				Description: "Writes the unit (or plist) running this executable with --mode solo and --config set to\n" +
					"the absolute path of --config, or of the default config file when it exists; the config is\n" +
					"checked first. Then enables and starts it with systemctl --user (or launchctl). If that\n" +
					"fails, the file stays and the commands to run by hand are printed. Installing again\n" +
					"rewrites the file and restarts the service.",
				Flags:  noStart("only write the file, and print the commands that start it"),
				Action: installService,
			},
			{
				Name:        "uninstall",
				Usage:       "stop the login item and remove it",
				Description: "Stops and disables the service, then removes its file. Nothing installed is not an error.",
				Flags:       noStart("only remove the file, and print the commands that stop what still runs"),
				Action:      uninstallService,
			},
		},
	}
}

func installService(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("install service: unexpected argument %q", c.Args().First())
	}
	argv, err := daemonArgv(c)
	if err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	li, err := currentLoginItem(argv)
	if err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	start := !c.Bool(flagNoStart)
	if start && fileExists(li.path) {
		// Reinstalling: stop the old definition so that the new one takes effect.
		// It may not be running at all, so a failure here says nothing.
		_ = runCommands(c.Context, li.stop)
	}
	if err := os.MkdirAll(filepath.Dir(li.path), 0o755); err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	if err := os.WriteFile(li.path, []byte(li.text), 0o644); err != nil {
		return fmt.Errorf("install service: %w", err)
	}
	w := c.App.Writer
	fmt.Fprintf(w, "Wrote %s.\n", li.path)
	if !start {
		fmt.Fprintf(w, "Start it with:\n%s", shellLines(li.start))
		return nil
	}
	if err := runCommands(c.Context, li.start); err != nil {
		fmt.Fprintf(c.App.ErrWriter, "Note: the service is installed but did not start: %v\nStart it by hand with:\n%s",
			fmt.Errorf("start service: %w", err), shellLines(li.start))
		return nil
	}
	fmt.Fprintln(w, "Started; it will start again at every login.")
	return nil
}

func uninstallService(c *cli.Context) error {
	if c.Args().Present() {
		return fmt.Errorf("uninstall service: unexpected argument %q", c.Args().First())
	}
	li, err := currentLoginItem(nil)
	if err != nil {
		return fmt.Errorf("uninstall service: %w", err)
	}
	w := c.App.Writer
	if !fileExists(li.path) {
		fmt.Fprintf(w, "Not installed: %s does not exist.\n", li.path)
		return nil
	}
	stopped := false
	if !c.Bool(flagNoStart) {
		if err := runCommands(c.Context, li.stop); err != nil {
			fmt.Fprintf(c.App.ErrWriter, "Note: could not stop the service: %v\n", fmt.Errorf("stop service: %w", err))
		} else {
			stopped = true
		}
	}
	for _, p := range append([]string{li.path}, li.links...) {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("uninstall service: %w", err)
		}
	}
	fmt.Fprintf(w, "Removed %s.\n", li.path)
	if !stopped {
		fmt.Fprintf(w, "If it still runs, stop it with:\n%s", shellLines(li.gone))
	}
	return nil
}

// daemonArgv is the command line of the daemon: this executable in solo mode
// with the config in use. The config is loaded now so that a mistake shows
// here rather than in a service that fails at every login.
func daemonArgv(c *cli.Context) ([]string, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return nil, fmt.Errorf("find the insights executable: %w", err)
	}
	path, named := lookup(c, flagConfig)
	if !named {
		path = config.DefaultPath()
	}
	if path, err = filepath.Abs(path); err != nil {
		return nil, err
	}
	if _, err := config.Load(path, named); err != nil {
		return nil, err
	}
	argv := []string{exe, "--mode", config.ModeSolo}
	// Naming a default file that does not exist would make it required;
	// without --config, the daemon reads it once it is created.
	if named || fileExists(path) {
		argv = append(argv, "--config", path)
	}
	return argv, nil
}

// currentLoginItem is the login item of this machine and user.
func currentLoginItem(argv []string) (loginItem, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return loginItem{}, err
	}
	configHome := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(configHome) {
		configHome = filepath.Join(home, ".config")
	}
	return newLoginItem(runtime.GOOS, home, configHome, argv)
}

// loginItem is the file that has the service manager of one OS run a
// command at login, and the commands that drive that manager.
type loginItem struct {
	path  string
	text  string
	links []string   // made by the manager when enabling; removed with the file
	start [][]string // load and start the service once the file is written
	stop  [][]string // stop and unload it while the file still exists
	gone  [][]string // stop what still runs once the file is removed
}

// newLoginItem describes the login item running argv on goos, for the user
// whose home directory is home and whose $XDG_CONFIG_HOME is configHome. It
// reads nothing from the machine, so any OS can be described anywhere.
func newLoginItem(goos, home, configHome string, argv []string) (loginItem, error) {
	switch goos {
	case "linux":
		dir := filepath.Join(configHome, "systemd", "user")
		systemctl := func(args ...string) []string { return append([]string{"systemctl", "--user"}, args...) }
		return loginItem{
			path:  filepath.Join(dir, systemdUnit),
			text:  systemdText(argv),
			links: []string{filepath.Join(dir, "default.target.wants", systemdUnit)},
			start: [][]string{systemctl("daemon-reload"), systemctl("enable", "--now", systemdUnit)},
			stop:  [][]string{systemctl("disable", "--now", systemdUnit)},
			gone:  [][]string{systemctl("stop", systemdUnit), systemctl("daemon-reload")},
		}, nil
	case "darwin":
		path := filepath.Join(home, "Library", "LaunchAgents", launchdLabel+".plist")
		return loginItem{
			path:  path,
			text:  launchdText(argv, filepath.Join(home, "Library", "Logs", "insights.log")),
			start: [][]string{{"launchctl", "load", "-w", path}},
			stop:  [][]string{{"launchctl", "unload", "-w", path}},
			gone:  [][]string{{"launchctl", "remove", launchdLabel}},
		}, nil
	}
	return loginItem{}, fmt.Errorf("no login item for %s: run insights from your own service manager", goos)
}

func systemdText(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = systemdQuote(a, i > 0)
	}
	return "[Unit]\n" +
		"Description=insights: imports Claude Code sessions as they are written\n\n" +
		"[Service]\n" +
		"ExecStart=" + strings.Join(quoted, " ") + "\n" +
		"Restart=on-failure\n" +
		"RestartSec=5\n\n" +
		"[Install]\n" +
		"WantedBy=default.target\n"
}

// systemdEscaper keeps systemd from expanding specifiers (%h) and
// variables ($HOME) and from reading C escapes in a word. Variables are not
// expanded in the executable's path, where "$" stays as it is.
var (
	systemdEscaper     = strings.NewReplacer("%", "%%", "$", "$$", `\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
	systemdPathEscaper = strings.NewReplacer("%", "%%", `\`, `\\`, `"`, `\"`, "\n", `\n`, "\t", `\t`)
)

// systemdQuote makes s one word of an ExecStart line: an argument, or the
// executable's path when it is not arg.
func systemdQuote(s string, arg bool) string {
	if plainWord(s) {
		return s
	}
	e := systemdPathEscaper
	if arg {
		e = systemdEscaper
	}
	return `"` + e.Replace(s) + `"`
}

func launchdText(argv []string, logPath string) string {
	var b strings.Builder
	str := func(s string) string {
		var e strings.Builder
		_ = xml.EscapeText(&e, []byte(s)) // a strings.Builder does not fail
		return "<string>" + e.String() + "</string>"
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	` + str(launchdLabel) + `
	<key>ProgramArguments</key>
	<array>
`)
	for _, a := range argv {
		b.WriteString("\t\t" + str(a) + "\n")
	}
	b.WriteString(`	</array>
	<key>RunAtLoad</key>
	<true/>
	<key>KeepAlive</key>
	<true/>
	<key>StandardOutPath</key>
	` + str(logPath) + `
	<key>StandardErrorPath</key>
	` + str(logPath) + `
</dict>
</plist>
`)
	return b.String()
}

// runCommands runs each command in turn and stops at the first failure,
// whose error carries the command's output.
func runCommands(ctx context.Context, cmds [][]string) error {
	for _, argv := range cmds {
		out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput()
		if err != nil {
			if msg := strings.TrimSpace(string(out)); msg != "" {
				err = fmt.Errorf("%w: %s", err, msg)
			}
			return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
		}
	}
	return nil
}

// plainWord reports whether s needs no quoting, by a shell or by systemd.
func plainWord(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+=:,@") == ""
}

// shellLines prints commands for a POSIX shell, one per indented line.
func shellLines(cmds [][]string) string {
	var b strings.Builder
	for _, argv := range cmds {
		words := make([]string, len(argv))
		for i, a := range argv {
			words[i] = a
			if !plainWord(a) {
				words[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
			}
		}
		b.WriteString("  " + strings.Join(words, " ") + "\n")
	}
	return b.String()
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
