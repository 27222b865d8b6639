package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kontor-billing/kontor/store"
)

type usersPage struct {
	Users  []store.User
	Roles  []Role
	Error  string
	Notice string
}

// usersPage lists the console's users, with forms to add and remove them (admin).
func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) {
	s.showUsers(w, r, http.StatusOK, usersPage{Notice: r.URL.Query().Get("done")})
}

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, status int, p usersPage) {
	users, err := s.cfg.Store.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p.Users, p.Roles = users, Roles
	s.renderStatus(w, r, status, "users", p)
}

// addUser adds a user with the posted name, role and password.
func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	name, role := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("role")
	if !ValidRole(role) {
		s.showUsers(w, r, http.StatusBadRequest, usersPage{Error: "choose a role: viewer, finance or admin"})
		return
	}
	hash, err := HashPassword(r.PostFormValue("password"))
	if err != nil {
		s.showUsers(w, r, http.StatusBadRequest, usersPage{Error: err.Error()})
		return
	}
	err = s.cfg.Store.AddUser(r.Context(), store.User{Name: name, Role: role, PasswordHash: hash})
	switch {
	case errors.Is(err, store.ErrUserExists):
		s.showUsers(w, r, http.StatusConflict, usersPage{Error: "a user " + name + " exists"})
		return
	case err != nil:
		s.cfg.Logger.Warn("console: add user refused", "user", name, "err", err)
		s.showUsers(w, r, http.StatusBadRequest, usersPage{Error: "the name must be 1 to 64 lower-case letters, digits, dots, dashes or underscores"})
		return
	}
	s.audit(r, userOf(r).Name, "add user", name+" ("+role+")")
	http.Redirect(w, r, "/users?done=added+"+name, http.StatusSeeOther)
}

// removeUser removes a user and ends its sessions; an admin cannot remove itself.
func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if name == userOf(r).Name {
		s.showUsers(w, r, http.StatusBadRequest, usersPage{Error: "you cannot remove yourself"})
		return
	}
	if err := s.cfg.Store.RemoveUser(r.Context(), name); err != nil {
		if errors.Is(err, store.ErrNoUser) {
			http.NotFound(w, r)
			return
		}
		s.fail(w, r, err)
		return
	}
	s.audit(r, userOf(r).Name, "remove user", name)
	http.Redirect(w, r, "/users?done=removed+"+name, http.StatusSeeOther)
}
