package cli

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// serviceFile is where `service install` writes on this OS for home, as
// isolate sets it up.
func serviceFile(t *testing.T, home string) string {
	t.Helper()
	switch runtime.GOOS {
	case "linux":
		return filepath.Join(home, "config", "systemd", "user", "insights.service")
	case "darwin":
		return filepath.Join(home, "Library", "LaunchAgents", "dev.insights.daemon.plist")
	}
	t.Skipf("no login item on %s", runtime.GOOS)
	return ""
}

// installedArgv reads back the daemon's command line from the file at path.
// The test paths need no quoting, so an ExecStart line splits on spaces.
func installedArgv(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "darwin" {
		return parsePlist(t, string(b))["ProgramArguments"].Strings
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "ExecStart="); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("no ExecStart in %s:\n%s", path, b)
	return nil
}

func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

func TestServiceInstallUninstall(t *testing.T) {
	home := isolate(t)
	path := serviceFile(t, home)
	dir := t.TempDir()
	t.Chdir(dir)
	writeFile(t, "my.toml", "log_level = \"debug\"\n")

	out, err := run(t, "service", "install", "--no-start", "--config", "my.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{testExecutable(t), "--mode", "solo", "--config", filepath.Join(dir, "my.toml")}
	if got := installedArgv(t, path); !slices.Equal(got, want) {
		t.Errorf("daemon command line = %q, want %q", got, want)
	}
	startHint := map[string]string{"linux": "systemctl --user enable --now insights.service", "darwin": "launchctl load -w " + path}
	if !strings.Contains(out, path) || !strings.Contains(out, startHint[runtime.GOOS]) {
		t.Errorf("install output names neither %s nor %q:\n%s", path, startHint[runtime.GOOS], out)
	}

	out, err = run(t, "service", "uninstall", "--no-start")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("uninstall left %s: %v", path, err)
	}
	if !strings.Contains(out, "Removed "+path) {
		t.Errorf("uninstall output does not name %s:\n%s", path, out)
	}

	out, err = run(t, "service", "uninstall", "--no-start")
	if err != nil || !strings.Contains(out, "Not installed") {
		t.Errorf("uninstall when absent = %q, %v", out, err)
	}
}

func TestServiceInstallConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string // content of the default config file; none if empty
		args    []string
		config  string // expected --config value; "" for none
		wantErr bool
	}{
		{name: "no config file", args: []string{"service", "install", "--no-start"}},
		{name: "default file", file: "mode = \"solo\"\n", args: []string{"service", "install", "--no-start"}, config: "default"},
		{name: "named before the command", args: []string{"--config", "named", "service", "install", "--no-start"}, config: "named"},
		{name: "named file missing", args: []string{"service", "install", "--no-start", "--config", "/does/not/exist.toml"}, wantErr: true},
		{name: "invalid default file", file: "mode = \"cluster\"\n", args: []string{"service", "install", "--no-start"}, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := isolate(t)
			path := serviceFile(t, home)
			configs := map[string]string{
				"default": filepath.Join(home, "config", "insights", "config.toml"),
				"named":   filepath.Join(t.TempDir(), "named.toml"),
			}
			writeFile(t, configs["named"], "")
			if tc.file != "" {
				if err := os.MkdirAll(filepath.Dir(configs["default"]), 0o755); err != nil {
					t.Fatal(err)
				}
				writeFile(t, configs["default"], tc.file)
			}
			args := slices.Clone(tc.args)
			for i, a := range args {
				if p, ok := configs[a]; ok {
					args[i] = p
				}
			}
			_, err := run(t, args...)
			if tc.wantErr {
				if err == nil {
					t.Error("install succeeded")
				}
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Errorf("failed install wrote %s", path)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []string{testExecutable(t), "--mode", "solo"}
			if tc.config != "" {
				want = append(want, "--config", configs[tc.config])
			}
			if got := installedArgv(t, path); !slices.Equal(got, want) {
				t.Errorf("daemon command line = %q, want %q", got, want)
			}
		})
	}
}

// runService runs the command line and returns stdout and stderr apart.
func runService(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	app := New("test")
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.RunContext(context.Background(), append([]string{"insights"}, args...))
	return out.String(), errOut.String(), err
}

// fakeSystemctl puts on PATH a systemctl that logs its arguments and exits
// with code, or no systemctl at all when code is negative. It returns a
// function reading the calls logged so far.
func fakeSystemctl(t *testing.T, code int) func() []string {
	t.Helper()
	bin, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
	t.Setenv("PATH", bin)
	if code >= 0 {
		script := "#!/bin/sh\necho \"$*\" >> '" + calls + "'\n"
		if code > 0 {
			script += "echo 'Failed to connect to bus: No medium found' >&2\n"
		}
		script += "exit " + strconv.Itoa(code) + "\n"
		if err := os.WriteFile(filepath.Join(bin, "systemctl"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return func() []string {
		b, err := os.ReadFile(calls)
		if os.IsNotExist(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
}

func TestServiceSystemctl(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("systemd is on Linux only")
	}
	const (
		reload  = "--user daemon-reload"
		enable  = "--user enable --now insights.service"
		disable = "--user disable --now insights.service"
	)

	t.Run("works", func(t *testing.T) {
		home := isolate(t)
		path := serviceFile(t, home)
		calls := fakeSystemctl(t, 0)
		if out, errOut, err := runService(t, "service", "install"); err != nil || errOut != "" || !strings.Contains(out, "Started") {
			t.Fatalf("install = %q, %q, %v", out, errOut, err)
		}
		if got, want := calls(), []string{reload, enable}; !slices.Equal(got, want) {
			t.Errorf("install ran systemctl %q, want %q", got, want)
		}
		if _, _, err := runService(t, "service", "install"); err != nil {
			t.Fatal(err)
		}
		if got, want := calls(), []string{reload, enable, disable, reload, enable}; !slices.Equal(got, want) {
			t.Errorf("reinstall ran systemctl %q, want %q", got, want)
		}

		// What `systemctl enable` would have made.
		link := filepath.Join(filepath.Dir(path), "default.target.wants", "insights.service")
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(path, link); err != nil {
			t.Fatal(err)
		}
		out, errOut, err := runService(t, "service", "uninstall")
		if err != nil || errOut != "" || strings.Contains(out, "stop it with") {
			t.Fatalf("uninstall = %q, %q, %v", out, errOut, err)
		}
		if got, want := calls(), []string{reload, enable, disable, reload, enable, disable}; !slices.Equal(got, want) {
			t.Errorf("uninstall ran systemctl %q, want %q", got, want)
		}
		for _, p := range []string{path, link} {
			if _, err := os.Lstat(p); !os.IsNotExist(err) {
				t.Errorf("uninstall left %s", p)
			}
		}
	})

	for name, code := range map[string]int{"fails": 1, "missing": -1} {
		t.Run(name, func(t *testing.T) {
			home := isolate(t)
			path := serviceFile(t, home)
			fakeSystemctl(t, code)
			why := map[string]string{"fails": "Failed to connect to bus", "missing": "executable file not found"}[name]

			out, errOut, err := runService(t, "service", "install")
			if err != nil {
				t.Fatalf("install failed with systemctl %s: %v", name, err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("install did not keep the unit: %v", err)
			}
			if !strings.Contains(out, path) || !strings.Contains(errOut, why) || !strings.Contains(errOut, "systemctl "+enable) {
				t.Errorf("install with systemctl %s printed\nstdout: %s\nstderr: %s", name, out, errOut)
			}

			out, errOut, err = runService(t, "service", "uninstall")
			if err != nil {
				t.Fatalf("uninstall failed with systemctl %s: %v", name, err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Errorf("uninstall left %s", path)
			}
			if !strings.Contains(errOut, why) || !strings.Contains(out, "systemctl --user stop insights.service") {
				t.Errorf("uninstall with systemctl %s printed\nstdout: %s\nstderr: %s", name, out, errOut)
			}
		})
	}
}

func TestUnitFileSystemd(t *testing.T) {
	argv := []string{"/opt/my tools/ins$ights", "--mode", "solo", "--config", `/home/u/100% "sure"/$HOME.toml`}
	li, err := newLoginItem("linux", "/home/u", "/xdg/config", argv)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/xdg/config/systemd/user/insights.service"; li.path != want {
		t.Errorf("path = %s, want %s", li.path, want)
	}
	// "%" and "$" are doubled where systemd would expand them; "$" is not
	// expanded in the executable's path.
	keys := map[string]string{}
	section := ""
	for _, line := range strings.Split(li.text, "\n") {
		if strings.HasPrefix(line, "[") {
			section = line
		} else if k, v, ok := strings.Cut(line, "="); ok {
			keys[section+k] = v
		}
	}
	for k, want := range map[string]string{
		"[Service]ExecStart":  `"/opt/my tools/ins$ights" --mode solo --config "/home/u/100%% \"sure\"/$$HOME.toml"`,
		"[Service]Restart":    "on-failure",
		"[Service]RestartSec": "5",
		"[Install]WantedBy":   "default.target",
	} {
		if keys[k] != want {
			t.Errorf("%s = %q, want %q\n%s", k, keys[k], want, li.text)
		}
	}
	if keys["[Unit]Description"] == "" {
		t.Errorf("no description:\n%s", li.text)
	}
}

// plistValue is one element of a plist dict.
type plistValue struct {
	XMLName xml.Name
	Text    string   `xml:",chardata"`
	Strings []string `xml:"string"`
}

// parsePlist parses a plist whose root is a dict into its entries.
func parsePlist(t *testing.T, text string) map[string]plistValue {
	t.Helper()
	var doc struct {
		XMLName xml.Name `xml:"plist"`
		Dict    struct {
			Entries []plistValue `xml:",any"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("plist is not well-formed XML: %v\n%s", err, text)
	}
	m := map[string]plistValue{}
	e := doc.Dict.Entries
	for i := 0; i < len(e); i += 2 {
		if e[i].XMLName.Local != "key" || i+1 == len(e) {
			t.Fatalf("dict entry %d is not a key followed by a value:\n%s", i, text)
		}
		m[e[i].Text] = e[i+1]
	}
	return m
}

func TestUnitFileLaunchd(t *testing.T) {
	argv := []string{"/Applications/Tom & Jerry/insights", "--mode", "solo", "--config", "/Users/a b/<cfg>.toml"}
	li, err := newLoginItem("darwin", "/Users/a b", "", argv)
	if err != nil {
		t.Fatal(err)
	}
	if want := "/Users/a b/Library/LaunchAgents/dev.insights.daemon.plist"; li.path != want {
		t.Errorf("path = %s, want %s", li.path, want)
	}
	d := parsePlist(t, li.text)
	if v := d["Label"]; v.XMLName.Local != "string" || v.Text != "dev.insights.daemon" {
		t.Errorf("Label = %+v", v)
	}
	if v := d["ProgramArguments"]; v.XMLName.Local != "array" || !slices.Equal(v.Strings, argv) {
		t.Errorf("ProgramArguments = %+v, want %q", v, argv)
	}
	for _, k := range []string{"RunAtLoad", "KeepAlive"} {
		if d[k].XMLName.Local != "true" {
			t.Errorf("%s = %+v, want <true/>", k, d[k])
		}
	}
	for _, k := range []string{"StandardOutPath", "StandardErrorPath"} {
		if want := "/Users/a b/Library/Logs/insights.log"; d[k].Text != want {
			t.Errorf("%s = %q, want %q", k, d[k].Text, want)
		}
	}
	if got, want := shellLines(li.start), "  launchctl load -w '/Users/a b/Library/LaunchAgents/dev.insights.daemon.plist'\n"; got != want {
		t.Errorf("start commands = %q, want %q", got, want)
	}
}

func TestUnitFileOtherOS(t *testing.T) {
	if _, err := newLoginItem("windows", `C:\Users\u`, "", []string{"insights.exe"}); err == nil {
		t.Error("windows login item: no error")
	}
}
