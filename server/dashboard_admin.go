package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/claude-insights/insights/store"
)

type adminData struct {
	Users []store.User
	// Key is a new key, shown this once, and whose it is.
	Key, KeyUser string
	Done         string
	Levels       []store.ShareLevel
	CSRF         string
}

// adminPage is GET /admin/users: every user, with forms to add one, give a
// new key, revoke, and set the share level or password.
func (d *Dashboard) adminPage(r *http.Request) (page, error) {
	return d.adminView(r, "", "")
}

func (d *Dashboard) adminView(r *http.Request, key, keyUser string) (page, error) {
	us, err := d.team.Users(r.Context())
	if err != nil {
		return page{}, err
	}
	data := adminData{Users: us, Key: key, KeyUser: keyUser, Done: r.URL.Query().Get("done"),
		Levels: []store.ShareLevel{store.ShareFull, store.ShareMetadata, store.ShareNone}, CSRF: csrfOf(r)}
	return page{Template: "team_admin", Title: "Users", Data: data}, nil
}

// adminOnly answers 403 to a member.
func (d *Dashboard) adminOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _ := viewerOf(r); !u.Admin {
			d.writeHTMLError(w, r, forbidden("only admins may manage users"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// adminCreate is POST /admin/users: a new user; the page shows their key
// once.
func (d *Dashboard) adminCreate(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostFormValue("name"))
	level, err := store.ParseShareLevel(r.PostFormValue("share"))
	if err == nil {
		err = store.CheckUserName(name)
	}
	if err != nil {
		d.writeHTMLError(w, r, badRequest("%v", err))
		return
	}
	key, hash, prefix := store.NewAPIKey()
	u, err := d.team.AddUser(r.Context(), store.User{Name: name, Email: strings.TrimSpace(r.PostFormValue("email")),
		Admin: r.PostFormValue("admin") == "1", Share: level, KeyPrefix: prefix}, hash)
	if errors.Is(err, store.ErrExists) {
		err = &httpError{Status: http.StatusConflict, Msg: fmt.Sprintf("a user named %s exists already", name)}
	}
	if err != nil {
		d.writeHTMLError(w, r, err)
		return
	}
	viewer, _ := viewerOf(r)
	d.opts.Log.Info("user added", "user", u.Name, "role", u.Role(), "by", viewer.Name)
	d.html(func(r *http.Request) (page, error) { return d.adminView(r, key, u.Name) }).ServeHTTP(w, r)
}

// adminAction is POST /admin/users/{name}/{key|revoke|share|password}.
func (d *Dashboard) adminAction(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	name, action := v["name"], v["action"]
	ctx := r.Context()
	var err error
	var key, done string
	switch action {
	case "key":
		var hash []byte
		var prefix string
		key, hash, prefix = store.NewAPIKey()
		_, err = d.team.SetKey(ctx, name, hash, prefix)
	case "revoke":
		_, err = d.team.Revoke(ctx, name)
		done = name + "'s key is revoked: it opens nothing, and they cannot sign in"
	case "share":
		var level store.ShareLevel
		if level, err = store.ParseShareLevel(r.PostFormValue("share")); err != nil {
			err = badRequest("%v", err)
			break
		}
		_, err = d.team.SetShare(ctx, name, level)
		done = fmt.Sprintf("%s now shares %s (from their next upload on)", name, level)
	case "password":
		pw := r.PostFormValue("password")
		var hash string
		if pw != "" {
			if hash, err = HashPassword(pw); err != nil {
				break
			}
		}
		_, err = d.team.SetPassword(ctx, name, hash)
		done = name + "'s password is set; their other sign-ins ended"
		if pw == "" {
			done = name + "'s password is removed: they sign in with their API key"
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		err = notFound("no user %s", name)
	}
	if err != nil {
		d.writeHTMLError(w, r, err)
		return
	}
	viewer, _ := viewerOf(r)
	d.opts.Log.Info("user changed", "user", name, "action", action, "by", viewer.Name)
	if key != "" {
		d.html(func(r *http.Request) (page, error) { return d.adminView(r, key, name) }).ServeHTTP(w, r)
		return
	}
	http.Redirect(w, r, "/admin/users?done="+url.QueryEscape(done), http.StatusSeeOther)
}
