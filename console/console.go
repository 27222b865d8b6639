// Package console is kontor's finance console: a server-rendered web application
// (html/template, a little plain JavaScript for live progress) over the store and the
// archive. Finance looks at runs and their reports, checks a period-end run with a dry
// run, starts it and watches it finish; finds invoices and credit notes and downloads
// their files from the archive, checked against their recorded SHA-256; looks at a
// customer's or partner's invoices, license and blocked usage; reads the license reports
// and the audit log of who looked at, started and credited what.
//
// Every page but the login page needs a session (server-side, in PostgreSQL, the cookie
// HttpOnly and SameSite=Lax, Secure behind TLS); every state-changing request is checked
// by role and against cross-site requests (net/http.CrossOriginProtection).
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/zugferd"
)

var (
	//go:embed templates/*.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// Config is what the console serves and how.
type Config struct {
	Store    *store.Store
	Archive  archive.Store
	Renderer *zugferd.Renderer
	Logger   *slog.Logger
	// Charger charges stored payment methods in the runs the console starts; nil when no
	// Stripe key is configured.
	Charger jobs.Charger
	// Webhooks, when set, receives Stripe's events at POST /webhooks/stripe (signed, not a
	// console session's request).
	Webhooks http.Handler
	// SecureCookies marks the session cookie Secure: set it when the console is reached
	// over TLS (kontor serve does with --tls-cert, or with --behind-tls-proxy).
	SecureCookies bool
	// SessionTTL is how long a session lasts (default 12 hours).
	SessionTTL time.Duration
	// Now reads the clock (default time.Now).
	Now func() time.Time
}

// Server is the console's HTTP handler and the run it started, if any.
type Server struct {
	cfg     Config
	pages   map[string]*template.Template
	limiter loginLimiter
	live    liveRun
	// runs is the context runs started from the console run under: a run outlives the
	// request that started it, not the server (it stops after the invoice in hand when
	// runs ends, as kontor run does on a signal); running counts them for Wait.
	runs    context.Context
	running sync.WaitGroup
}

// Wait waits for the run the console started, if one is running, to end.
func (s *Server) Wait() { s.running.Wait() }

// New prepares the console; runs it starts end when ctx ends.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Archive == nil || cfg.Renderer == nil {
		return nil, errors.New("console: a store, an archive and a renderer are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, pages: pages, runs: ctx}, nil
}

// parsePages parses each page template with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		page := n[len("templates/") : len(n)-len(".html")]
		if page == "layout" {
			continue
		}
		t, err := template.New(page).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", page, err)
		}
		pages[page] = t
	}
	return pages, nil
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

func (s *Server) ttl() time.Duration {
	if s.cfg.SessionTTL > 0 {
		return s.cfg.SessionTTL
	}
	return 12 * time.Hour
}

// Handler returns the console's routes behind the cross-origin protection and the
// security headers, and Stripe's webhook endpoint when one is configured.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/runs", http.StatusSeeOther) })
	mux.HandleFunc("GET /runs", s.need(Viewer, s.runsPage))
	mux.HandleFunc("GET /runs/{id}", s.need(Viewer, s.runReport))
	mux.HandleFunc("GET /runs/live", s.need(Viewer, s.livePage))
	mux.HandleFunc("GET /runs/live.json", s.need(Viewer, s.liveJSON))
	mux.HandleFunc("GET /dry-run", s.need(Finance, s.dryRun))
	mux.HandleFunc("POST /runs", s.need(Finance, s.startRun))
	mux.HandleFunc("GET /invoices", s.need(Viewer, s.invoicesPage))
	mux.HandleFunc("GET /invoices/{number}/{kind}", s.need(Viewer, s.download))
	mux.HandleFunc("POST /invoices/{number}/credit", s.need(Finance, s.credit))
	mux.HandleFunc("GET /buyers/{kind}/{id}", s.need(Viewer, s.buyerPage))
	mux.HandleFunc("GET /licenses", s.need(Viewer, s.licensesPage))
	mux.HandleFunc("GET /audit", s.need(Finance, s.auditPage))
	mux.HandleFunc("GET /users", s.need(Admin, s.usersPage))
	mux.HandleFunc("POST /users", s.need(Admin, s.addUser))
	mux.HandleFunc("POST /users/{name}/remove", s.need(Admin, s.removeUser))
	protect := http.NewCrossOriginProtection()
	pages := headers(protect.Handler(mux))
	if s.cfg.Webhooks == nil {
		return pages
	}
	// Stripe's events carry no session: their signature is what authorises them.
	outer := http.NewServeMux()
	outer.Handle("POST /webhooks/stripe", s.cfg.Webhooks)
	outer.Handle("/", pages)
	return outer
}

// headers sets the security headers of every response: no framing, no sniffing, and a
// content security policy that allows the console's own scripts and styles only. The run
// and license reports are self-contained pages with inline styles and images.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		h.ServeHTTP(w, r)
	})
}

// page is what every page template gets: the user, the page's data and a flash message.
type page struct {
	User  user
	Title string
	Data  any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.fail(w, r, fmt.Errorf("no page %s", name))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := t.ExecuteTemplate(w, "layout", page{User: userOf(r), Title: name, Data: data}); err != nil {
		s.cfg.Logger.Error("console: render", "page", name, "err", err)
	}
}

// fail answers 500 and logs err; the page says no more than that something failed.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.cfg.Logger.Error("console: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	http.Error(w, "the request failed; the server log says why", http.StatusInternalServerError)
}

// audit records what a user did; a failure to record is logged, not shown.
func (s *Server) audit(r *http.Request, name, action, object string) {
	if err := s.cfg.Store.Audit(context.WithoutCancel(r.Context()), name, action, object); err != nil {
		s.cfg.Logger.Error("console: audit", "err", err)
	}
}

type loginPage struct {
	Name, Next, Error string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", loginPage{Next: safeNext(r.URL.Query().Get("next"))})
}
