package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/claude-insights/insights/server"
)

// serveUI starts the replay UI on addr and returns the server, to tell it
// what the watcher imported, and a function that stops it, letting requests
// in flight finish and ending the event streams.
func serveUI(e *env, addr string) (srv *server.Server, stop func(), err error) {
	loc, err := location(e.cfg.Timezone)
	if err != nil {
		return nil, nil, err
	}
	srv, err = server.New(e.db, server.Options{ClaudeDir: e.cfg.ClaudeDir, Location: loc, Log: e.log})
	if err != nil {
		return nil, nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("replay UI on %s: %w (another insights running? set ui_addr or --ui-addr)", addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	// Shutdown waits for every request to end, and event streams end only
	// when told to.
	hs.RegisterOnShutdown(srv.Close)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("replay UI stopped", "err", err)
		}
	}()
	e.log.Info("replay UI", "url", "http://"+ln.Addr().String())
	return srv, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
	}, nil
}
