package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kontor-billing/kontor/store"
)

// Role is what a console user may do: a viewer reads, finance also dry-runs, starts runs
// and credits invoices, an admin also manages users.
type Role string

// The roles, each allowed what the one before it is.
const (
	Viewer  Role = "viewer"
	Finance Role = "finance"
	Admin   Role = "admin"
)

// Roles are the roles in rising order.
var Roles = []Role{Viewer, Finance, Admin}

// ValidRole reports whether r is a role.
func ValidRole(r string) bool {
	for _, x := range Roles {
		if string(x) == r {
			return true
		}
	}
	return false
}

func (r Role) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// allows reports whether a user of role r may do what needs role need.
func (r Role) allows(need Role) bool { return r.rank() >= need.rank() }

const sessionCookie = "kontor_session"

// user is the signed-in user of a request.
type user struct {
	Name string
	Role Role
}

type userKey struct{}

func userOf(r *http.Request) user {
	u, _ := r.Context().Value(userKey{}).(user)
	return u
}

// hashID is what the store keeps of a session ID: its SHA-256, so that the sessions
// table does not hold what a cookie carries.
func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// newSessionID is 32 random bytes, URL-safe base64.
func newSessionID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// need wraps h so that it runs only for a signed-in user whose role allows need: without
// a session a page redirects to the login page and anything else gets 401; a role that
// does not allow it gets 403.
func (s *Server) need(role Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := s.sessionUser(r)
		switch {
		case !ok && r.Method == http.MethodGet:
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		case !ok:
			http.Error(w, "sign in first", http.StatusUnauthorized)
		case !u.Role.allows(role):
			s.cfg.Logger.Warn("console: refused", "user", u.Name, "role", u.Role, "needs", role, "method", r.Method, "path", r.URL.Path)
			http.Error(w, "your role does not allow this", http.StatusForbidden)
		default:
			h(w, r.WithContext(context.WithValue(r.Context(), userKey{}, u)))
		}
	}
}

func (s *Server) sessionUser(r *http.Request) (user, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return user{}, false
	}
	u, err := s.cfg.Store.SessionUser(r.Context(), hashID(c.Value))
	if err != nil {
		if !errors.Is(err, store.ErrNoUser) {
			s.cfg.Logger.Error("console: session", "err", err)
		}
		return user{}, false
	}
	return user{Name: u.Name, Role: Role(u.Role)}, true
}

// login checks a name and password and, when they match, starts a new session: a new ID
// at every login, whatever cookie the request brought (no session fixation).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	name, password := strings.TrimSpace(r.PostFormValue("name")), r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	key := name + "|" + clientIP(r)
	if !s.limiter.allow(key, s.now()) {
		s.cfg.Logger.Warn("console: login refused, too many failures", "user", name, "client", clientIP(r))
		s.renderStatus(w, r, http.StatusTooManyRequests, "login", loginPage{Name: name, Next: next, Error: "Too many failed attempts. Wait a few minutes and try again."})
		return
	}
	u, err := s.cfg.Store.UserByName(r.Context(), name)
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash()
	}
	ok, herr := CheckPassword(hash, password)
	if err != nil || herr != nil || !ok {
		s.limiter.fail(key, s.now())
		s.cfg.Logger.Info("console: login failed", "user", name, "client", clientIP(r))
		s.renderStatus(w, r, http.StatusUnauthorized, "login", loginPage{Name: name, Next: next, Error: "Name or password is wrong."})
		return
	}
	if err := s.startSession(w, r, u.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	s.limiter.reset(key)
	s.audit(r, u.Name, "login", "")
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, name string) error {
	if old, err := r.Cookie(sessionCookie); err == nil {
		_ = s.cfg.Store.DeleteSession(r.Context(), hashID(old.Value))
	}
	id, err := newSessionID()
	if err != nil {
		return err
	}
	expires := s.now().Add(s.ttl())
	if err := s.cfg.Store.CreateSession(r.Context(), hashID(id), name, expires); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	return nil
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.cfg.Store.DeleteSession(r.Context(), hashID(c.Value)); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// safeNext is where to go after login: a path on this server, never another site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/runs"
	}
	return next
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// loginLimiter counts failed logins per name and client: after maxFailures within
// failureWindow, logins of that pair are refused until the window has passed.
type loginLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
}

const (
	maxFailures   = 5
	failureWindow = 15 * time.Minute
)

func (l *loginLimiter) recent(key string, now time.Time) []time.Time {
	var keep []time.Time
	for _, t := range l.failures[key] {
		if now.Sub(t) < failureWindow {
			keep = append(keep, t)
		}
	}
	return keep
}

func (l *loginLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(key, now)) < maxFailures
}

func (l *loginLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.failures == nil {
		l.failures = map[string][]time.Time{}
	}
	l.failures[key] = append(l.recent(key, now), now)
}

func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}
