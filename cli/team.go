package cli

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/config"
	"github.com/claude-insights/insights/exporter"
	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
)

// publicURL is where users reach the team API: the configured public URL,
// else http:// and the API's address (an unspecified host as loopback).
func publicURL(t config.Team) string {
	if t.PublicURL != "" {
		return strings.TrimRight(t.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(t.APIAddr)
	if err != nil {
		return "http://" + t.APIAddr
	}
	if host == "" || net.ParseIP(host) != nil && net.ParseIP(host).IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// runTeam serves the team API and the dashboard until interrupted, and
// repairs the aggregates in the background when it holds the lock for it.
func runTeam(c *cli.Context, e *env) error {
	team, ok := e.db.(store.Team)
	if !ok {
		return fmt.Errorf("team mode needs PostgreSQL: set db to a postgres:// DSN")
	}
	ctx, stop := contextOf(c)
	defer stop()
	srv, err := serveTeam(e, team, e.cfg.Team.APIAddr, e.cfg.Team.DashboardAddr)
	if err != nil {
		return err
	}
	e.log.Info("team server", "db", dbName(e.cfg), "public_url", publicURL(e.cfg.Team))
	export, err := exportSchedule(e, team, srv.api.ExportDone)
	if err != nil {
		srv.stop(0)
		return err
	}
	var jobs sync.WaitGroup
	jobs.Go(func() { repairLoop(ctx, e, team, e.cfg.Team.RepairInterval) })
	jobs.Go(func() { export(ctx) })
	<-ctx.Done()
	srv.stop(e.cfg.Team.ShutdownDelay)
	jobs.Wait()
	e.log.Info("stopped")
	return nil
}

// exportSchedule returns the daily Parquet snapshot's loop (which returns
// at once when export.time_of_day is empty): it backfills the days missed
// at start, then runs daily, on whichever server takes the lock, calling
// done after each run.
func exportSchedule(e *env, team store.Team, done func(days int, err error)) (func(context.Context), error) {
	at, on, err := e.cfg.Export.At()
	if err != nil || !on {
		return func(context.Context) {}, err
	}
	x, err := exporter.New(e.db, exporter.Options{Dir: e.cfg.Export.Dir, Compression: e.cfg.Export.Compression,
		Log: e.log.With("job", "export")})
	if err != nil {
		return nil, err
	}
	e.log.Info("daily Parquet snapshots", "dir", x.Dir(), "time_of_day", e.cfg.Export.TimeOfDay+" UTC",
		"retention_days", e.cfg.Export.RetentionDays)
	return func(ctx context.Context) {
		x.Run(ctx, exporter.Schedule{At: at, RetentionDays: e.cfg.Export.RetentionDays, Done: done,
			Lock: func(ctx context.Context) (func(), bool, error) { return team.TryLock(ctx, exportLock) }})
	}, nil
}

// teamListeners are the team server's API and dashboard, served.
type teamListeners struct {
	apiURL, dashURL string
	api             *server.TeamAPI
	dash            *server.Dashboard
	stopAPI         func()
	stopDash        func()
	closeUploads    func()
}

// serveTeam starts the team API on apiAddr and the dashboard on dashAddr
// ("" for none).
func serveTeam(e *env, team store.Team, apiAddr, dashAddr string) (*teamListeners, error) {
	uploads := e.importer().Uploads(team)
	t := &teamListeners{closeUploads: uploads.Close, stopDash: func() {}}
	var err error
	t.api, err = server.NewTeam(e.db, team, server.TeamOptions{
		Log: e.log, PublicURL: strings.TrimRight(e.cfg.Team.PublicURL, "/"), MaxUpload: e.cfg.Team.MaxUploadBytes(),
		RateLimit: e.cfg.Team.RateLimit, RateBurst: e.cfg.Team.RateBurst,
		Upload: uploads.Import,
	})
	if err != nil {
		uploads.Close()
		return nil, err
	}
	if t.apiURL, t.stopAPI, err = listen(e, "team API", "team.api_addr or --api-addr", apiAddr, t.api.Handler(), nil); err != nil {
		uploads.Close()
		return nil, err
	}
	if dashAddr != "" {
		t.dash, err = server.NewDashboard(e.db, team, server.DashboardOptions{Log: e.log, SessionTTL: e.cfg.Team.SessionTTL,
			PublicURL: e.cfg.Team.PublicURL})
		if err == nil {
			t.dashURL, t.stopDash, err = listen(e, "dashboard", "team.dashboard_addr or --dashboard-addr", dashAddr, t.dash.Handler(), nil)
		}
		if err != nil {
			t.stopAPI()
			uploads.Close()
			return nil, err
		}
	}
	return t, nil
}

// stop turns readiness false, waits delay for load balancers to notice,
// then stops taking requests, lets those under way finish, and writes the
// uploads' last batches.
func (t *teamListeners) stop(delay time.Duration) {
	t.api.Drain()
	if t.dash != nil {
		t.dash.Drain()
	}
	time.Sleep(delay)
	t.stopDash()
	t.stopAPI()
	t.closeUploads()
}

// repairLock names the lock of the aggregates' repair: one server on the
// database runs it at a time.
const repairLock = "aggregate-repair"

// repairLoop recomputes the aggregates of the last two days every
// interval, when no other server is doing it.
func repairLoop(ctx context.Context, e *env, team store.Team, every time.Duration) {
	if every <= 0 {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		repairOnce(ctx, e, team)
	}
}

// repairOnce runs the repair if it takes the lock; it reports whether it
// did.
func repairOnce(ctx context.Context, e *env, team store.Team) bool {
	unlock, ok, err := team.TryLock(ctx, repairLock)
	if err != nil {
		e.log.Warn("aggregate repair: lock", "err", err)
		return false
	}
	if !ok {
		e.log.Debug("aggregate repair: another server is at it")
		return false
	}
	defer unlock()
	start := time.Now()
	n, err := team.RefreshAggregates(ctx, start.UTC().AddDate(0, 0, -1))
	if err != nil {
		e.log.Warn("aggregate repair", "err", err)
		return true
	}
	e.log.Info("aggregates repaired", "user_days", n, "took", time.Since(start).Round(time.Millisecond))
	return true
}
