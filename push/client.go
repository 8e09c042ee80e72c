package push

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/claude-insights/insights/store"
)

// Client speaks the team server's upload API with one user's key.
type Client struct {
	// URL is the server's address, such as https://insights.example.com.
	URL string
	Key string
	// HTTP is the client requests go through; nil is one with a 2-minute
	// timeout.
	HTTP *http.Client
}

// Me is the user a key belongs to, as the server knows them.
type Me struct {
	Name  string           `json:"name"`
	Role  string           `json:"role"`
	Share store.ShareLevel `json:"shareLevel"`
}

// ConflictError is a 409: the server's copy of the file ends at Offset.
type ConflictError struct {
	Offset int64
	Msg    string
}

func (e *ConflictError) Error() string { return "conflict: " + e.Msg }

// RefusedError is a 4xx answer that sending again will not change: a wrong
// key, a bad request, a session of another user.
type RefusedError struct {
	Status int
	Msg    string
}

func (e *RefusedError) Error() string {
	msg := fmt.Sprintf("the server refused the upload (%d %s): %s", e.Status, http.StatusText(e.Status), e.Msg)
	if e.Status == http.StatusUnauthorized {
		msg += " — check the key (push.key, --key or INSIGHTS_PUSH_KEY); an admin gives a new one with insights user rotate"
	}
	return msg
}

// TemporaryError is a failure worth retrying: the network, a 5xx, a 429.
// After is how long the server asked to wait, if it did.
type TemporaryError struct {
	Err   error
	After time.Duration
}

func (e *TemporaryError) Error() string { return e.Err.Error() }
func (e *TemporaryError) Unwrap() error { return e.Err }

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return &http.Client{Timeout: 2 * time.Minute}
}

// Me asks the server whose the key is and at which level they share.
func (c *Client) Me(ctx context.Context) (Me, error) {
	var me Me
	err := c.do(ctx, http.MethodGet, "/api/v1/me", nil, nil, &me)
	if err == nil {
		if _, perr := store.ParseShareLevel(string(me.Share)); perr != nil {
			return me, fmt.Errorf("the server's answer: %w", perr)
		}
	}
	return me, err
}

// Upload sends body, the rewriting of the lines of a file from offset to
// end, gzip-compressed.
func (c *Client) Upload(ctx context.Context, fileID, rel string, offset, end int64, body []byte) (store.UploadResult, error) {
	var res store.UploadResult
	var zb bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zb, gzip.BestSpeed)
	if _, err := zw.Write(body); err != nil {
		return res, err
	}
	if err := zw.Close(); err != nil {
		return res, err
	}
	q := url.Values{"file": {fileID}, "path": {rel}, "offset": {strconv.FormatInt(offset, 10)}, "end": {strconv.FormatInt(end, 10)}}
	err := c.do(ctx, http.MethodPost, "/api/v1/uploads?"+q.Encode(), &zb, map[string]string{
		"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"}, &res)
	return res, err
}

// do sends a request and decodes a 200's JSON answer into out; anything
// else is one of the errors above.
func (c *Client) do(ctx context.Context, method, path string, body io.Reader, header map[string]string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.URL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("push to %s: %w", c.URL, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Key)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := c.http().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &TemporaryError{Err: fmt.Errorf("reach %s: %w", c.URL, err)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return &TemporaryError{Err: fmt.Errorf("read the answer of %s: %w", c.URL, err)}
	}
	var answer struct {
		Error  string `json:"error"`
		Offset int64  `json:"offset"`
	}
	if res.StatusCode != http.StatusOK {
		if json.Unmarshal(b, &answer) != nil || answer.Error == "" {
			answer.Error = strings.TrimSpace(string(b))
			if len(answer.Error) > 200 {
				answer.Error = answer.Error[:200] + "…"
			}
		}
	}
	switch {
	case res.StatusCode == http.StatusOK:
		if err := json.Unmarshal(b, out); err != nil {
			return &TemporaryError{Err: fmt.Errorf("the answer of %s is not what an insights team server says: %w", c.URL, err)}
		}
		return nil
	case res.StatusCode == http.StatusConflict:
		return &ConflictError{Offset: answer.Offset, Msg: answer.Error}
	case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
		after, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		return &TemporaryError{Err: fmt.Errorf("%s answered %d: %s", c.URL, res.StatusCode, answer.Error),
			After: time.Duration(after) * time.Second}
	default:
		return &RefusedError{Status: res.StatusCode, Msg: answer.Error}
	}
}

// retryable reports whether err is worth sending again.
func retryable(err error) bool {
	var t *TemporaryError
	return errors.As(err, &t)
}
