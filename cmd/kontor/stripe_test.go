package main

import (
	"cmp"
	"context"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/charging"
	"github.com/kontor-billing/kontor/charging/chargingtest"
	"github.com/kontor-billing/kontor/store"
)

// chargeSteps are the named steps of the charge stage where the crash test kills the
// run: before Stripe is called (charge-N: the charge is recorded pending), after Stripe
// answered and before the answer is recorded (charged-N), and after (charge-recorded-N).
// The demo issues 5 invoices of stored payment methods; 4 have Stripe IDs.
var chargeSteps = []string{"finalized-25", "charge-1", "charged-1", "charge-recorded-1", "charge-2", "charged-2", "charged-4", "charge-recorded-4", "licensed"}

// TestChargeExactlyOnceAcrossCrashes kills kontor run at every step of the charge stage
// and runs it again, against stripe-mock behind a recording proxy: every invoice of a
// stored payment method with Stripe IDs is charged under exactly one idempotency key and
// is one PaymentIntent, none is missed, a declined one starts the grace with a notice,
// and the one without Stripe IDs is listed and not charged.
func TestChargeExactlyOnceAcrossCrashes(t *testing.T) {
	for _, step := range append([]string{""}, chargeSteps...) {
		t.Run(cmp.Or(step, "uninterrupted"), func(t *testing.T) {
			t.Parallel()
			sm := chargingtest.Start(t)
			sm.Decline["cus_DemoAcmeWidgets"] = true
			env, st, _ := demoDB(t)
			env = append(env, "STRIPE_API_KEY="+chargingtest.Key, "STRIPE_API_BASE="+sm.URL)
			if step != "" {
				out, err := kontor(t, append(env, crashEnv+"="+step), "run", "--as-of", "2026-11-01")
				if !killed(err) {
					t.Fatalf("the run was not killed at %s: %v\n%s", step, err, out)
				}
			}
			out, err := kontor(t, env, "run", "--as-of", "2026-11-01")
			if err != nil {
				t.Fatalf("run: %v\n%s", err, out)
			}
			checkCharges(t, sm, st)
			n := len(sm.Requests())
			out, err = kontor(t, env, "run", "--as-of", "2026-11-01")
			if err != nil || len(sm.Requests()) != n || strings.Contains(out, "Stripe charges") {
				t.Errorf("a third run called Stripe (%d requests, %d before): %v\n%s", len(sm.Requests()), n, err, out)
			}
		})
	}
}

// checkCharges checks what Stripe saw and what the store recorded against the demo's
// invoices of stored payment methods.
func checkCharges(t *testing.T, sm *chargingtest.Server, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	rows, err := st.Pool().Query(ctx, `select i.number, i.buyer_id, coalesce(c.status, ''),
			(select count(*) from payments p where p.invoice_number = i.number and p.outcome = 'paid' and p.amount = i.gross),
			(select count(*) from payments p where p.invoice_number = i.number and p.outcome = 'failed'),
			(select count(*) from outbox o where o.invoice_number = i.number and o.kind = 'payment_failed')
		from invoices i left join stripe_charges c on c.invoice_number = i.number
		where i.model->'payment'->>'method' in ('card', 'apple_pay', 'google_pay', 'paypal', 'link') order by 1`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	keys, requests := sm.KeysByInvoice()
	seen := 0
	for rows.Next() {
		var number, buyer, status string
		var paid, failed, notices int
		if err := rows.Scan(&number, &buyer, &status, &paid, &failed, &notices); err != nil {
			t.Fatal(err)
		}
		seen++
		want := "succeeded"
		switch buyer {
		case "C-022": // link, no Stripe IDs: cannot charge
			if status != "" || requests[number] != 0 {
				t.Errorf("%s (no Stripe IDs): charge %q, %d requests; want none", number, status, requests[number])
			}
			continue
		case "C-011":
			want = "failed"
		}
		if len(keys[number]) != 1 || !keys[number][charging.IdempotencyKey(number)] {
			t.Errorf("%s: idempotency keys %v, want exactly %s", number, keys[number], charging.IdempotencyKey(number))
		}
		if status != want {
			t.Errorf("%s (%s): charge %q, want %s", number, buyer, status, want)
		}
		if want == "succeeded" && (paid != 1 || failed != 0) {
			t.Errorf("%s: %d payments of the gross and %d failures, want 1 and 0", number, paid, failed)
		}
		if want == "failed" && (paid != 0 || failed != 1 || notices != 1) {
			t.Errorf("%s declined: %d paid, %d failed, %d notices; want 0, 1, 1", number, paid, failed, notices)
		}
	}
	if seen != 5 {
		t.Errorf("%d invoices of stored payment methods, want 5", seen)
	}
	pis := map[string]bool{}
	for _, r := range sm.Requests() {
		if r.Path == "/v1/payment_intents" && !r.Replayed {
			if pis[r.Invoice] {
				t.Errorf("%s: a second PaymentIntent was created", r.Invoice)
			}
			pis[r.Invoice] = true
		}
	}
	if len(pis) != 4 {
		t.Errorf("%d PaymentIntents created, want 4", len(pis))
	}
}

// TestCreditPartOfALinePaidThroughStripe credits part of a line of an invoice paid
// through Stripe: the credit note is refunded there once, under its own key; crediting
// more than is left of the line is refused; nothing of the invoice stays open.
func TestCreditPartOfALinePaidThroughStripe(t *testing.T) {
	sm := chargingtest.Start(t)
	env, st, _ := demoDB(t)
	env = append(env, "STRIPE_API_KEY="+chargingtest.Key, "STRIPE_API_BASE="+sm.URL)
	if out, err := kontor(t, env, "run", "--as-of", "2026-11-01"); err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	var inv, net string
	if err := st.Pool().QueryRow(context.Background(), `select number, model->'lines'->0->>'net' from invoices where buyer_id = 'C-010'`).Scan(&inv, &net); err != nil {
		t.Fatal(err)
	}
	out, err := kontor(t, env, "credit-note", inv, "--line", "1", "--amount", "2.00", "--reason", "goodwill", "--date", "2026-11-05")
	if err != nil || !strings.Contains(out, "issued GS-2026-000001 (type 381) for "+inv+": net 2.00, VAT 0.00, gross 2.00 EUR") ||
		!strings.Contains(out, "refund of GS-2026-000001 (invoice "+inv+") through Stripe: 2.00 EUR refunded") {
		t.Fatalf("part credit: %v\n%s", err, out)
	}
	out, err = kontor(t, env, "credit-note", inv, "--line", "1", "--amount", net, "--reason", "too much", "--date", "2026-11-05")
	if err == nil || !strings.Contains(out, "line 1 (") || !strings.Contains(out, "left of "+net) {
		t.Errorf("crediting more than is left: %v\n%s", err, out)
	}
	if out, err := kontor(t, env, "run", "--as-of", "2026-11-06"); err != nil || strings.Contains(out, "refund of") {
		t.Errorf("a later run refunded again: %v\n%s", err, out)
	}
	refunds := 0
	for _, r := range sm.Requests() {
		if r.Path == "/v1/refunds" {
			refunds++
			if r.IdempotencyKey != charging.RefundKey("GS-2026-000001") {
				t.Errorf("refund under key %q", r.IdempotencyKey)
			}
		}
	}
	if refunds != 1 {
		t.Errorf("%d refund requests, want 1", refunds)
	}
	if out, err := kontor(t, env, "receivables", "--format", "csv"); err != nil || strings.Contains(out, inv) {
		t.Errorf("the credited and refunded invoice is open: %v\n%s", err, out)
	}
}
