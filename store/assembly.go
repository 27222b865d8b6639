// A run's assembly: drafts, charges, the ledger and rated usage, stored part by part in one transaction.

package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
)

// invoiceBatch bounds the statements sent in one pipelined batch, so that the wire buffers
// of a large run stay small.
const invoiceBatch = 5000

// Assembly is what the assemble stage of a run stores, all or nothing.
type Assembly struct {
	RunID    int64
	Invoices []*invoice.Invoice // drafts
	Charges  []rating.Charge    // the charges on the drafts
	Skipped  []invoice.Skipped
	// Outcomes are the ledgers and settled events of the subscriptions whose charges are on
	// the drafts (or that had nothing to charge); Ledger is the ledger they started from,
	// as Store.Ledger read it.
	Outcomes []rating.Outcome
	Ledger   Ledger
	// Usage is the rating of the closed usage buckets of those subscriptions.
	Usage []rating.UsageSummary
	// Read is the usage the run read (Unsettled.Read): the events it read and the
	// outcomes do not settle are held for the next run.
	Read UsageRead
}

// ErrAlreadyBilled means a charge key was stored before: the ledger and the charges
// disagree, and nothing of the assembly was stored.
var ErrAlreadyBilled = errors.New("charge already billed")

// SaveAssembly stores the drafts of a run, their charges, the ledger after it, the events it
// settled and the buyers it skipped, in one transaction: BeginAssembly, Save, Commit.
func (s *Store) SaveAssembly(ctx context.Context, a Assembly) error {
	as, err := s.BeginAssembly(ctx, a.RunID, a.Read.Window)
	if err != nil {
		return err
	}
	defer as.Rollback(ctx)
	if err := as.Save(ctx, a); err != nil {
		return err
	}
	return as.Commit(ctx)
}

// Assembler stores the assembly of a run part by part (a part: the drafts of some buyers,
// with everything of their subscriptions), all parts in one transaction, so that a run
// holds one part in memory at a time and still stores all or nothing.
type Assembler struct {
	tx     pgx.Tx
	run    int64
	window Window
	// What the parts read and held, for the checks of Commit: events of the window read,
	// held events read, events held now, of them newly, held events settled.
	read, readHeld, held, added, unheld int
}

// BeginAssembly begins storing the assembly of run runID, which read the usage of window
// (UsageReader.Window). The usage cursor moves past the window first: a run that read
// the usage before another run settled usage is refused at once.
func (s *Store) BeginAssembly(ctx context.Context, runID int64, window Window) (*Assembler, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("save run %d: %w", runID, err)
	}
	// Runs hold the run lock, so the cursor is still where this run read it; a caller
	// that did not hold the lock is refused.
	tag, err := tx.Exec(ctx, `update usage_cursor set seq = $2 where seq = $1`, window.From, window.Through)
	if err == nil && tag.RowsAffected() != 1 {
		err = fmt.Errorf("settle usage: the usage was read before another run settled usage (the usage cursor moved from %d since); run again", window.From)
	}
	if err != nil {
		tx.Rollback(ctx)
		return nil, fmt.Errorf("save run %d: %w", runID, err)
	}
	return &Assembler{tx: tx, run: runID, window: window}, nil
}

// Ledger returns what earlier runs billed for the subscriptions subs, as the assembly's
// transaction sees it.
func (as *Assembler) Ledger(ctx context.Context, subs []string) (Ledger, error) {
	return readLedger(ctx, as.tx, subs)
}

// Save stores a part of the assembly (a.RunID is the assembler's run): its drafts, their
// charges, the ledger after it, the events it settled, those it read and holds back, and
// the buyers it skipped. a.Read is the part's usage as UsageReader.Next returned it.
// After an error, nothing of the assembly may be committed (Rollback).
//
// A run of 100,000 customers stores millions of rows, so they are not sent one statement
// each: the invoices go in pipelined batches (their IDs come back), everything else is
// copied (COPY) into temporary tables and moved into place by one statement per table.
func (as *Assembler) Save(ctx context.Context, a Assembly) error {
	a.RunID = as.run
	ids, err := insertInvoices(ctx, as.tx, a.RunID, a.Invoices)
	if err != nil {
		return fmt.Errorf("save run %d: %w", a.RunID, err)
	}
	for _, step := range []func(context.Context, pgx.Tx, Assembly, []int64) error{saveCharges, saveLedger, saveUsage, saveSkipped} {
		if err := step(ctx, as.tx, a, ids); err != nil {
			return fmt.Errorf("save run %d: %w", a.RunID, err)
		}
	}
	if err := as.settle(ctx, a.Read, a.Outcomes); err != nil {
		return fmt.Errorf("save run %d: %w", a.RunID, err)
	}
	return nil
}

// Commit checks that the parts settled or held every event the run read, and no other
// (the counts of the window and of the held events), and commits.
func (as *Assembler) Commit(ctx context.Context) error {
	var inWindow, nowHeld int
	if err := as.tx.QueryRow(ctx, `select (select count(*) from usage_events where seq > $1 and seq <= $2), (select count(*) from usage_held)`,
		as.window.From, as.window.Through).Scan(&inWindow, &nowHeld); err != nil {
		return fmt.Errorf("save run %d: settle usage: %w", as.run, err)
	}
	if nowHeld != as.held || inWindow != as.read {
		return fmt.Errorf("save run %d: settle usage: the run read %d held and %d new events, but %d were held and %d are new: the usage read is incomplete; run again",
			as.run, as.readHeld, as.read, nowHeld-as.added+as.unheld, inWindow)
	}
	if err := as.tx.Commit(ctx); err != nil {
		return fmt.Errorf("save run %d: commit: %w", as.run, err)
	}
	return nil
}

// Rollback undoes what was stored unless it was committed.
func (as *Assembler) Rollback(ctx context.Context) { as.tx.Rollback(ctx) }

// insertInvoices stores the drafts and returns their IDs, in order.
func insertInvoices(ctx context.Context, tx pgx.Tx, runID int64, invs []*invoice.Invoice) ([]int64, error) {
	ids := make([]int64, len(invs))
	for from := 0; from < len(invs); from += invoiceBatch {
		b := &pgx.Batch{}
		for i := from; i < min(from+invoiceBatch, len(invs)); i++ {
			inv := invs[i]
			model, err := json.Marshal(inv)
			if err != nil {
				return nil, fmt.Errorf("invoice for %s %s: %w", inv.BuyerKind, inv.BuyerID, err)
			}
			b.Queue(`insert into invoices (run_id, buyer_kind, buyer_id, currency, type_code, issue_date, model, net, vat, gross, payment_method, due_date)
				values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning id`,
				runID, inv.BuyerKind, inv.BuyerID, inv.Currency, inv.TypeCode, inv.IssueDate.String(), model,
				inv.Totals.TaxBasis.String(), inv.Totals.TaxTotal.String(), inv.Totals.GrandTotal.String(),
				string(inv.Payment.Method), inv.DueDate.String()).QueryRow(func(row pgx.Row) error {
				if err := row.Scan(&ids[i]); err != nil {
					return fmt.Errorf("invoice for %s %s: %w", inv.BuyerKind, inv.BuyerID, err)
				}
				return nil
			})
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// saveCharges stores the charges on the drafts; a charge stored before is ErrAlreadyBilled.
func saveCharges(ctx context.Context, tx pgx.Tx, a Assembly, ids []int64) error {
	byKey := make(map[string]*rating.Charge, len(a.Charges))
	for i := range a.Charges {
		byKey[a.Charges[i].Key] = &a.Charges[i]
	}
	type line struct {
		invoice int64
		charge  *rating.Charge
		doc     []byte
	}
	var lines []line
	for i, inv := range a.Invoices {
		for _, l := range inv.Lines {
			c := byKey[l.ChargeKey]
			if c == nil {
				return fmt.Errorf("invoice for %s %s: line %s: no charge %s", inv.BuyerKind, inv.BuyerID, l.ID, l.ChargeKey)
			}
			doc, err := json.Marshal(c)
			if err != nil {
				return fmt.Errorf("charge %s: %w", c.Key, err)
			}
			lines = append(lines, line{ids[i], c, doc})
		}
	}
	return bulkNew(ctx, tx, "new_charges", "key text, invoice_id bigint, subscription_id text, kind text, net text, doc text", len(lines),
		func(i int, dst []any) {
			c := lines[i].charge
			dst[0], dst[1], dst[2], dst[3], dst[4], dst[5] = c.Key, lines[i].invoice, c.SubscriptionID, string(c.Kind), c.Net.String(), string(lines[i].doc)
		},
		`insert into charges (key, run_id, invoice_id, subscription_id, kind, net, doc)
		select key, $1, invoice_id, subscription_id, kind, net::numeric, doc::jsonb from new_charges`, "charges_pkey",
		func() error {
			var key string
			if err := tx.QueryRow(ctx, `select n.key from new_charges n join charges c using (key) where c.run_id <> $1
				union all (select key from new_charges group by key having count(*) > 1) limit 1`, a.RunID).Scan(&key); err != nil {
				return fmt.Errorf("charges: %w", ErrAlreadyBilled)
			}
			return fmt.Errorf("charge %s: %w", key, ErrAlreadyBilled)
		}, a.RunID)
}

// saveLedger stores the ledger after the run: the row of every subscription whose ledger
// changed against the prior one, whole. A subscription no run billed before gets a new
// row (none may be stored: the run read the ledger under the run lock); a changed one is
// updated only if it is still the version the run read. Otherwise nothing is stored.
func saveLedger(ctx context.Context, tx pgx.Tx, a Assembly, _ []int64) error {
	rows := changedLedgers(a)
	if len(rows) == 0 {
		return nil
	}
	if err := copyTemp(ctx, tx, "new_ledger", "subscription_id text, version bigint, advance_starts text[], advance_quantities bigint[], usage_types text[], usage_starts text[], usage_units text[]", len(rows),
		ledgerColumns(rows)); err != nil {
		return err
	}
	changed := errors.New("ledger: a subscription's ledger is stored in another version than the run read (the ledger changed since the run read it); run again")
	tag, err := tx.Exec(ctx, `insert into ledger (subscription_id, first_run, run_id, advance_starts, advance_quantities, usage_types, usage_starts, usage_units)
		select subscription_id, $1, $1, advance_starts::date[], advance_quantities, usage_types, usage_starts::date[], usage_units::numeric[]
		from new_ledger where version = 0`, a.RunID)
	if violates(err, "ledger_pkey") {
		return changed
	}
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	inserted := tag.RowsAffected()
	tag, err = tx.Exec(ctx, `update ledger l set run_id = $1, advance_starts = n.advance_starts::date[], advance_quantities = n.advance_quantities,
			usage_types = n.usage_types, usage_starts = n.usage_starts::date[], usage_units = n.usage_units::numeric[]
		from new_ledger n where n.version <> 0 and l.subscription_id = n.subscription_id and l.run_id = n.version`, a.RunID)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	if inserted+tag.RowsAffected() != int64(len(rows)) {
		return changed
	}
	return nil
}

// ledgerRow is a subscription's ledger as a run leaves it: version is the ledger's
// version the run read (0 for a new row).
type ledgerRow struct {
	sub     string
	version int64
	next    *rating.Prior
}

// changedLedgers returns one row per subscription whose ledger the run changed, or
// billed for the first time (then even an empty ledger: it says the opening state was
// applied).
func changedLedgers(a Assembly) []ledgerRow {
	var rows []ledgerRow
	for i := range a.Outcomes {
		o := &a.Outcomes[i]
		prior, ok := a.Ledger.Prior(o.SubscriptionID)
		if ok && sameLedger(prior, o.Next) {
			continue
		}
		rows = append(rows, ledgerRow{o.SubscriptionID, a.Ledger.versions[o.SubscriptionID], &o.Next})
	}
	return rows
}

// ledgerColumns fills a new_ledger row from rows[i]: the entries as arrays, in date and
// usage key order. The arrays are reused from row to row.
func ledgerColumns(rows []ledgerRow) func(i int, dst []any) {
	// Empty, not nil: a ledger without entries is empty arrays, not NULL.
	var keys []rating.UsageKey
	advStarts, useTypes, useStarts, useUnits := []string{}, []string{}, []string{}, []string{}
	advQty := []int64{}
	return func(i int, dst []any) {
		r := rows[i]
		advStarts, advQty = advStarts[:0], advQty[:0]
		for _, d := range slices.SortedFunc(maps.Keys(r.next.Advance), calendar.Date.Compare) {
			advStarts, advQty = append(advStarts, d.String()), append(advQty, r.next.Advance[d])
		}
		keys = slices.AppendSeq(keys[:0], maps.Keys(r.next.Usage))
		slices.SortFunc(keys, func(a, b rating.UsageKey) int {
			return cmp.Or(strings.Compare(a.Type, b.Type), a.PeriodStart.Compare(b.PeriodStart))
		})
		useTypes, useStarts, useUnits = useTypes[:0], useStarts[:0], useUnits[:0]
		for _, k := range keys {
			useTypes, useStarts, useUnits = append(useTypes, k.Type), append(useStarts, k.PeriodStart.String()), append(useUnits, r.next.Usage[k].String())
		}
		dst[0], dst[1], dst[2], dst[3], dst[4], dst[5], dst[6] = r.sub, r.version, advStarts, advQty, useTypes, useStarts, useUnits
	}
}

// sameLedger reports whether two ledgers hold the same entries.
func sameLedger(a, b rating.Prior) bool {
	if len(a.Advance) != len(b.Advance) || len(a.Usage) != len(b.Usage) {
		return false
	}
	for d, q := range a.Advance {
		if r, ok := b.Advance[d]; !ok || r != q {
			return false
		}
	}
	for k, u := range a.Usage {
		if v, ok := b.Usage[k]; !ok || !v.Equal(u) {
			return false
		}
	}
	return true
}

// saveUsage stores the rating of the closed usage buckets.
func saveUsage(ctx context.Context, tx pgx.Tx, a Assembly, _ []int64) error {
	_, err := bulk(ctx, tx, "new_usage_rated", "subscription_id text, usage_type text, period_start text, period_end text, events integer, units text, overage text, blocked text, late boolean", len(a.Usage),
		func(i int, dst []any) {
			u := &a.Usage[i]
			dst[0], dst[1], dst[2], dst[3], dst[4] = u.SubscriptionID, u.UsageType, u.Period.Start.String(), u.Period.End.String(), int32(u.Events)
			dst[5], dst[6], dst[7], dst[8] = u.Units.String(), u.Overage.String(), u.Blocked.String(), u.Late
		},
		`insert into usage_rated (run_id, subscription_id, usage_type, period_start, period_end, events, units, overage, blocked, late)
		select $1, subscription_id, usage_type, period_start::date, period_end::date, events, units::numeric, overage::numeric, blocked::numeric, late
		from new_usage_rated`, a.RunID)
	return err
}

// saveSkipped stores the buyers the run skipped, and why.
func saveSkipped(ctx context.Context, tx pgx.Tx, a Assembly, _ []int64) error {
	_, err := bulk(ctx, tx, "new_skipped", "buyer_kind text, buyer_id text, reason text", len(a.Skipped),
		func(i int, dst []any) {
			dst[0], dst[1], dst[2] = a.Skipped[i].BuyerKind, a.Skipped[i].BuyerID, a.Skipped[i].Reason
		},
		`insert into skipped (run_id, buyer_kind, buyer_id, reason) select $1, buyer_kind, buyer_id, reason from new_skipped`, a.RunID)
	return err
}
