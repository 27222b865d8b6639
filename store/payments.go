package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/licensing"
	"github.com/shopspring/decimal"
)

// PaymentSource is where a payment was learned of.
type PaymentSource string

const (
	FromStripe PaymentSource = "stripe" // a charge, a webhook event, a refund
	FromBank   PaymentSource = "bank"   // a bank statement entry
	FromImport PaymentSource = "import" // a CSV file of card results
)

// Outcome is what a payment did to an invoice.
type Outcome string

const (
	Paid     Outcome = "paid"     // money received
	Failed   Outcome = "failed"   // a charge of a stored method failed: no money, grace starts
	Refunded Outcome = "refunded" // money paid back to the buyer
	Returned Outcome = "returned" // a direct debit returned by the buyer's bank: grace starts
)

// Payment is one movement of money on an invoice (or a failed attempt at one). Source,
// Reference and Outcome name it: recording it again changes nothing.
type Payment struct {
	Invoice   string
	Source    PaymentSource
	Reference string
	Outcome   Outcome
	// Amount is what was received: negative when refunded or returned, 0 when failed.
	Amount decimal.Decimal
	At     time.Time
	// Detail is the decline code, return reason or remittance information.
	Detail string
}

// recordPayment stores p in tx unless it is stored already, and for a failed or returned
// payment queues the customer's notice. It reports whether p was new.
func recordPayment(ctx context.Context, tx pgx.Tx, p Payment, loc *time.Location) (bool, error) {
	tag, err := tx.Exec(ctx, `insert into payments (invoice_number, source, reference, outcome, amount, at, detail)
		values ($1, $2, $3, $4, $5, $6, $7) on conflict do nothing`,
		p.Invoice, string(p.Source), p.Reference, string(p.Outcome), p.Amount, p.At, p.Detail)
	if err != nil {
		return false, fmt.Errorf("record payment %s of %s: %w", p.Reference, p.Invoice, err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	if p.Outcome == Failed || p.Outcome == Returned {
		if err := queueFailureNotice(ctx, tx, p, loc); err != nil {
			return false, err
		}
	}
	return true, nil
}

// queueFailureNotice puts the notice of a failed payment in the outbox: what failed, why,
// and the last day to pay before the license is deactivated (BILLING-RULES 4).
func queueFailureNotice(ctx context.Context, tx pgx.Tx, p Payment, loc *time.Location) error {
	var buyer, method, lang string
	if err := tx.QueryRow(ctx, `select buyer_id, model->'payment'->>'method', model->>'language' from invoices where number = $1`,
		p.Invoice).Scan(&buyer, &method, &lang); err != nil {
		return fmt.Errorf("notice for %s: %w", p.Invoice, err)
	}
	on := calendar.Of(p.At, loc)
	n := Notice{Customer: buyer, Invoice: p.Invoice, Kind: NoticePaymentFailed, On: on}
	n.Subject, n.Message = failureText(p, dataset.PaymentMethod(method), on, lang)
	return queueNotice(ctx, tx, n)
}

// failureText is the subject and text of a failed payment's notice, in the buyer's
// language.
func failureText(p Payment, m dataset.PaymentMethod, on calendar.Date, lang string) (string, string) {
	last := on.AddDays(licensing.GraceDays - 1)
	why := p.Detail
	if lang == "de" {
		if why == "" {
			why = "ohne Angabe eines Grundes"
		}
		return fmt.Sprintf("Zahlung zur Rechnung %s fehlgeschlagen", p.Invoice),
			fmt.Sprintf("Die Zahlung (%s) zur Rechnung %s ist am %s fehlgeschlagen (%s). Bitte zahlen Sie bis zum %s, sonst wird die Lizenz deaktiviert.",
				methodName(m, "de"), p.Invoice, invoice.FormatDate(on, "de"), why, invoice.FormatDate(last, "de"))
	}
	if why == "" {
		why = "no reason given"
	}
	return fmt.Sprintf("Payment for invoice %s failed", p.Invoice),
		fmt.Sprintf("The payment (%s) for invoice %s failed on %s (%s). Please pay by %s, or the license will be deactivated.",
			methodName(m, "en"), p.Invoice, invoice.FormatDate(on, "en"), why, invoice.FormatDate(last, "en"))
}

// methodName is a payment method as a notice names it.
func methodName(m dataset.PaymentMethod, lang string) string {
	names := map[dataset.PaymentMethod][2]string{dataset.Card: {"Karte", "card"}, dataset.SEPADirectDebit: {"SEPA-Lastschrift", "SEPA direct debit"},
		dataset.ApplePay: {"Apple Pay", "Apple Pay"}, dataset.GooglePay: {"Google Pay", "Google Pay"}, dataset.PayPal: {"PayPal", "PayPal"},
		dataset.Link: {"Link", "Link"}, dataset.OnlinePayment: {"Online-Zahlung", "online payment"}}
	n, ok := names[m]
	if !ok {
		return string(m)
	}
	if lang == "de" {
		return n[0]
	}
	return n[1]
}

// PaymentResult is the outcome of charging a stored payment method for an invoice, as a
// CSV file of the payment service provider's results gives it.
type PaymentResult struct {
	Invoice     string
	AttemptedAt time.Time
	Paid        bool
	Reference   string
	Line        int // in the imported file, for errors
}

// ImportPayments stores payment results of stored payment methods in one transaction; a
// failed charge queues a notice to the customer. Every result must name a finalized
// invoice of a customer paying by a stored method; otherwise nothing is imported and every
// such result is reported. Results already stored are skipped. It returns how many
// results were added and the customers notified.
func (s *Store) ImportPayments(ctx context.Context, results []PaymentResult, loc *time.Location) (int, []string, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("import payments: %w", err)
	}
	defer tx.Rollback(ctx)
	var problems, notified []string
	added := 0
	for _, r := range results {
		var buyerKind, buyerID, method string
		var gross decimal.Decimal
		err := tx.QueryRow(ctx, `select buyer_kind, buyer_id, model->'payment'->>'method', gross from invoices where number = $1`,
			r.Invoice).Scan(&buyerKind, &buyerID, &method, &gross)
		if errors.Is(err, pgx.ErrNoRows) {
			problems = append(problems, fmt.Sprintf("line %d: invoice %s is not a finalized invoice", r.Line, r.Invoice))
			continue
		}
		if err != nil {
			return 0, nil, fmt.Errorf("import payments: %w", err)
		}
		if !dataset.PaymentMethod(method).Stored() || buyerKind != string(invoice.CustomerBuyer) {
			problems = append(problems, fmt.Sprintf("line %d: invoice %s is not paid by a stored payment method (payment method %s)", r.Line, r.Invoice, method))
			continue
		}
		p := Payment{Invoice: r.Invoice, Source: FromImport, Outcome: Failed, At: r.AttemptedAt, Detail: r.Reference,
			Reference: r.Invoice + " " + r.AttemptedAt.UTC().Format("2006-01-02T15:04:05.000000Z")}
		if r.Paid {
			p.Outcome, p.Amount = Paid, gross
		}
		isNew, err := recordPayment(ctx, tx, p, loc)
		if err != nil {
			return 0, nil, fmt.Errorf("import payments: line %d: %w", r.Line, err)
		}
		if isNew {
			added++
			if !r.Paid {
				notified = append(notified, buyerID)
			}
		}
	}
	if len(problems) > 0 {
		return 0, nil, fmt.Errorf("import payments: %d problem(s), nothing imported:\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, nil, fmt.Errorf("import payments: %w", err)
	}
	return added, notified, nil
}

// PaymentAttempts returns each customer's payment attempts, dated in loc, for the license
// evaluation: a failed charge or a returned debit is a failed attempt; a payment is a paid
// attempt once what was received covers the invoice, less its credit notes.
func (s *Store) PaymentAttempts(ctx context.Context, loc *time.Location) (map[string][]licensing.Attempt, error) {
	rows, err := s.pool.Query(ctx, `select b.buyer_id, p.invoice_number, p.at, p.outcome, p.amount, b.gross - b.credited
		from payments p join invoice_balances b on b.number = p.invoice_number
		where b.buyer_kind = 'customer' order by p.invoice_number, p.at, p.id`)
	if err != nil {
		return nil, fmt.Errorf("payment attempts: %w", err)
	}
	out := map[string][]licensing.Attempt{}
	var cust, inv, outcome, last string
	var at time.Time
	var amount, due, received decimal.Decimal
	_, err = pgx.ForEachRow(rows, []any{&cust, &inv, &at, &outcome, &amount, &due}, func() error {
		if inv != last {
			last, received = inv, decimal.Zero
		}
		received = received.Add(amount)
		a := licensing.Attempt{Invoice: inv, On: calendar.Of(at, loc)}
		switch Outcome(outcome) {
		case Failed, Returned:
		case Paid:
			if received.LessThan(due) {
				return nil // a part payment keeps the grace running
			}
			a.Paid = true
		default:
			return nil
		}
		out[cust] = append(out[cust], a)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("payment attempts: %w", err)
	}
	return out, nil
}
