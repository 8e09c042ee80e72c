package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/claude-insights/insights/store"
)

// viewerKey holds, in a team request's context, the user making it.
type viewerKey struct{}

// withViewer returns a request made by a team member.
func withViewer(r *http.Request, u store.User) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), viewerKey{}, u))
}

// viewerOf returns the team member making a request; ok is false in solo
// mode, where whoever reaches the server owns everything in it.
func viewerOf(r *http.Request) (u store.User, ok bool) {
	u, ok = r.Context().Value(viewerKey{}).(store.User)
	return u, ok
}

// scopeOf is the user whose sessions a request may list: a member's own,
// or everyone's (0) for an admin and in solo mode.
func scopeOf(r *http.Request) int64 {
	if u, ok := viewerOf(r); ok && !u.Admin {
		return u.ID
	}
	return 0
}

// session returns a session the request may read: a member may read only
// the sessions they uploaded.
func (s *Server) session(r *http.Request, id string) (store.Session, error) {
	ss, err := s.db.Session(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return ss, notFound("no session %s", id)
	}
	if err != nil {
		return ss, err
	}
	if u, ok := viewerOf(r); ok && !u.Admin && ss.UserID != u.ID {
		return ss, forbidden("session %s belongs to another user", id)
	}
	return ss, nil
}
