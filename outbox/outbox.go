// Package outbox sends what the store's outbox holds, notices and invoice emails, over
// SMTP (github.com/wneessen/go-mail), each once: an entry is claimed before it is handed
// to the SMTP server and recorded sent after; a failed send is tried again later; an
// entry a sender left claimed when it died is not sent again but put in doubt, for
// somebody to check (kontor outbox list, kontor outbox resend).
package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"path"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"github.com/kontor-billing/kontor/store"
)

// Queue is the store's outbox as the sender consumes it.
type Queue interface {
	Lock(ctx context.Context, key int64) (func(), error)
	SettleInDoubt(ctx context.Context) (int64, error)
	ClaimMail(ctx context.Context) (store.Mail, bool, error)
	MailSent(ctx context.Context, id int64) error
	MailFailed(ctx context.Context, id int64, why string) error
}

// Files are where attachments come from: the archive.
type Files interface {
	Get(ctx context.Context, key string) ([]byte, error)
}

// Config is an SMTP server and the sender's address, as KONTOR_SMTP_URL gives them:
// smtp://user:password@host:587?from=billing@example.com (STARTTLS required),
// smtps://…:465 (TLS from the start), or smtp://host:25?tls=none for a relay on
// loopback.
type Config struct {
	Host     string
	Port     int
	User     string
	Password string
	TLS      string // starttls, tls or none
	From     string
}

// ParseURL reads KONTOR_SMTP_URL; from is the sender's address when the URL names none
// (the seller's email).
func ParseURL(raw, from string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.New("KONTOR_SMTP_URL: not a URL") // the URL may hold a password: not echoed
	}
	c := Config{Host: u.Hostname(), TLS: "starttls", From: from}
	switch u.Scheme {
	case "smtp":
	case "smtps":
		c.TLS = "tls"
	default:
		return Config{}, fmt.Errorf("KONTOR_SMTP_URL: scheme must be smtp or smtps, got %q", u.Scheme)
	}
	if c.Host == "" {
		return Config{}, errors.New("KONTOR_SMTP_URL: no host")
	}
	q := u.Query()
	if t := q.Get("tls"); t != "" {
		if t != "none" && t != "starttls" && t != "tls" {
			return Config{}, fmt.Errorf("KONTOR_SMTP_URL: tls must be none, starttls or tls, got %q", t)
		}
		c.TLS = t
	}
	c.Port = map[string]int{"none": 25, "starttls": 587, "tls": 465}[c.TLS]
	if p := u.Port(); p != "" {
		if c.Port, err = strconv.Atoi(p); err != nil {
			return Config{}, fmt.Errorf("KONTOR_SMTP_URL: port %q", p)
		}
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if f := q.Get("from"); f != "" {
		c.From = f
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return Config{}, fmt.Errorf("KONTOR_SMTP_URL: sender address %q: %w", c.From, err)
	}
	return c, nil
}

// client is a go-mail client for c.
func (c Config) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(c.Port)}
	switch c.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.NoTLS))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	default:
		opts = append(opts, gomail.WithTLSPortPolicy(gomail.TLSMandatory))
	}
	if c.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(c.User), gomail.WithPassword(c.Password))
	}
	return gomail.NewClient(c.Host, opts...)
}

// Sender sends the outbox.
type Sender struct {
	SMTP  Config
	Queue Queue
	Files Files
	Log   *slog.Logger
	// Crash is a test hook like jobs.RunOptions.Crash: called after an entry is handed to
	// the SMTP server ("mailed-ID") and after it is recorded sent ("mail-recorded-ID").
	Crash func(step string)
}

// Send sends every entry due, one sender at a time, and returns how many were sent and
// how many failed (to be tried again).
func (s Sender) Send(ctx context.Context) (sent, failed int, err error) {
	unlock, err := s.Queue.Lock(ctx, store.OutboxLock)
	if err != nil {
		return 0, 0, fmt.Errorf("outbox: %w", err)
	}
	defer unlock()
	if n, err := s.Queue.SettleInDoubt(ctx); err != nil {
		return 0, 0, err
	} else if n > 0 {
		s.Log.Warn("outbox: entries in doubt: a sender stopped between sending and recording them; check and resend with kontor outbox resend", "entries", n)
	}
	client, err := s.SMTP.client()
	if err != nil {
		return 0, 0, fmt.Errorf("outbox: SMTP client: %w", err)
	}
	for {
		m, ok, err := s.Queue.ClaimMail(ctx)
		if err != nil || !ok {
			return sent, failed, err
		}
		if err := s.send(ctx, client, m); err != nil {
			failed++
			s.Log.Warn("outbox: not sent; tried again later", "entry", m.ID, "kind", string(m.Kind), "attempt", m.Attempt, "err", err)
			if err := s.Queue.MailFailed(ctx, m.ID, err.Error()); err != nil {
				return sent, failed, err
			}
			continue
		}
		s.step("mailed-" + strconv.FormatInt(m.ID, 10))
		if err := s.Queue.MailSent(ctx, m.ID); err != nil {
			return sent, failed, err
		}
		s.step("mail-recorded-" + strconv.FormatInt(m.ID, 10))
		sent++
	}
}

func (s Sender) step(name string) {
	if s.Crash != nil {
		s.Crash(name)
	}
}

// send hands one entry to the SMTP server.
func (s Sender) send(ctx context.Context, client *gomail.Client, m store.Mail) error {
	if m.Recipient == "" {
		return errors.New("the dataset has no email address for the buyer")
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.SMTP.From); err != nil {
		return fmt.Errorf("sender %q: %w", s.SMTP.From, err)
	}
	if err := msg.To(m.Recipient); err != nil {
		return fmt.Errorf("recipient %q: %w", m.Recipient, err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageIDWithValue(fmt.Sprintf("kontor-outbox-%d@%s", m.ID, domainOf(s.SMTP.From)))
	msg.SetBodyString(gomail.TypeTextPlain, m.Message)
	for _, key := range m.Attachments {
		data, err := s.Files.Get(ctx, key)
		if err != nil {
			return fmt.Errorf("attachment %s: %w", key, err)
		}
		if err := msg.AttachReader(path.Base(key), bytes.NewReader(data)); err != nil {
			return fmt.Errorf("attachment %s: %w", key, err)
		}
	}
	return client.DialAndSendWithContext(ctx, msg)
}

// domainOf is the domain of an email address, for Message-IDs.
func domainOf(addr string) string {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return "kontor.invalid"
	}
	_, domain, ok := strings.Cut(a.Address, "@")
	if !ok {
		return "kontor.invalid"
	}
	return domain
}
