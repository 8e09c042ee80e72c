package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/urfave/cli/v2"
)

const (
	// defaultHealthURL is the team API's liveness route at its default
	// address, as seen from inside the server's own container.
	defaultHealthURL = "http://127.0.0.1:8080/healthz"
	// envHealthURL overrides defaultHealthURL, for a server moved with
	// INSIGHTS_API_ADDR.
	envHealthURL = "INSIGHTS_HEALTHCHECK_URL"
	// healthTimeout is how long the check waits for an answer; Docker's own
	// timeout (HEALTHCHECK --timeout) should not be shorter.
	healthTimeout = 3 * time.Second
)

// healthcheckCommand probes a running server over HTTP. Container images
// carry no curl, so the binary checks itself; it reads neither the config
// nor the database, so that it answers for the server alone and cannot fail
// on a config the server was not started with.
func healthcheckCommand() *cli.Command {
	return &cli.Command{
		Name:      "healthcheck",
		Usage:     "exit 0 when a team server answers its health route with 2xx, else 1",
		ArgsUsage: "[URL]",
		Description: "GETs URL (default " + defaultHealthURL + ", or $" + envHealthURL + ") with a timeout\n" +
			"of 3 s and exits 0 on a 2xx answer; otherwise it prints the URL and the status or error on\n" +
			"stderr and exits 1. Redirects are not followed. It reads no config and opens no database:\n" +
			"it is the container image's HEALTHCHECK. A server moved with INSIGHTS_API_ADDR needs\n" +
			envHealthURL + " (or the URL argument) to match, e.g. http://127.0.0.1:9090/healthz.",
		Action: func(c *cli.Context) error {
			if c.NArg() > 1 {
				return fmt.Errorf("healthcheck takes at most one URL, got %q too", c.Args().Get(1))
			}
			target := c.Args().First()
			if target == "" {
				target = os.Getenv(envHealthURL)
			}
			if target == "" {
				target = defaultHealthURL
			}
			return checkHealth(c.Context, target)
		},
	}
}

// checkHealth GETs target and reports anything but a 2xx answer within
// healthTimeout as an error naming target.
func checkHealth(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("healthcheck %q: want an http:// or https:// URL", target)
	}
	ctx, cancel := context.WithTimeout(ctx, healthTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck %s: %w", target, err)
	}
	client := &http.Client{
		// The probe is for this server, never for a proxy in between.
		Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	res, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("healthcheck %s: no answer within %s", target, healthTimeout)
		}
		// url.Error repeats the method and URL that the message names already.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("healthcheck %s: %w", target, err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return fmt.Errorf("healthcheck %s: %s", target, res.Status)
	}
	return nil
}
