package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/console"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/kontor-billing/kontor/zugferd"
	"github.com/stripe/stripe-go/v82/webhook"
)

// syncBuffer is a log sink the server and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The users every test has, with their passwords.
var passwords = map[string]string{"vera": "viewer-password-1", "fin": "finance-password-1", "ada": "admin-password-12"}
var roles = map[string]string{"vera": "viewer", "fin": "finance", "ada": "admin"}

type env struct {
	url    string
	st     *store.Store
	arcDir string
	logs   *syncBuffer
}

// setup imports the demo, runs it as of 2026-11-01 and serves the console over it.
func setup(t *testing.T) env {
	t.Helper()
	ctx := context.Background()
	_, st := storetest.New(t)
	ds, err := dataset.LoadDir("../fixtures/demo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Import(ctx, ds); err != nil {
		t.Fatal(err)
	}
	arcDir := t.TempDir()
	arc, err := archive.NewLocal(arcDir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := zugferd.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.Run(ctx, st, jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: r, Archive: arc}); err != nil {
		t.Fatal(err)
	}
	for name, pw := range passwords {
		hash, err := console.HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddUser(ctx, store.User{Name: name, Role: roles[name], PasswordHash: hash}); err != nil {
			t.Fatal(err)
		}
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := console.New(ctx, console.Config{Store: st, Archive: arc, Renderer: r, Logger: log,
		Webhooks: charging.Webhook{Secret: webhookSecret, Store: store.StripeEvents{Store: st, Location: time.UTC}, Log: log}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return env{url: ts.URL, st: st, arcDir: arcDir, logs: logs}
}

const webhookSecret = "whsec_console_test"

// TestStripeWebhookNeedsNoSession: Stripe's events reach POST /webhooks/stripe without a
// session or same-origin headers; their signature authorises them, and an unsigned one
// is refused with 400 and changes nothing.
func TestStripeWebhookNeedsNoSession(t *testing.T) {
	e := setup(t)
	body := []byte(`{"id":"evt_console_1","object":"event","type":"payment_intent.succeeded","created":1793520000,
		"data":{"object":{"id":"pi_console_1","object":"payment_intent","amount":24419,"amount_received":24419,"currency":"eur",
		"metadata":{"invoice":"RE-2026-000001"}}}}`)
	send := func(sig string) int {
		req, _ := http.NewRequest(http.MethodPost, e.url+"/webhooks/stripe", bytes.NewReader(body))
		req.Header.Set("Origin", "https://stripe.example") // a cross-origin POST: not a browser's, not refused for it
		if sig != "" {
			req.Header.Set("Stripe-Signature", sig)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	paid := func() int {
		var n int
		if err := e.st.Pool().QueryRow(context.Background(), `select count(*) from payments where invoice_number = 'RE-2026-000001'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if code := send(""); code != http.StatusBadRequest || paid() != 0 {
		t.Errorf("unsigned event: %d, %d payments; want 400 and none", code, paid())
	}
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: webhookSecret, Timestamp: time.Now()}).Header
	if code := send(sig); code != http.StatusOK || paid() != 1 {
		t.Errorf("signed event: %d, %d payments; want 200 and one", code, paid())
	}
	resp, err := client(t).Get(e.url + "/webhooks/stripe")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /webhooks/stripe: %d, want 404 (only POST is served there)", resp.StatusCode)
	}
}

// client is a browser-like client: a cookie jar, redirects not followed.
func client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e env) post(t *testing.T, c *http.Client, path string, form url.Values, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.url)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e env) get(t *testing.T, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(e.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// login signs name in and returns its client.
func (e env) login(t *testing.T, name string) *http.Client {
	t.Helper()
	c := client(t)
	resp := e.post(t, c, "/login", url.Values{"name": {name}, "password": {passwords[name]}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login %s: %s", name, resp.Status)
	}
	return c
}

func sessionCookie(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	u, _ := url.Parse(base)
	for _, k := range c.Jar.Cookies(u) {
		if k.Name == "kontor_session" {
			return k.Value
		}
	}
	return ""
}

// TestEveryPageNeedsASession: without a session a page redirects to the login page and a
// state-changing request gets 401; nothing changes.
func TestEveryPageNeedsASession(t *testing.T) {
	e := setup(t)
	c := client(t)
	for _, path := range []string{"/runs", "/runs/1", "/runs/live", "/runs/live.json", "/dry-run?as_of=2026-12-01",
		"/invoices", "/invoices/RE-2026-000001/pdf", "/buyers/customer/C-001", "/licenses", "/audit", "/"} {
		resp, _ := e.get(t, c, path)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || (path != "/" && !strings.HasPrefix(loc, "/login")) {
			t.Errorf("GET %s without a session: %s to %q", path, resp.Status, loc)
		}
	}
	for _, path := range []string{"/runs", "/invoices/RE-2026-000001/credit"} {
		if resp := e.post(t, c, path, url.Values{"as_of": {"2026-12-01"}, "reason": {"x"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST %s without a session: %s", path, resp.Status)
		}
	}
	if resp, body := e.get(t, c, "/login"); resp.StatusCode != http.StatusOK || !strings.Contains(body, `name="password"`) {
		t.Errorf("login page: %s", resp.Status)
	}
	runs, _ := e.st.Runs(context.Background(), 10)
	if len(runs) != 1 {
		t.Errorf("%d runs, want the one of the setup", len(runs))
	}
}

// TestRolesAndCrossOriginRequests: a viewer reads but a POST of its session is refused
// (403), so is a cross-origin POST of a finance user's; neither starts a run.
func TestRolesAndCrossOriginRequests(t *testing.T) {
	e := setup(t)
	viewer, fin := e.login(t, "vera"), e.login(t, "fin")
	for _, path := range []string{"/runs", "/invoices", "/buyers/customer/C-001", "/runs/1"} {
		if resp, _ := e.get(t, viewer, path); resp.StatusCode != http.StatusOK {
			t.Errorf("viewer GET %s: %s", path, resp.Status)
		}
	}
	_, page := e.get(t, viewer, "/runs")
	if strings.Contains(page, `id="dry-run"`) || strings.Contains(page, "Start the run") {
		t.Error("a viewer's runs page offers a dry run or a run")
	}
	_, page = e.get(t, viewer, "/invoices")
	if strings.Contains(page, "/credit") {
		t.Error("a viewer's invoices page offers a credit note")
	}
	if resp, _ := e.get(t, viewer, "/dry-run?as_of=2026-12-01"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("viewer dry run: %s", resp.Status)
	}
	for _, path := range []string{"/runs", "/invoices/RE-2026-000001/credit"} {
		if resp := e.post(t, viewer, path, url.Values{"as_of": {"2026-12-01"}, "reason": {"forged"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("viewer POST %s: %s, want 403", path, resp.Status)
		}
	}
	resp := e.post(t, fin, "/runs", url.Values{"as_of": {"2026-12-01"}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin POST: %s, want 403", resp.Status)
	}
	runs, _ := e.st.Runs(context.Background(), 10)
	if len(runs) != 1 {
		t.Errorf("%d runs: a refused request started one", len(runs))
	}
	if _, body := e.get(t, e.login(t, "ada"), "/audit"); strings.Contains(body, "start run") {
		t.Error("the audit log records a run that was refused")
	}
	// Users are an admin's: finance can neither list nor add them.
	if resp, _ := e.get(t, fin, "/users"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("finance GET /users: %s", resp.Status)
	}
	if resp := e.post(t, fin, "/users", url.Values{"name": {"eve"}, "role": {"admin"}, "password": {"a-long-password-9"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("finance adds a user: %s", resp.Status)
	}
}

// TestOneRunAtATime: while a run holds the lock (here the test, as the CLI or the
// scheduler would), a dry run and a start are refused with 409 and nothing starts.
func TestOneRunAtATime(t *testing.T) {
	e := setup(t)
	c := e.login(t, "fin")
	unlock, err := e.st.Lock(context.Background(), store.RunLock)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if resp, body := e.get(t, c, "/dry-run?as_of=2026-12-01"); resp.StatusCode != http.StatusConflict || !strings.Contains(body, "holds the lock") {
		t.Errorf("dry run while locked: %s", resp.Status)
	}
	if resp := e.post(t, c, "/runs", url.Values{"as_of": {"2026-12-01"}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("start while locked: %s", resp.Status)
	}
	if runs, _ := e.st.Runs(context.Background(), 10); len(runs) != 1 {
		t.Errorf("%d runs", len(runs))
	}
}

// TestAdminManagesUsers: an admin adds a user, who can then sign in, and removes it,
// which ends its session; a short password, a bad name and removing oneself are refused.
func TestAdminManagesUsers(t *testing.T) {
	e := setup(t)
	admin := e.login(t, "ada")
	add := func(name, role, password string) *http.Response {
		return e.post(t, admin, "/users", url.Values{"name": {name}, "role": {role}, "password": {password}})
	}
	for _, bad := range []struct{ name, role, password string }{
		{"eve", "finance", "short"}, {"Eve Smith", "finance", "a-long-password-9"}, {"eve", "boss", "a-long-password-9"}, {"fin", "viewer", "a-long-password-9"},
	} {
		if resp := add(bad.name, bad.role, bad.password); resp.StatusCode < 400 {
			t.Errorf("adding %+v: %s", bad, resp.Status)
		}
	}
	if resp := add("eve", "finance", "a-long-password-9"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("add eve: %s", resp.Status)
	}
	passwords["eve"] = "a-long-password-9"
	defer delete(passwords, "eve")
	eve := e.login(t, "eve")
	if resp := e.post(t, admin, "/users/ada/remove", nil); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("removing oneself: %s", resp.Status)
	}
	if resp := e.post(t, admin, "/users/eve/remove", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove eve: %s", resp.Status)
	}
	if resp, _ := e.get(t, eve, "/runs"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a removed user's session still works: %s", resp.Status)
	}
	_, audit := e.get(t, admin, "/audit")
	if !strings.Contains(audit, "add user") || !strings.Contains(audit, "remove user") {
		t.Error("the audit log lacks the user changes")
	}
	if strings.Contains(e.logs.String(), "a-long-password-9") {
		t.Error("the log holds a password")
	}
}

// TestDownloads: files are served from the archive by the key the store recorded, only
// while their SHA-256 is the recorded one; paths outside the archive's keys are not.
func TestDownloads(t *testing.T) {
	e := setup(t)
	c := e.login(t, "vera")
	resp, pdf := e.get(t, c, "/invoices/RE-2026-000001/pdf")
	want, err := os.ReadFile(filepath.Join(e.arcDir, "invoices/2026/11/RE-2026-000001.pdf"))
	if err != nil || resp.StatusCode != http.StatusOK || pdf != string(want) || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF: %s, %d bytes (archived %d, %v)", resp.Status, len(pdf), len(want), err)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != `attachment; filename="RE-2026-000001.pdf"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	for _, path := range []string{"/invoices/..%2F..%2Fetc%2Fpasswd/pdf", "/invoices/%2Fetc%2Fpasswd/pdf", "/invoices/RE-2026-000001/..%2F..%2Fmanifest",
		"/invoices/RE-2026-000001/json", "/invoices/RE-2026-999999/pdf", "/invoices/..%252F..%252Fx/pdf", "/invoices/RE-2026-000001/../../etc/passwd"} {
		resp, body := e.get(t, c, path)
		if resp.StatusCode == http.StatusOK || strings.Contains(body, "root:") {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
	}
	// A changed archive object is not served.
	file := filepath.Join(e.arcDir, "invoices/2026/11/RE-2026-000002.xml")
	if err := os.Chmod(file, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("<changed/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	resp, body := e.get(t, c, "/invoices/RE-2026-000002/xml")
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "<changed/>") {
		t.Errorf("changed file: %s %q", resp.Status, body)
	}
	if !strings.Contains(e.logs.String(), "archived file changed") {
		t.Error("the changed file is not logged")
	}
}

// TestLogin: a session ID changes at every login, the old one stops working; logins are
// rate-limited; passwords and session IDs never appear in the log.
func TestLogin(t *testing.T) {
	e := setup(t)
	c := e.login(t, "fin")
	first := sessionCookie(t, c, e.url)
	if resp := e.post(t, c, "/login", url.Values{"name": {"fin"}, "password": {passwords["fin"]}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatal(resp.Status)
	}
	second := sessionCookie(t, c, e.url)
	if first == "" || second == "" || first == second {
		t.Fatalf("session IDs %q then %q", first, second)
	}
	old := client(t)
	u, _ := url.Parse(e.url)
	old.Jar.SetCookies(u, []*http.Cookie{{Name: "kontor_session", Value: first}})
	if resp, _ := e.get(t, old, "/runs"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session before the second login still works: %s", resp.Status)
	}
	if resp := e.post(t, c, "/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal(resp.Status)
	}
	if resp, _ := e.get(t, c, "/runs"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out, /runs: %s", resp.Status)
	}
	// Five wrong passwords, then even the right one is refused for a while.
	attacker := client(t)
	for range 5 {
		if resp := e.post(t, attacker, "/login", url.Values{"name": {"ada"}, "password": {"wrong-password-x"}}); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %s", resp.Status)
		}
	}
	if resp := e.post(t, attacker, "/login", url.Values{"name": {"ada"}, "password": {passwords["ada"]}}); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sixth attempt: %s, want 429", resp.Status)
	}
	if resp := e.post(t, attacker, "/login", url.Values{"name": {"nobody"}, "password": {"x"}}); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unknown user: %s", resp.Status)
	}
	logs := e.logs.String()
	for _, secret := range []string{first, second, passwords["fin"], passwords["ada"], "wrong-password-x"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a secret %q", secret)
		}
	}
	if !strings.Contains(logs, "login failed") {
		t.Error("failed logins are not logged")
	}
}

// TestFinanceRunsAPeriod: finance dry-runs the next period, starts the run and sees it
// finish; the run records who started it, the audit log what was done.
func TestFinanceRunsAPeriod(t *testing.T) {
	e := setup(t)
	c := e.login(t, "fin")
	resp, page := e.get(t, c, "/dry-run?as_of=2026-12-01")
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, "would issue") || !strings.Contains(page, `id="start-run"`) {
		t.Fatalf("dry run: %s\n%s", resp.Status, page)
	}
	if resp, _ := e.get(t, c, "/dry-run?as_of=2026-13-01"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("dry run of no date: %s", resp.Status)
	}
	if resp := e.post(t, c, "/runs", url.Values{"as_of": {"2026-12-01"}}); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/runs/live" {
		t.Fatalf("start: %s %s", resp.Status, resp.Header.Get("Location"))
	}
	var live struct {
		Running bool   `json:"running"`
		RunID   int64  `json:"run_id"`
		Issued  int    `json:"issued"`
		Error   string `json:"error"`
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, body := e.get(t, c, "/runs/live.json")
		if err := json.Unmarshal([]byte(body), &live); err != nil {
			t.Fatal(err, body)
		}
		if !live.Running || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if live.Running || live.Error != "" || live.RunID != 2 || live.Issued == 0 {
		t.Fatalf("live state %+v", live)
	}
	runs, _ := e.st.Runs(context.Background(), 10)
	if len(runs) != 2 || runs[0].StartedBy != "fin" || runs[0].Status != "done" {
		t.Errorf("runs %+v", runs)
	}
	if resp, body := e.get(t, c, "/runs/2"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "<svg") {
		t.Errorf("report of run 2: %s", resp.Status)
	}
	_, audit := e.get(t, c, "/audit")
	for _, want := range []string{"dry run", "start run", "2026-12-01", "view report"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit log lacks %q", want)
		}
	}
}
