package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/claude-insights/insights/server"
	"github.com/claude-insights/insights/store"
	"github.com/claude-insights/insights/store/sqlite"
)

// serveUI starts the replay UI on addr and returns the server, to tell it
// what the watcher imported, its URL, and a function that stops it,
// letting requests in flight finish and ending the event streams.
func serveUI(e *env, addr string) (srv *server.Server, url string, stop func(), err error) {
	loc, err := location(e.cfg.Timezone)
	if err != nil {
		return nil, "", nil, err
	}
	srv, err = server.New(e.db, server.Options{ClaudeDir: e.cfg.ClaudeDir, Location: loc, Log: e.log})
	if err != nil {
		return nil, "", nil, err
	}
	url, stop, err = listen(e, "replay UI", "ui_addr or --ui-addr", addr, srv.Handler(), srv.Close)
	return srv, url, stop, err
}

// serveSQL starts the SQL explorer on addr over its own read-only
// connections to the SQLite database; session ids link to replayURL.
func serveSQL(ctx context.Context, e *env, addr, replayURL string) (stop func(), err error) {
	ex, err := sqlite.OpenExplorer(ctx, e.cfg.DB, store.ExploreLimits{Timeout: e.cfg.SQLTimeout, MaxRows: e.cfg.SQLMaxRows})
	if err != nil {
		return nil, err
	}
	srv, err := server.NewExplorer(ex, server.ExplorerOptions{ReplayURL: replayURL, DBPath: e.cfg.DB, Log: e.log})
	if err != nil {
		ex.Close()
		return nil, err
	}
	_, stopHTTP, err := listen(e, "SQL explorer", "sql_addr or --sql-addr", addr, srv.Handler(), nil)
	if err != nil {
		ex.Close()
		return nil, err
	}
	return func() { stopHTTP(); ex.Close() }, nil
}

// listen serves h on addr until stop is called; onShutdown (if any) runs
// when shutdown begins, to end requests that would otherwise last.
func listen(e *env, what, setting, addr string, h http.Handler, onShutdown func()) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s on %s: %w (another insights running? set %s)", what, addr, err, setting)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	if onShutdown != nil {
		hs.RegisterOnShutdown(onShutdown)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error(what+" stopped", "err", err)
		}
	}()
	url = "http://" + linkAddr(ln.Addr())
	e.log.Info(what, "url", url)
	return url, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
	}, nil
}

// linkAddr is the address to link to a listener by: a listener on every
// interface (0.0.0.0, ::) is reached on this machine at the loopback one.
func linkAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	ip := net.IPv4(127, 0, 0, 1)
	if tcp.IP.To4() == nil {
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(tcp.Port))
}
