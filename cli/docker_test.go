package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/urfave/cli/v2"
)

// repoRoot is the checkout, where the Dockerfile and compose.yaml are.
const repoRoot = ".."

// dockerfile is what the tests read of the Dockerfile.
type dockerfile struct {
	stages      int               // FROM lines
	args        map[string]string // ARG defaults
	env         map[string]string // ENV of the last stage
	user        string            // USER of the last stage
	expose      []string
	healthcheck string   // HEALTHCHECK, as written
	cmd         []string // CMD, exec form
	build       []string // the `go build` RUN line, as words, with ${ARG}s expanded
}

// readDockerfile parses the instructions the tests check, joining
// continued lines.
func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{args: map[string]string{}, env: map[string]string{}}
	var instr string
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") || line == "" && instr == "" {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			instr += cont + " "
			continue
		}
		instr += line
		d.add(t, instr)
		instr = ""
	}
	return d
}

func (d *dockerfile) add(t *testing.T, instr string) {
	t.Helper()
	key, rest, _ := strings.Cut(instr, " ")
	rest = strings.TrimSpace(rest)
	switch strings.ToUpper(key) {
	case "FROM":
		d.stages++
		d.env, d.user = map[string]string{}, ""
	case "ARG":
		name, def, _ := strings.Cut(rest, "=")
		d.args[name] = def
	case "ENV":
		name, val, _ := strings.Cut(rest, "=")
		d.env[name] = val
	case "USER":
		d.user = rest
	case "EXPOSE":
		d.expose = strings.Fields(rest)
	case "HEALTHCHECK":
		d.healthcheck = rest
	case "CMD":
		if err := json.Unmarshal([]byte(rest), &d.cmd); err != nil {
			t.Errorf("CMD %s: not the exec form: %v", rest, err)
		}
	case "RUN":
		if strings.Contains(rest, "go build") {
			if d.build != nil {
				t.Errorf("two RUN lines with go build")
			}
			d.build = shellWords(t, os.Expand(rest, func(k string) string { return d.args[k] }))
		}
	}
}

// shellWords splits a command line as sh does for plain words and double
// or single quotes, which is all the Dockerfile's build line uses.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words, in = append(words, w.String()), false
				w.Reset()
			}
		case strings.ContainsRune("&|;<>", r):
			t.Fatalf("the go build line %q is more than one command: keep it alone on its RUN line", s)
		default:
			w.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		t.Fatalf("unclosed quote in %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words
}

// goBuild is the Dockerfile's build line taken apart: the variables it
// sets, and the go build flags but its output.
type goBuild struct {
	env   []string
	flags []string
	tags  string
	ld    string
}

func parseGoBuild(t *testing.T, words []string) goBuild {
	t.Helper()
	var b goBuild
	i := 0
	for ; i < len(words) && strings.Contains(words[i], "=") && !strings.HasPrefix(words[i], "-"); i++ {
		b.env = append(b.env, words[i])
	}
	if i+1 >= len(words) || words[i] != "go" || words[i+1] != "build" {
		t.Fatalf("the build line %q is not VAR=value... go build ...", strings.Join(words, " "))
	}
	args := words[i+2:]
	for j := 0; j < len(args); j++ {
		name, val, hasVal := strings.Cut(strings.TrimLeft(args[j], "-"), "=")
		takesVal := name == "o" || name == "tags" || name == "ldflags"
		if takesVal && !hasVal && j+1 < len(args) {
			j++
			val = args[j]
		}
		switch {
		case name == "o":
			continue // the test's own output
		case name == "tags":
			b.tags = val
		case name == "ldflags":
			b.ld = val
		}
		if takesVal {
			b.flags = append(b.flags, "-"+name, val)
		} else {
			b.flags = append(b.flags, args[j])
		}
	}
	return b
}

// The Dockerfile builds with cgo and FTS5 in one stage, runs as a non-root
// user in another, exposes the API and dashboard ports and checks its
// health with the binary itself.
func TestDockerfile(t *testing.T) {
	d := readDockerfile(t)
	if d.stages < 2 {
		t.Errorf("%d FROM stages, want a build stage and a runtime stage", d.stages)
	}
	if d.user == "" || d.user == "root" || d.user == "0" || strings.HasPrefix(d.user, "0:") {
		t.Errorf("USER %q: the runtime stage must not run as root", d.user)
	}
	if !strings.Contains(d.healthcheck, `CMD ["insights", "healthcheck"`) {
		t.Errorf("HEALTHCHECK %q does not run insights healthcheck (exec form)", d.healthcheck)
	}
	for _, port := range []string{"8080", "8081"} {
		if !slices.Contains(d.expose, port) {
			t.Errorf("EXPOSE %v lacks %s", d.expose, port)
		}
	}
	if d.env["INSIGHTS_MODE"] != "team" {
		t.Errorf("ENV INSIGHTS_MODE = %q, want team", d.env["INSIGHTS_MODE"])
	}
	if !strings.HasPrefix(d.env["INSIGHTS_EXPORT_DIR"], "/var/lib/insights/") {
		t.Errorf("ENV INSIGHTS_EXPORT_DIR = %q, want a directory in the volume at /var/lib/insights", d.env["INSIGHTS_EXPORT_DIR"])
	}
	if d.build == nil {
		t.Fatal("no RUN line with go build")
	}
	b := parseGoBuild(t, d.build)
	if !slices.Contains(b.env, "CGO_ENABLED=1") {
		t.Errorf("the build line sets %v, want CGO_ENABLED=1 (go-sqlite3 is cgo)", b.env)
	}
	if !slices.Contains(strings.Split(b.tags, ","), "sqlite_fts5") {
		t.Errorf("the build line has -tags %q, want sqlite_fts5 (go-sqlite3 has no FTS5 without it)", b.tags)
	}
	if !strings.Contains(b.ld, "-X main.version=") {
		t.Errorf("the build line has -ldflags %q, want -X main.version=...", b.ld)
	}
	if slices.Contains(b.flags, "-trimpath") {
		t.Error("the build line has -trimpath: TestDockerImageBinary would then rebuild everything outside the Go build cache the tests use")
	}
}

// The binary built exactly as the Dockerfile builds it serves the team API
// until its own health check passes, and stops cleanly on SIGTERM as
// `docker stop` sends it.
func TestDockerImageBinary(t *testing.T) {
	d := readDockerfile(t)
	if d.build == nil {
		t.Fatal("no RUN line with go build in the Dockerfile")
	}
	b := parseGoBuild(t, d.build)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	// The caches and settings of the test run, before isolate moves HOME and
	// XDG_*: else the build starts from an empty cache and downloads modules.
	goEnv := goEnvOf(t, goTool, "GOCACHE", "GOMODCACHE", "GOPATH", "GOENV")
	dsn := teamDSN(t) // before the build: skips (or fails with CI=true) without PostgreSQL
	bin := filepath.Join(t.TempDir(), "insights")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// -buildvcs=false: the image's build context has no .git (.dockerignore).
	args := append([]string{"build", "-buildvcs=false"}, b.flags...)
	args = slices.Insert(args, len(args)-1, "-o", bin) // before the package
	build := exec.CommandContext(ctx, goTool, args...)
	build.Dir = repoRoot
	// The Dockerfile's flags alone, not the GOFLAGS tags of the test run.
	build.Env = slices.Concat(os.Environ(), goEnv, []string{"GOFLAGS="}, b.env)
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("go %s: %s", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))

	if out, err := exec.Command(bin, "version").Output(); err != nil || strings.TrimSpace(string(out)) != "insights "+d.args["VERSION"] {
		t.Errorf("insights version = %q (%v), want the ARG VERSION default %q", out, err, d.args["VERSION"])
	}

	// FTS5 is compiled in: the SQLite schema's full-text index and its
	// triggers need it, whatever GOFLAGS the test run has.
	sqliteDB := filepath.Join(t.TempDir(), "insights.db")
	if out, err := exec.Command(bin, "--db", sqliteDB, "import", testdataDir).CombinedOutput(); err != nil {
		t.Errorf("insights import into SQLite: %v\n%s", err, out)
	}

	addr, dashAddr := freeAddr(t), freeAddr(t)
	server := exec.Command(bin, d.cmd...)
	server.Env = os.Environ() // isolated by teamDSN
	for k, v := range d.env {
		server.Env = append(server.Env, k+"="+v)
	}
	exports := t.TempDir() // not the image's, on this machine
	server.Env = append(server.Env, "INSIGHTS_DB="+dsn, "INSIGHTS_API_ADDR="+addr, "INSIGHTS_DASHBOARD_ADDR="+dashAddr,
		"INSIGHTS_EXPORT_DIR="+exports)
	var logs bytes.Buffer
	server.Stdout, server.Stderr = &logs, &logs
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- server.Wait() }()
	t.Cleanup(func() {
		server.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("insights %s:\n%s", strings.Join(d.cmd, " "), logs.String())
		}
	})

	healthz := "http://" + addr + "/healthz"
	took := waitFor(t, 20*time.Second, "insights healthcheck "+healthz, func() bool {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the server exited before it was healthy: %v", err)
		default:
		}
		return exec.Command(bin, "healthcheck", healthz).Run() == nil
	})
	t.Logf("healthy after %s", took.Round(time.Millisecond))
	// The dashboard, with its static files embedded in the binary.
	if out, err := exec.Command(bin, "healthcheck", "http://"+dashAddr+"/static/app.css").CombinedOutput(); err != nil {
		t.Errorf("the dashboard's stylesheet: %v %s", err, out)
	}

	// Nothing listens here: the check fails with exit status 1 and one line.
	closed := "http://" + freeAddr(t) + "/healthz"
	var stderr bytes.Buffer
	check := exec.Command(bin, "healthcheck", closed)
	check.Stderr = &stderr
	err = check.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("healthcheck %s: %v, want exit status 1", closed, err)
	}
	if msg := stderr.String(); strings.Count(msg, "\n") != 1 || !strings.Contains(msg, closed) {
		t.Errorf("healthcheck %s printed %q, want one line naming the URL", closed, msg)
	}

	if err := server.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("after SIGTERM the server exited with %v, want status 0", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the server did not exit within 10 s of SIGTERM")
	}
}

// goEnvOf is the values of go env variables, as NAME=value.
func goEnvOf(t *testing.T, goTool string, names ...string) []string {
	t.Helper()
	out, err := exec.Command(goTool, append([]string{"env", "-json"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	var vals map[string]string
	if err := json.Unmarshal(out, &vals); err != nil {
		t.Fatalf("go env -json: %v", err)
	}
	env := make([]string, 0, len(names))
	for _, n := range names {
		env = append(env, n+"="+vals[n])
	}
	return env
}

// composeEnvKey is a variable set in a service's environment mapping.
var composeEnvKey = regexp.MustCompile(`^\s+(INSIGHTS_[A-Z0-9_]+):`)

// compose.yaml runs PostgreSQL 15 with a volume and a health check, starts
// insights once it is healthy, publishes both ports, sets only variables
// the binary reads, and shows user add with its real flags.
func TestDockerCompose(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(repoRoot, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{
		"image: postgres:15\n",
		"pg_isready",
		"condition: service_healthy",
		"build: .\n",
		`"8080:8080"`,
		`"8081:8081"`,
		"- pgdata:/var/lib/postgresql/data",
		"- exports:/var/lib/insights",
		"INSIGHTS_DB: postgres://",
		"stop_grace_period:",
		"docker compose exec insights insights user add --admin ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("compose.yaml lacks %q", want)
		}
	}
	// The top-level volumes section declares both named volumes.
	var top string
	volumes := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if line != "" && !strings.HasPrefix(line, " ") && !strings.HasPrefix(line, "#") {
			top = strings.TrimSuffix(line, ":")
			continue
		}
		if top == "volumes" && strings.HasSuffix(strings.TrimSpace(line), ":") {
			volumes[strings.TrimSuffix(strings.TrimSpace(line), ":")] = true
		}
		if m := composeEnvKey.FindStringSubmatch(line); m != nil && !knownEnv()[m[1]] {
			t.Errorf("compose.yaml sets %s, which insights does not read", m[1])
		}
	}
	for _, v := range []string{"pgdata", "exports"} {
		if !volumes[v] {
			t.Errorf("compose.yaml's top-level volumes lack %s (have %v)", v, volumes)
		}
	}
	// The admin command shown is the real one.
	add := New("test").Command("user").Command("add")
	if add == nil || !slices.ContainsFunc(add.Flags, func(f cli.Flag) bool {
		return slices.Contains(f.Names(), "admin")
	}) {
		t.Error("insights user add has no --admin flag, which compose.yaml shows")
	}
}

// knownEnv is every variable the insights binary reads.
func knownEnv() map[string]bool {
	known := map[string]bool{envPushKey: true, envHealthURL: true}
	for _, f := range New("test").Flags {
		if ev, ok := f.(interface{ GetEnvVars() []string }); ok {
			for _, v := range ev.GetEnvVars() {
				known[v] = true
			}
		}
	}
	return known
}
