package server

import (
	"context"
	"errors"
	"net/http"

	"github.com/claude-insights/insights/store"
)

// viewerKey holds, in a team request's context, the viewer making it.
type viewerKey struct{}

// viewer is the team member making a request, and whose sessions it reads.
type viewer struct {
	store.User
	// only is the user whose sessions the request reads: the member
	// themselves, or the one an admin names (0: everyone's).
	only int64
}

// withViewer returns a request made by a team member, reading the sessions
// of only (0: everyone's, for an admin).
func withViewer(r *http.Request, u store.User, only int64) *http.Request {
	if !u.Admin {
		only = u.ID
	}
	return r.WithContext(context.WithValue(r.Context(), viewerKey{}, viewer{User: u, only: only}))
}

// viewerOf returns the team member making a request; ok is false in solo
// mode, where whoever reaches the server owns everything in it.
func viewerOf(r *http.Request) (u store.User, ok bool) {
	v, ok := r.Context().Value(viewerKey{}).(viewer)
	return v.User, ok
}

// scopeOf is the user whose sessions a request lists: a member's own, the
// one an admin names, or everyone's (0) for an admin and in solo mode.
func scopeOf(r *http.Request) int64 {
	v, _ := r.Context().Value(viewerKey{}).(viewer)
	return v.only
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
	if !mayRead(r, ss) {
		return ss, forbidden("session %s belongs to another user", id)
	}
	return ss, nil
}

// mayRead says whether a request may read a session: a team member reads
// only the sessions they uploaded.
func mayRead(r *http.Request, ss store.Session) bool {
	u, ok := viewerOf(r)
	return !ok || u.Admin || ss.UserID == u.ID
}

// readablePlans keeps the plans a request may read: for a team member,
// those of a session of theirs, listing only those sessions.
func (s *Server) readablePlans(r *http.Request, ps []store.PlanInfo) ([]store.PlanInfo, error) {
	if u, ok := viewerOf(r); !ok || u.Admin {
		return ps, nil
	}
	out := ps[:0:0]
	for _, p := range ps {
		var ids []string
		for _, id := range p.Sessions {
			ss, err := s.db.Session(r.Context(), id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
			if err == nil && mayRead(r, ss) {
				ids = append(ids, id)
			}
		}
		if len(ids) > 0 {
			p.Sessions = ids
			out = append(out, p)
		}
	}
	return out, nil
}
