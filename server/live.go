package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/store"
)

// Live updates: whoever imports (the daemon's watcher) tells the server which
// sessions changed with Notify; open pages follow them over server-sent
// events, and a replay fetches its new steps as HTML rendered here.

const (
	// defaultHeartbeat is how often an idle stream sends a comment, so that
	// a client that went away is noticed and nothing between closes it.
	defaultHeartbeat = 15 * time.Second
	// retryMillis is how soon an EventSource connects again after its
	// stream ended, such as when the daemon restarts.
	retryMillis = 1000
	// maxPending bounds the changes a stream holds for a client that does
	// not read them; beyond it new ones are dropped.
	maxPending = 1000
	// activeWindow is how recent a session's last record must be for the
	// list to mark it live.
	activeWindow = 5 * time.Minute
)

// hub fans the sessions an import changed out to the open streams. Notify
// never waits for a stream: each subscriber gathers the ids it has not sent
// yet, so a slow client gets one event per session however many imports
// touched it meanwhile.
type hub struct {
	mu     sync.Mutex
	subs   map[*subscriber]bool
	closed bool
	done   chan struct{} // closed by close: every stream ends
}

// subscriber is one open stream, on one session or, with session "", on
// every session.
type subscriber struct {
	session string
	wake    chan struct{} // holds one wake-up at most
	mu      sync.Mutex
	pending map[string]bool
}

func newHub() *hub {
	return &hub{subs: map[*subscriber]bool{}, done: make(chan struct{})}
}

// subscribe opens a subscriber; false once the hub is closed.
func (h *hub) subscribe(session string) (*subscriber, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, false
	}
	sub := &subscriber{session: session, wake: make(chan struct{}, 1), pending: map[string]bool{}}
	h.subs[sub] = true
	return sub, true
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.subs, sub)
}

func (h *hub) notify(ids []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		for _, id := range ids {
			if sub.session == "" || sub.session == id {
				sub.add(id)
			}
		}
	}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// add notes that a session changed and wakes the stream, without waiting.
func (sub *subscriber) add(id string) {
	sub.mu.Lock()
	if len(sub.pending) < maxPending {
		sub.pending[id] = true
	}
	sub.mu.Unlock()
	select {
	case sub.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// take returns the changed sessions not sent yet, sorted, and forgets them.
func (sub *subscriber) take() []string {
	sub.mu.Lock()
	defer sub.mu.Unlock()
	ids := make([]string, 0, len(sub.pending))
	for id := range sub.pending {
		ids = append(ids, id)
	}
	clear(sub.pending)
	slices.Sort(ids)
	return ids
}

// Notify tells the pages open on these sessions that an import changed
// them. It never blocks on a client.
func (s *Server) Notify(ids ...string) { s.live.notify(ids) }

// Close ends every event stream and refuses new ones. Call it when the HTTP
// server shuts down (http.Server.RegisterOnShutdown): Shutdown waits for
// the streams otherwise.
func (s *Server) Close() { s.live.close() }

// sessionEvent is the data of an event: the state of a session that changed.
type sessionEvent struct {
	ID       string     `json:"id"`
	Messages int64      `json:"messages"`
	LastAt   *time.Time `json:"lastAt"`
}

// sessionEvents is GET /api/sessions/{id}/events: a stream of the session's
// changes, starting with its state now, so that a page that reconnects
// after a restart learns what it missed.
func (s *Server) sessionEvents(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := checkID(id); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := s.db.Session(r.Context(), id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = notFound("no session %s", id)
		}
		s.writeError(w, r, err)
		return
	}
	s.stream(w, r, id)
}

// allEvents is GET /api/events: a stream of the changes of every session.
func (s *Server) allEvents(w http.ResponseWriter, r *http.Request) { s.stream(w, r, "") }

// stream sends the changes of one session (or of all, for "") until the
// client goes away or the server closes.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, session string) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	// A stream's connection is never used again, and saying so lets a
	// browser drop it the moment the page closes the stream: otherwise
	// Chromium may read on for up to five seconds in the hope of reusing
	// it, holding one of the six connections it opens to a server.
	h.Set("Connection", "close")
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprintf(w, "retry: %d\n\n", retryMillis); err != nil || rc.Flush() != nil {
		return
	}
	// A stopping server still answers with a stream, an empty one: an
	// EventSource gives up on an error status but connects again after a
	// stream that ended.
	sub, ok := s.live.subscribe(session)
	if !ok {
		return
	}
	defer s.live.unsubscribe(sub)
	if session != "" {
		sub.add(session)
	}
	ctx := r.Context()
	tick := time.NewTicker(s.opts.Heartbeat)
	defer tick.Stop()
	for {
		var b bytes.Buffer
		select {
		case <-ctx.Done():
			return
		case <-s.live.done:
			return
		case <-tick.C:
			b.WriteString(": heartbeat\n\n")
		case <-sub.wake:
			for _, id := range sub.take() {
				ss, err := s.db.Session(ctx, id)
				if err != nil {
					if !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
						s.log.Warn("read a changed session", "session", id, "err", err)
					}
					continue
				}
				data, _ := json.Marshal(sessionEvent{ID: ss.ID, Messages: ss.Messages, LastAt: timePtr(ss.LastAt)})
				fmt.Fprintf(&b, "event: session\ndata: %s\n\n", data)
			}
		}
		if b.Len() == 0 {
			continue
		}
		if _, err := w.Write(b.Bytes()); err != nil || rc.Flush() != nil {
			return
		}
	}
}

// replaySteps is GET /sessions/{id}/steps?after=N: the main thread's steps
// after line N, rendered as on the replay page, for a replay to append as
// the session grows. It also renders again the earlier steps whose calls
// had no result at N (their result, or their subagent's messages, may have
// come since), and names them in X-Replaced; X-Last-Seq is the line to ask
// after next.
func (s *Server) replaySteps(w http.ResponseWriter, r *http.Request) {
	d, err := s.loadDetail(r, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	after, err := intParam(r, "after", 0, 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	b, err := s.newBuilder(r.Context(), d)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out bytes.Buffer
	var replaced []string
	last := int64(after)
	for _, n := range b.l.main {
		last = max(last, n.m.Seq)
		if n.resultOnly {
			continue
		}
		if n.m.Seq <= int64(after) {
			if !b.pending(n, int64(after)) {
				continue
			}
			replaced = append(replaced, n.anchor)
		}
		if err := s.pages["replay"].ExecuteTemplate(&out, "step", b.step(n, 0)); err != nil {
			s.log.Error("render steps", "path", r.URL.Path, "err", err)
			s.writeError(w, r, errors.New("render steps"))
			return
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Last-Seq", strconv.FormatInt(last, 10))
	h.Set("X-Replaced", strings.Join(replaced, " "))
	w.Write(out.Bytes())
}

// pending reports whether a main-thread message makes a call whose result
// was not there at line after: no result yet, or one on a later line.
func (b *builder) pending(n *node, after int64) bool {
	for _, id := range n.calls {
		rn := b.l.resultNode[id]
		if rn == nil || (rn.m.AgentID == "" && rn.m.Seq > after) {
			return true
		}
	}
	return false
}

// active reports whether a session was written to lately, as the list
// marks it.
func active(ss store.Session) bool {
	return !ss.LastAt.IsZero() && time.Since(ss.LastAt) < activeWindow
}
