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
)

// TestWebhookBeforeTheRunRecordsTheCharge: Stripe's payment_intent.succeeded event can
// arrive between Stripe's answer and the run recording it; the run then records the
// charge all the same, and the payment once.
func TestWebhookBeforeTheRunRecordsTheCharge(t *testing.T) {
	sm := chargingtest.Start(t)
	st := demoStore(t)
	ctx := context.Background()
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

// TestProcessingChargeSettledByItsWebhook: a charge Stripe leaves processing (a SEPA debit
// on its way) is not charged again by the next run, and its webhook event records the
// payment.
func TestProcessingChargeSettledByItsWebhook(t *testing.T) {
	sm := chargingtest.Start(t)
	sm.Processing["cus_DemoZurichTreuhand"] = true
	st := demoStore(t)
	ctx := context.Background()
	arc, err := archive.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	opt := jobs.RunOptions{AsOf: calendar.MustParse("2026-11-01"), Renderer: renderer(t), Archive: arc,
		Charger: charging.NewStripe(chargingtest.Key, sm.URL, nil)}
	if _, err := jobs.Run(ctx, st, opt); err != nil {
		t.Fatal(err)
	}
	var inv, status string
	var minor int64
	if err := st.Pool().QueryRow(ctx, `select c.invoice_number, c.status, c.amount_minor from stripe_charges c
		join invoices i on i.number = c.invoice_number where i.buyer_id = 'C-010'`).Scan(&inv, &status, &minor); err != nil {
		t.Fatal(err)
	}
	if status != "processing" {
		t.Fatalf("C-010's charge is %s, want processing", status)
	}
	n := len(sm.Requests())
	if sum, err := jobs.Run(ctx, st, opt); err != nil || len(sm.Requests()) != n || len(sum.Charges) != 0 {
		t.Fatalf("the next run charged again: %v, %d requests (were %d)", err, len(sm.Requests()), n)
	}
	ok, err := store.StripeEvents{Store: st, Location: time.UTC}.ApplyStripeEvent(ctx, charging.Event{ID: "evt_settled", Kind: charging.IntentSucceeded,
		Created: time.Now(), Invoice: inv, IntentID: chargingtest.IntentID(charging.IdempotencyKey(inv)), Currency: "eur", Amount: minor})
	if err != nil || !ok {
		t.Fatalf("webhook: %v, %v", ok, err)
	}
	var paid int
	if err := st.Pool().QueryRow(ctx, `select count(*) from payments where invoice_number = $1 and outcome = 'paid'`, inv).Scan(&paid); err != nil || paid != 1 {
		t.Errorf("%s: %d payments after its webhook, want 1 (%v)", inv, paid, err)
	}
	if err := st.Pool().QueryRow(ctx, `select status from stripe_charges where invoice_number = $1`, inv).Scan(&status); err != nil || status != "succeeded" {
		t.Errorf("%s: charge %s after its webhook, want succeeded (%v)", inv, status, err)
	}
}
