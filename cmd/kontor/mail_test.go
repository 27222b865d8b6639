package main

import (
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/kontor-billing/kontor/store/storetest"
)

// mailbox is a real SMTP server on loopback (go-smtp) that keeps what it receives; it
// refuses the recipients in refuse once each with a temporary error.
type mailbox struct {
	mu       sync.Mutex
	received []*mail.Message
	to       []string
	refuse   map[string]bool
}

func (b *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: b}, nil }

type mailSession struct {
	box *mailbox
	to  []string
}

func (s *mailSession) Reset()                               { s.to = nil }
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	if s.box.refuse[to] {
		delete(s.box.refuse, to)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(m.Body)
	m.Body = strings.NewReader(string(body))
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	s.box.received = append(s.box.received, m)
	s.box.to = append(s.box.to, s.to...)
	return nil
}

// count returns how many messages each recipient got.
func (b *mailbox) count() map[string]int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := map[string]int{}
	for _, to := range b.to {
		n[to]++
	}
	return n
}

// startMailbox starts the SMTP server and returns KONTOR_SMTP_URL for it.
func startMailbox(t *testing.T) (*mailbox, string) {
	t.Helper()
	box := &mailbox{refuse: map[string]bool{}}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return box, fmt.Sprintf("smtp://%s?tls=none", l.Addr())
}

// TestNoticesSentOnceAcrossACrash: notices of failed payments are sent once each over
// SMTP; a sender killed after handing one to the server and before recording it does not
// send it again (it is in doubt, for somebody to check); a temporary refusal is retried.
func TestNoticesSentOnceAcrossACrash(t *testing.T) {
	box, smtpURL := startMailbox(t)
	env, st, _ := demoDB(t)
	if out, err := kontor(t, env, "run", "--as-of", "2026-11-01"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	ctx := context.Background()
	numbers := map[string]string{}
	for _, c := range []string{"C-010", "C-011", "C-013"} {
		var n string
		if err := st.Pool().QueryRow(ctx, `select number from invoices where buyer_id = $1`, c).Scan(&n); err != nil {
			t.Fatal(err)
		}
		numbers[c] = n
	}
	results := filepath.Join(t.TempDir(), "results.csv")
	os.WriteFile(results, []byte("invoice,attempted_at,outcome,reference\n"+
		numbers["C-010"]+",2026-11-01T10:00:00+01:00,failed,expired_card\n"+
		numbers["C-011"]+",2026-11-01T10:00:00+01:00,failed,insufficient_funds\n"+
		numbers["C-013"]+",2026-11-01T10:00:00+01:00,failed,do_not_honor\n"), 0o644)
	if out, err := kontor(t, env, "payments", "--file", results); err != nil {
		t.Fatalf("payments: %v\n%s", err, out)
	}
	var first int64
	if err := st.Pool().QueryRow(ctx, `select min(id) from outbox where kind = 'payment_failed'`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	env = append(env, "KONTOR_SMTP_URL="+smtpURL)
	box.mu.Lock()
	box.refuse["ap@acme-widgets.example"] = true // C-011: refused once, then taken
	box.mu.Unlock()
	out, err := kontor(t, append(env, fmt.Sprintf("%s=mailed-%d", crashEnv, first)), "outbox", "send")
	if !killed(err) {
		t.Fatalf("outbox send was not killed after handing entry %d over: %v\n%s", first, err, out)
	}
	if got := len(box.count()); got != 1 {
		t.Fatalf("before the crash: %d recipients got mail, want 1", got)
	}
	out, err = kontor(t, env, "outbox", "send")
	if err == nil || !strings.Contains(out, "emails: 1 sent, 1 to retry") {
		t.Fatalf("second send: want 1 sent and 1 refused once: %v\n%s", err, out)
	}
	if _, err := st.Pool().Exec(ctx, `update outbox set claimed_at = claimed_at - interval '2 minutes' where state = 'failed'`); err != nil {
		t.Fatal(err)
	}
	if out, err := kontor(t, env, "outbox", "send"); err != nil || !strings.Contains(out, "emails: 1 sent, 0 to retry") {
		t.Fatalf("third send (the retry): %v\n%s", err, out)
	}
	if out, err := kontor(t, env, "outbox", "send"); err != nil || !strings.Contains(out, "emails: 0 sent, 0 to retry") {
		t.Fatalf("fourth send sent something: %v\n%s", err, out)
	}
	for to, n := range box.count() {
		if n != 1 {
			t.Errorf("%s got %d notices, want 1", to, n)
		}
	}
	if len(box.count()) != 3 {
		t.Errorf("recipients %v, want the 3 customers", box.count())
	}
	out, _ = kontor(t, env, "outbox", "list", "in_doubt")
	if !strings.Contains(out, fmt.Sprintf("%d\tin_doubt", first)) {
		t.Errorf("entry %d is not in doubt:\n%s", first, out)
	}
	checkNotice(t, box, numbers["C-011"])
}

// checkNotice checks the notice of invoice's failed payment as the customer reads it.
func checkNotice(t *testing.T, box *mailbox, invoice string) {
	t.Helper()
	box.mu.Lock()
	defer box.mu.Unlock()
	for _, m := range box.received {
		if !strings.Contains(m.Header.Get("Subject"), invoice) {
			continue
		}
		r := io.Reader(m.Body)
		if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			r = quotedprintable.NewReader(r)
		}
		body, _ := io.ReadAll(r)
		for _, want := range []string{"Apple Pay", invoice, "insufficient_funds", "2026-11-07"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("notice for %s lacks %q:\n%s", invoice, want, body)
			}
		}
		if from := m.Header.Get("From"); !strings.Contains(from, "billing@nordlicht-apps.example") {
			t.Errorf("notice from %q, want the seller's address", from)
		}
		return
	}
	t.Errorf("no notice for %s", invoice)
}

// TestInvoicesByEmail: with seller.json email_invoices, a run queues each document it
// issues and sends it, PDF and XML attached, to the buyer's billing email, once.
func TestInvoicesByEmail(t *testing.T) {
	box, smtpURL := startMailbox(t)
	data := t.TempDir()
	if err := os.CopyFS(data, os.DirFS("../../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	seller := filepath.Join(data, "seller.json")
	b, _ := os.ReadFile(seller)
	os.WriteFile(seller, []byte(strings.Replace(string(b), `"accent_color"`, `"email_invoices": true, "accent_color"`, 1)), 0o644)
	url, _ := storetest.New(t)
	db := "--database-url=" + url
	arc := "--archive=file://" + t.TempDir()
	t.Setenv("KONTOR_SMTP_URL", smtpURL)
	cli(t, 0, "import", db, "--data", data)
	out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	if !strings.Contains(out, "invoice emails queued: 25") || !strings.Contains(out, "emails: 25 sent, 0 to retry") {
		t.Fatalf("run: %s", out)
	}
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-01"); strings.Contains(out, "emails:") {
		t.Errorf("a second run sent again: %s", out)
	}
	box.mu.Lock()
	defer box.mu.Unlock()
	if len(box.received) != 25 {
		t.Fatalf("%d emails received, want 25", len(box.received))
	}
	for _, m := range box.received {
		if m.Header.Get("Subject") != "Rechnung / invoice RE-2026-000001" {
			continue
		}
		body, _ := io.ReadAll(m.Body)
		for _, want := range []string{`filename="RE-2026-000001.pdf"`, `filename="RE-2026-000001.xml"`, "anbei erhalten Sie die Rechnung RE-2026-000001 vom 01.11.2026"} {
			if !strings.Contains(string(body), want) {
				t.Errorf("the invoice email lacks %q", want)
			}
		}
		return
	}
	t.Error("no email of RE-2026-000001")
}
