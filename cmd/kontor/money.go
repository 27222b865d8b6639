package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/outbox"
	"github.com/kontor-billing/kontor/store"
)

// The environment that configures collecting the money (README, "Payments").
const (
	envStripeKey     = "STRIPE_API_KEY"
	envStripeBase    = "STRIPE_API_BASE" // another API server, such as a local stripe-mock
	envWebhookSecret = "STRIPE_WEBHOOK_SECRET"
	envSMTP          = "KONTOR_SMTP_URL"
)

// stripeCharger is the charger of the runs: Stripe with STRIPE_API_KEY, or nil (charging
// off) without it.
func stripeCharger() jobs.Charger {
	key := os.Getenv(envStripeKey)
	if key == "" {
		return nil
	}
	return charging.NewStripe(key, os.Getenv(envStripeBase), &http.Client{Timeout: 80 * time.Second})
}

// stripeWebhook is the handler of POST /webhooks/stripe, or nil when
// STRIPE_WEBHOOK_SECRET is not set (the endpoint is then not served, and the log says so).
func stripeWebhook(st *store.Store, loc *time.Location, log *slog.Logger) http.Handler {
	secret := os.Getenv(envWebhookSecret)
	if secret == "" {
		log.Info("stripe webhooks off: " + envWebhookSecret + " is not set")
		return nil
	}
	return charging.Webhook{Secret: secret, Store: store.StripeEvents{Store: st, Location: loc}, Log: log}
}

// mailSender is the outbox's sender, or ok false when KONTOR_SMTP_URL is not set; from is
// the sender's address unless the URL names one.
func mailSender(st *store.Store, arc archive.Store, from string, log *slog.Logger) (outbox.Sender, bool, error) {
	raw := os.Getenv(envSMTP)
	if raw == "" {
		return outbox.Sender{}, false, nil
	}
	cfg, err := outbox.ParseURL(raw, from)
	if err != nil {
		return outbox.Sender{}, false, err
	}
	return outbox.Sender{SMTP: cfg, Queue: st, Files: arc, Log: log, Crash: crashHook()}, true, nil
}

// sendOutbox sends the outbox once when KONTOR_SMTP_URL is set (kontor run, at its end).
func sendOutbox(ctx context.Context, out io.Writer, st *store.Store, arc archive.Store, from string, log *slog.Logger) error {
	s, ok, err := mailSender(st, arc, from, log)
	if err != nil || !ok {
		return err
	}
	sent, failed, err := s.Send(ctx)
	if err != nil {
		return err
	}
	if sent+failed > 0 {
		fmt.Fprintf(out, "emails: %d sent, %d to retry\n", sent, failed)
	}
	return nil
}

// startMail sends the outbox every minute in the background until ctx ends, when
// KONTOR_SMTP_URL is set (kontor schedule and serve).
func startMail(ctx context.Context, st *store.Store, arc archive.Store, from string, log *slog.Logger) error {
	s, ok, err := mailSender(st, arc, from, log)
	if err != nil || !ok {
		return err
	}
	go sendMail(ctx, s, time.Minute)
	return nil
}

// sendMail sends the outbox every interval until ctx ends (kontor schedule and serve).
func sendMail(ctx context.Context, s outbox.Sender, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if sent, failed, err := s.Send(ctx); err != nil {
			s.Log.Error("outbox", "err", err)
		} else if sent+failed > 0 {
			s.Log.Info("outbox sent", "sent", sent, "failed", failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
