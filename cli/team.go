package cli

import (
	"fmt"
	"net"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/claude-insights/insights/config"
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

// runTeam serves the team API until interrupted.
func runTeam(c *cli.Context, e *env) error {
	team, ok := e.db.(store.Team)
	if !ok {
		return fmt.Errorf("team mode needs PostgreSQL: set db to a postgres:// DSN")
	}
	ctx, stop := contextOf(c)
	defer stop()
	_, stopAPI, err := serveTeam(e, team, e.cfg.Team.APIAddr)
	if err != nil {
		return err
	}
	e.log.Info("team server", "db", dbName(e.cfg), "public_url", publicURL(e.cfg.Team))
	<-ctx.Done()
	stopAPI()
	e.log.Info("stopped")
	return nil
}

// serveTeam starts the team API on addr.
func serveTeam(e *env, team store.Team, addr string) (url string, stop func(), err error) {
	uploads := e.importer().Uploads(team)
	api, err := server.NewTeam(e.db, team, server.TeamOptions{
		Log: e.log, PublicURL: strings.TrimRight(e.cfg.Team.PublicURL, "/"), MaxUpload: e.cfg.Team.MaxUploadBytes(),
		RateLimit: e.cfg.Team.RateLimit, RateBurst: e.cfg.Team.RateBurst,
		Upload: uploads.Import,
	})
	if err != nil {
		uploads.Close()
		return "", nil, err
	}
	url, stopHTTP, err := listen(e, "team API", "team.api_addr or --api-addr", addr, api.Handler(), nil)
	if err != nil {
		uploads.Close()
		return "", nil, err
	}
	// The writer stops after the requests: their last batches are written.
	return url, func() { stopHTTP(); uploads.Close() }, nil
}
