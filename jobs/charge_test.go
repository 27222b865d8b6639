package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/archive"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/charging/chargingtest"
	"github.com/kontor-billing/kontor/jobs"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
)

// TestWebhookBeforeTheRunRecordsTheCharge: Stripe's payment_intent.succeeded event can
// arrive between Stripe's answer and the run recording it; the run then records the
// charge all the same, and the payment once.
func TestWebhookBeforeTheRunRecordsTheCharge(t *testing.T) {
	sm := chargingtest.Start(t)
	_, st := storetest.New(t)
	ctx := context.Background()
	if _, err := st.Import(ctx, load(t, "../fixtures/demo")); err != nil {
		t.Fatal(err)
	}
	arc, err := archive.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	events := store.StripeEvents{Store: st, Location: time.UTC}
	applied := 0
	crash := func(step string) {
		if step != "charged-1" && step != "charged-3" {
			return
		}
		var inv string
		var minor int64
		if err := st.Pool().QueryRow(ctx, `select invoice_number, amount_minor from stripe_charges where status = 'pending'`).Scan(&inv, &minor); err != nil {
			t.Fatal(err)
		}
		ok, err := events.ApplyStripeEvent(ctx, charging.Event{ID: "evt_" + step, Kind: charging.IntentSucceeded, Created: time.Now(),
			Invoice: inv, IntentID: chargingtest.IntentID(charging.IdempotencyKey(inv)), Currency: "eur", Amount: minor})
		if err != nil || !ok {
			t.Fatalf("webhook event at %s: %v, %v", step, ok, err)
		}
		applied++
	}
	sum, err := jobs.Run(ctx, st, jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc,
		Charger: charging.NewStripe(chargingtest.Key, sm.URL, nil), Crash: crash})
	if err != nil {
		t.Fatal(err)
	}
	if applied != 2 || len(sum.Charges) != 4 {
		t.Fatalf("%d events applied, %d charges; want 2 and 4", applied, len(sum.Charges))
	}
	var paid, succeeded int
	if err := st.Pool().QueryRow(ctx, `select (select count(*) from payments where outcome = 'paid' and source = 'stripe'),
		(select count(*) from stripe_charges where status = 'succeeded')`).Scan(&paid, &succeeded); err != nil {
		t.Fatal(err)
	}
	if paid != 4 || succeeded != 4 {
		t.Errorf("%d payments and %d charges succeeded, want 4 and 4", paid, succeeded)
	}
}
