package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("XDG_CONFIG_HOME", "")
	t.Setenv("CLAUDE_CONFIG_DIR", "")
	c := Default()
	if c.Mode != ModeSolo || c.DB != "/home/u/.local/share/insights/insights.db" || c.ClaudeDir != "/home/u/.claude" {
		t.Errorf("defaults = %+v", c)
	}
	if c.Export.Dir != "/home/u/.local/share/insights/exports" || c.Export.TimeOfDay != "02:00" || c.Export.Compression != "zstd" {
		t.Errorf("export defaults = %+v", c.Export)
	}
	if p := DefaultPath(); p != "/home/u/.config/insights/config.toml" {
		t.Errorf("default path = %s", p)
	}
	t.Setenv("XDG_DATA_HOME", "/data")
	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	t.Setenv("CLAUDE_CONFIG_DIR", "/claude")
	c = Default()
	if c.DB != "/data/insights/insights.db" || c.ClaudeDir != "/claude" || DefaultPath() != "/cfg/insights/config.toml" {
		t.Errorf("XDG defaults = %+v, %s", c, DefaultPath())
	}
	// A relative XDG variable is invalid by the spec and ignored.
	t.Setenv("XDG_DATA_HOME", "rel")
	if c := Default(); c.DB != "/home/u/.local/share/insights/insights.db" {
		t.Errorf("relative XDG_DATA_HOME used: %s", c.DB)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if _, err := Load(filepath.Join(dir, "none.toml"), false); err != nil {
		t.Errorf("missing optional file: %v", err)
	}
	if _, err := Load(filepath.Join(dir, "none.toml"), true); err == nil {
		t.Error("missing named file accepted")
	}
	c, err := Load(write("ok.toml", `
mode = "solo"
db = "/x/y.db"
timezone = "Europe/Berlin"
[pricing."claude-opus-4-6"]
input = 1.5
long_context = { input = 3.0 }
`), true)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB != "/x/y.db" || c.Timezone != "Europe/Berlin" || c.Pricing["claude-opus-4-6"].Input != 1.5 ||
		c.Pricing["claude-opus-4-6"].LongContext.Input != 3 || c.LogLevel != "info" {
		t.Errorf("loaded = %+v", c)
	}
	for name, body := range map[string]string{
		"unknown.toml": "colour = 'blue'\n",
		"mode.toml":    "mode = 'cluster'\n",
		"team.toml":    "mode = 'team'\n",
		"syntax.toml":  "mode = \n",
		"level.toml":   "log_level = 'loud'\n",
		"apiaddr.toml": "[team]\napi_addr = '8080'\n",
		"url.toml":     "[team]\npublic_url = 'insights.example.com'\n",
		"upload.toml":  "[team]\nmax_upload_mb = 0\n",
		"burst.toml":   "[team]\nrate_limit = 5\nrate_burst = 0\n",
		"rate.toml":    "[team]\nrate_limit = -1\n",
		"teamkey.toml": "[team]\nport = 8080\n",
	} {
		if _, err := Load(write(name, body), true); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	for name, c := range map[string]struct{ body, msg string }{
		"pushurl.toml":    {"[push]\nserver = 'team.example.com'\n", "push.server"},
		"pushshare.toml":  {"[push]\nshare_level = 'some'\n", "push.share_level"},
		"pushdelay.toml":  {"[push]\ndelay = '-1s'\n", "push.delay"},
		"pushkind.toml":   {"[[push.redact]]\nkind = 'Bad Kind'\npattern = 'x+'\n", "Bad Kind"},
		"pushre.toml":     {"[[push.redact]]\nkind = 'acme'\npattern = 'acme_[a-'\n", "acme"},
		"pushempty.toml":  {"[[push.redact]]\nkind = 'acme'\npattern = 'x*'\n", "acme"},
		"pushstate.toml":  {"[push]\nstate_file = ''\n", "push.state_file"},
		"exporttime.toml": {"[export]\ntime_of_day = '25:00'\n", "export.time_of_day"},
		"exportkeep.toml": {"[export]\nretention_days = -1\n", "export.retention_days"},
		"exportzip.toml":  {"[export]\ncompression = 'gzip'\n", "export.compression"},
		"exportdir.toml":  {"[export]\ndir = ''\n", "export.dir"},
	} {
		if _, err := Load(write(name, c.body), true); err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want an error naming %q", name, err, c.msg)
		}
	}
	c, err = Load(write("push.toml", "[push]\nserver = 'https://team.example.com'\nkey = 'ins_x'\nshare_level = 'metadata'\n"+
		"[[push.redact]]\nkind = 'acme'\npattern = 'acme_([a-z]{8})'\n"), true)
	if err != nil || !c.Push.Enabled() || c.Push.ShareLevel != "metadata" || len(c.Push.Redact) != 1 || c.Push.Delay != 2*time.Second {
		t.Errorf("push section = %+v, %v", c.Push, err)
	}
	c, err = Load(write("teampg.toml", "mode = 'team'\ndb = 'postgres://u@h/db'\n[team]\napi_addr = '0.0.0.0:9090'\n"+
		"public_url = 'https://insights.example.com'\nmax_upload_mb = 8\nrate_limit = 0\n"), true)
	if err != nil {
		t.Errorf("team with PostgreSQL: %v", err)
	}
	if c.Team.APIAddr != "0.0.0.0:9090" || c.Team.PublicURL != "https://insights.example.com" || c.Team.MaxUploadBytes() != 8<<20 ||
		c.Team.RateLimit != 0 || c.Team.RateBurst != 100 {
		t.Errorf("team section = %+v", c.Team)
	}
	c, err = Load(write("export.toml", "[export]\ndir = '/srv/x'\ntime_of_day = '23:45'\nretention_days = 30\ncompression = 'snappy'\n"), true)
	if at, on, _ := c.Export.At(); err != nil || c.Export.Dir != "/srv/x" || !on || at != 23*time.Hour+45*time.Minute ||
		c.Export.RetentionDays != 30 || c.Export.Compression != "snappy" {
		t.Errorf("export section = %+v, %v", c.Export, err)
	}
	c, err = Load(write("noexport.toml", "[export]\ntime_of_day = ''\n"), true)
	if _, on, _ := c.Export.At(); err != nil || on {
		t.Errorf("an empty time_of_day should turn the daily snapshot off: %v %v", on, err)
	}
	if _, err := Load(write("unknown2.toml", "[pricing.x]\ninputs = 1\n"), true); err == nil || !strings.Contains(err.Error(), "inputs") {
		t.Errorf("unknown price key: %v", err)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	c, err := Load(filepath.Join("..", "config.example.toml"), true)
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	if c.Mode != ModeSolo {
		t.Errorf("example mode = %s", c.Mode)
	}
}

// TestExampleDocumentsEveryKey uncomments every key of config.example.toml:
// the result must load (no key there is unknown), and every key of Config
// must appear in it.
func TestExampleDocumentsEveryKey(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	key := regexp.MustCompile(`^# ?(\[|[a-z_0-9]+ = )`)
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if key.MatchString(l) {
			l = strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
		}
		lines = append(lines, l)
	}
	path := filepath.Join(t.TempDir(), "all.toml")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, true)
	if err != nil {
		t.Fatalf("uncommented example: %v", err)
	}
	if len(c.Pricing) == 0 || c.DB == "" || c.ClaudeDir == "" {
		t.Errorf("uncommented example lacks keys: %+v", c)
	}
	if len(c.Push.Redact) == 0 || c.Push.StateFile == "" {
		t.Errorf("uncommented example lacks push keys: %+v", c.Push)
	}
	for _, typ := range []reflect.Type{reflect.TypeOf(Config{}), reflect.TypeOf(Team{}), reflect.TypeOf(Push{}), reflect.TypeOf(RedactPattern{}), reflect.TypeOf(Export{})} {
		for i := 0; i < typ.NumField(); i++ {
			name := typ.Field(i).Tag.Get("toml")
			if !regexp.MustCompile(`(?m)^(# ?)?\[*(push\.)?` + name + `\b`).Match(b) {
				t.Errorf("config.example.toml does not document %s key %q", typ.Name(), name)
			}
		}
	}
	ptyp := reflect.TypeOf(c.Pricing["claude-opus-4-6"])
	for i := 0; i < ptyp.NumField(); i++ {
		if name := ptyp.Field(i).Tag.Get("toml"); !strings.Contains(string(b), name) {
			t.Errorf("config.example.toml does not document pricing key %q", name)
		}
	}
}
