package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/store"
	"github.com/kontor-billing/kontor/store/storetest"
	"github.com/stripe/stripe-go/v82/webhook"
)

const webhookSecret = "whsec_kontor_test"

// stripeEvent is a Stripe event of type typ about the PaymentIntent of invoice, created
// at created.
func stripeEvent(id, typ, invoice string, amount int64, created time.Time) []byte {
	obj := map[string]any{"id": "pi_" + strings.ReplaceAll(invoice, "-", ""), "object": "payment_intent", "amount": amount,
		"amount_received": amount, "currency": "eur", "metadata": map[string]string{"invoice": invoice}}
	switch typ {
	case string(charging.IntentFailed):
		obj["amount_received"] = 0
		obj["status"] = "requires_payment_method"
		obj["last_payment_error"] = map[string]any{"type": "card_error", "code": "card_declined", "decline_code": "expired_card", "message": "Your card has expired."}
	case string(charging.ChargeRefunded):
		obj = map[string]any{"id": "ch_" + invoice, "object": "charge", "amount": amount, "amount_refunded": amount / 2, "currency": "eur",
			"metadata": map[string]string{"invoice": invoice}, "payment_intent": "pi_" + strings.ReplaceAll(invoice, "-", "")}
	}
	b, _ := json.Marshal(map[string]any{"id": id, "object": "event", "type": typ, "created": created.Unix(),
		"api_version": "2025-01-01", "data": map[string]any{"object": obj}})
	return b
}

// post sends body with the Stripe-Signature header sig (none when empty).
func post(t *testing.T, url string, body []byte, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(string(body)))
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = fmt.Fprint(&b, resp.Status)
	return resp.StatusCode, b.String()
}

func signed(body []byte, secret string, at time.Time) string {
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
}

// TestStripeWebhooks: a signed event is applied once however often it comes; unsigned,
// mis-signed, tampered and stale ones are refused with 400 and change nothing; a failed
// payment queues the notice, the license stays active 7 days (grace) and is deactivated
// on day 8; the payment restores it; a refund reopens the invoice.
func TestStripeWebhooks(t *testing.T) {
	url, st := storetest.New(t)
	db := "--database-url=" + url
	arc := "--archive=file://" + t.TempDir()
	cli(t, 0, "import", db, "--data", "../../fixtures/demo")
	cli(t, 0, "run", db, arc, "--as-of", "2026-11-01")
	ctx := context.Background()
	var inv string
	var gross int64
	if err := st.Pool().QueryRow(ctx, `select number, (gross * 100)::bigint from invoices where buyer_id = 'C-010'`).Scan(&inv, &gross); err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	srv := httptest.NewServer(charging.Webhook{Secret: webhookSecret, Store: store.StripeEvents{Store: st, Location: berlin}, Log: discard()})
	defer srv.Close()
	hook := srv.URL
	state := func() [3]int { // payments, events, outbox entries
		var s [3]int
		if err := st.Pool().QueryRow(ctx, `select (select count(*) from payments), (select count(*) from stripe_events),
			(select count(*) from outbox)`).Scan(&s[0], &s[1], &s[2]); err != nil {
			t.Fatal(err)
		}
		return s
	}
	failedAt := time.Date(2026, 11, 1, 10, 0, 0, 0, berlin)
	failed := stripeEvent("evt_failed_1", string(charging.IntentFailed), inv, gross, failedAt)
	before := state()
	now := time.Now()
	for _, c := range []struct {
		name string
		body []byte
		sig  string
	}{
		{"unsigned", failed, ""},
		{"signed with another secret", failed, signed(failed, "whsec_other", now)},
		{"tampered", []byte(strings.Replace(string(failed), "evt_failed_1", "evt_failed_2", 1)), signed(failed, webhookSecret, now)},
		{"stale (signed 10 minutes ago)", failed, signed(failed, webhookSecret, now.Add(-10*time.Minute))},
		{"not JSON", []byte("not json"), signed([]byte("not json"), webhookSecret, now)},
	} {
		if code, status := post(t, hook, c.body, c.sig); code != http.StatusBadRequest {
			t.Errorf("%s: %s, want 400", c.name, status)
		}
		if got := state(); got != before {
			t.Errorf("%s: payments/events/outbox %v, were %v", c.name, got, before)
		}
	}
	sig := signed(failed, webhookSecret, now)
	for i := range 3 { // Stripe's retries and a replay within the tolerance: applied once
		if code, status := post(t, hook, failed, sig); code != http.StatusOK {
			t.Fatalf("signed event, delivery %d: %s", i+1, status)
		}
	}
	var notices int
	if err := st.Pool().QueryRow(ctx, `select count(*) from outbox where invoice_number = $1 and kind = 'payment_failed' and state = 'pending'`, inv).Scan(&notices); err != nil || notices != 1 {
		t.Fatalf("notices in the outbox for %s: %d, %v; want 1", inv, notices, err)
	}
	if got, want := state(), [3]int{before[0] + 1, before[1] + 1, before[2] + 1}; got != want {
		t.Errorf("after the failure delivered 3 times: payments/events/outbox %v, want %v", got, want)
	}
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-07"); !strings.Contains(out, "customer C-010: active -> grace: invoice "+inv+" unpaid since 2026-11-01, deactivated on 2026-11-08 unless paid") {
		t.Errorf("day 7: no grace:\n%s", out)
	}
	if out := cli(t, 0, "status", db, "C-010", "--as-of", "2026-11-07"); !strings.Contains(out, "license: grace") {
		t.Errorf("day 7: the license is not in its grace (active):\n%s", out)
	}
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-08"); !strings.Contains(out, "customer C-010: grace -> deactivated") {
		t.Errorf("day 8: not deactivated:\n%s", out)
	}
	paid := stripeEvent("evt_paid_1", string(charging.IntentSucceeded), inv, gross, time.Date(2026, 11, 9, 9, 0, 0, 0, berlin))
	if code, status := post(t, hook, paid, signed(paid, webhookSecret, time.Now())); code != http.StatusOK {
		t.Fatalf("payment: %s", status)
	}
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-09"); !strings.Contains(out, "customer C-010: deactivated -> active") {
		t.Errorf("day 9, paid: not active again:\n%s", out)
	}
	// An older failure arriving late (events come in any order) changes nothing: the payment
	// after it settled the invoice.
	late := stripeEvent("evt_failed_late", string(charging.IntentFailed), inv, gross, time.Date(2026, 11, 2, 9, 0, 0, 0, berlin))
	if code, status := post(t, hook, late, signed(late, webhookSecret, time.Now())); code != http.StatusOK {
		t.Fatalf("late failure: %s", status)
	}
	if out := cli(t, 0, "run", db, arc, "--as-of", "2026-11-09"); strings.Contains(out, "customer C-010:") {
		t.Errorf("a late, older failure changed the license:\n%s", out)
	}
	if out := cli(t, 0, "receivables", db, "--as-of", "2026-11-09", "--format", "csv"); strings.Contains(out, inv+",") {
		t.Errorf("paid invoice %s is open:\n%s", inv, out)
	}
	refund := stripeEvent("evt_refund_1", string(charging.ChargeRefunded), inv, gross, time.Date(2026, 11, 10, 9, 0, 0, 0, berlin))
	for range 2 {
		if code, status := post(t, hook, refund, signed(refund, webhookSecret, time.Now())); code != http.StatusOK {
			t.Fatalf("refund: %s", status)
		}
	}
	half := fmt.Sprintf("%d.%02d", (gross/2)/100, (gross/2)%100)
	if out := cli(t, 0, "receivables", db, "--as-of", "2026-11-10", "--format", "csv"); !strings.Contains(out, ","+half+",") {
		t.Errorf("after refunding %s of %s, its open amount is not listed:\n%s", half, inv, out)
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
