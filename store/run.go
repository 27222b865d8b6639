package store

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/invoice"
	"github.com/kontor-billing/kontor/rating"
)

// Advisory lock keys.
const (
	// RunLock is held by a run from start to end: runs, and schedule ticks, never overlap.
	RunLock int64 = 0x6b6f6e746f72 // "kontor"
)

// Lock waits for the session advisory lock key and returns its release. The lock lives on a
// connection of its own, so it is released when the process dies, too.
func (s *Store) Lock(ctx context.Context, key int64) (func(), error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if _, err := conn.Exec(ctx, "select pg_advisory_lock($1)", key); err != nil {
		conn.Release()
		return nil, fmt.Errorf("lock: %w", err)
	}
	return unlocker(conn, key), nil
}

// TryLock takes the advisory lock if it is free; ok is false when another session holds it.
func (s *Store) TryLock(ctx context.Context, key int64) (unlock func(), ok bool, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lock: %w", err)
	}
	if err := conn.QueryRow(ctx, "select pg_try_advisory_lock($1)", key).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			return nil, false, fmt.Errorf("lock: %w", err)
		}
		return nil, false, nil
	}
	return unlocker(conn, key), true, nil
}

func unlocker(conn *pgxpool.Conn, key int64) func() {
	return func() {
		conn.Exec(context.Background(), "select pg_advisory_unlock($1)", key)
		conn.Release()
	}
}

// StartRun records the start of a run.
func (s *Store) StartRun(ctx context.Context, asOf calendar.Date) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "insert into runs (as_of) values ($1) returning id", asOf.String()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("start run: %w", err)
	}
	return id, nil
}

// FinishRun records the end of a run and its summary.
func (s *Store) FinishRun(ctx context.Context, id int64, summary any) error {
	b, err := json.Marshal(summary)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	if _, err := s.pool.Exec(ctx, "update runs set status = 'done', finished_at = now(), summary = $2 where id = $1", id, b); err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	return nil
}

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

// invoiceBatch bounds the statements sent in one pipelined batch, so that the wire buffers
// of a large run stay small.
const invoiceBatch = 5000

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
			b.Queue(`insert into invoices (run_id, buyer_kind, buyer_id, currency, type_code, issue_date, model, net, vat, gross)
				values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning id`,
				runID, inv.BuyerKind, inv.BuyerID, inv.Currency, inv.TypeCode, inv.IssueDate.String(), model,
				inv.Totals.TaxBasis.String(), inv.Totals.TaxTotal.String(), inv.Totals.GrandTotal.String()).QueryRow(func(row pgx.Row) error {
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

// bulk copies n rows into a new temporary table (dropped at commit) and runs move, a
// statement that moves them into place, returning the rows it affected. Dates and numbers
// travel as text and are cast by move, so that they keep their exact value.
func bulk(ctx context.Context, tx pgx.Tx, table, columns string, n int, row func(i int, dst []any), move string, args ...any) (int64, error) {
	if n == 0 {
		return 0, nil
	}
	if err := copyTemp(ctx, tx, table, columns, n, row); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, move, args...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", table, err)
	}
	return tag.RowsAffected(), nil
}

// copyTemp copies n rows into a new temporary table (dropped at commit).
func copyTemp(ctx context.Context, tx pgx.Tx, table, columns string, n int, row func(i int, dst []any)) error {
	// An earlier part of the assembly left the table: dropped, not reused, so that
	// nothing of that part is moved again.
	if _, err := tx.Exec(ctx, "drop table if exists "+table+"; create temporary table "+table+" ("+columns+") on commit drop"); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	var names []string
	for _, c := range strings.Split(columns, ",") {
		names = append(names, strings.Fields(c)[0])
	}
	dst := make([]any, len(names))
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		row(i, dst)
		return dst, nil
	})); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// bulkNew is bulk for rows of which none may be stored yet: insert is a plain insert,
// which PostgreSQL does a third faster than one that resolves conflicts row by row (on
// conflict). Should one be stored (unique key key), the insert is undone and taken
// returns the error naming it; the transaction goes on meanwhile, for taken to look.
func bulkNew(ctx context.Context, tx pgx.Tx, table, columns string, n int, row func(i int, dst []any), insert, key string, taken func() error, args ...any) error {
	if n == 0 {
		return nil
	}
	if err := copyTemp(ctx, tx, table, columns, n, row); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "savepoint insert_new"); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	tag, err := tx.Exec(ctx, insert, args...)
	if violates(err, key) {
		if _, err := tx.Exec(ctx, "rollback to savepoint insert_new"); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
		return taken()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	if tag.RowsAffected() != int64(n) {
		return fmt.Errorf("%s: %d of %d rows stored", table, tag.RowsAffected(), n)
	}
	if _, err := tx.Exec(ctx, "release savepoint insert_new"); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
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
	// One row per subscription whose ledger the run changed, or billed for the first time
	// (then even an empty ledger: it says the opening state was applied); version 0 for
	// a new row.
	type row struct {
		sub     string
		version int64
		next    *rating.Prior
	}
	var rows []row
	for i := range a.Outcomes {
		o := &a.Outcomes[i]
		prior, ok := a.Ledger.Prior(o.SubscriptionID)
		if ok && sameLedger(prior, o.Next) {
			continue
		}
		rows = append(rows, row{o.SubscriptionID, a.Ledger.versions[o.SubscriptionID], &o.Next})
	}
	if len(rows) == 0 {
		return nil
	}
	// Empty, not nil: a ledger without entries is empty arrays, not NULL.
	var keys []rating.UsageKey
	advStarts, useTypes, useStarts, useUnits := []string{}, []string{}, []string{}, []string{}
	advQty := []int64{}
	if err := copyTemp(ctx, tx, "new_ledger", "subscription_id text, version bigint, advance_starts text[], advance_quantities bigint[], usage_types text[], usage_starts text[], usage_units text[]", len(rows),
		func(i int, dst []any) {
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
		}); err != nil {
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

// settle records the events a part of the run settled (one usage_settled row per
// subscription: the events' numbers and fates) and holds back the events it read and did
// not settle (usage_held keeps them whole: a skipped buyer's, events not due yet); Commit
// checks the counts. No event row is rewritten: the run knows what it read. Every settled
// event must be one the part read, once; one settled before fails naming it.
func (as *Assembler) settle(ctx context.Context, r UsageRead, outcomes []rating.Outcome) error {
	tx, runID := as.tx, as.run
	n := 0
	for _, o := range outcomes {
		n += len(o.Settled)
	}
	all := make([]int64, 0, n)
	for _, o := range outcomes {
		for _, e := range o.Settled {
			all = append(all, e.Seq)
		}
	}
	slices.Sort(all)
	// Both lists ascending: one walk finds the events read and not settled (held; those
	// of the window are listed in hold, ascending), and any settled event that was not
	// read, or settled twice.
	var settledHeld, hold []int64
	held := 0
	i := 0
	for _, seq := range r.Seqs {
		if i < len(all) && all[i] < seq {
			break
		}
		if i < len(all) && all[i] == seq {
			if seq <= as.window.From {
				settledHeld = append(settledHeld, seq)
			}
			i++
			continue
		}
		held++
		if seq > as.window.From && seq <= as.window.Through {
			hold = append(hold, seq)
		}
	}
	if i < len(all) {
		if i > 0 && all[i] == all[i-1] {
			return fmt.Errorf("settle usage: %w", twice(ctx, tx, all[i]))
		}
		return unsettleable(ctx, tx, all[i])
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_settled"}, []string{"subscription_id", "run_id", "seqs", "fates"},
		&settledRows{outcomes: outcomes, run: runID}); err != nil {
		return fmt.Errorf("settle usage: %w", err)
	}
	// The held events the run settled leave usage_held; those of the window it did not
	// settle join them, copied from what the run read. The counts make sure no event is
	// dropped unread.
	if len(settledHeld) > 0 {
		tag, err := tx.Exec(ctx, `delete from usage_held where seq = any($1)`, settledHeld)
		if err != nil {
			return fmt.Errorf("settle usage: %w", err)
		}
		if int(tag.RowsAffected()) != len(settledHeld) {
			return fmt.Errorf("settle usage: %d of the %d held events the run settled are held: the usage read is incomplete; run again", tag.RowsAffected(), len(settledHeld))
		}
	}
	added, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_held"},
		[]string{"seq", "subscription_id", "usage_type", "quantity", "occurred_at", "received_at", "via_psp"}, &heldRows{events: r.events, hold: hold})
	if err != nil {
		return fmt.Errorf("settle usage: hold %d events: %w", len(hold), err)
	}
	if int(added) != len(hold) {
		return fmt.Errorf("settle usage: %d of the %d events to hold were among those read", added, len(hold))
	}
	as.read += len(r.Seqs) - r.Held
	as.readHeld += r.Held
	as.held += held
	as.added += int(added)
	as.unheld += len(settledHeld)
	return nil
}

// settledRows are the usage_settled rows of a run: per outcome with settled events, its
// subscription, the run, the events' numbers and their fates.
type settledRows struct {
	outcomes []rating.Outcome
	run      int64
	i        int
	seqs     []int64
	fates    []int16
	values   [4]any
}

func (r *settledRows) Next() bool {
	for r.i < len(r.outcomes) {
		o := &r.outcomes[r.i]
		r.i++
		if len(o.Settled) == 0 {
			continue
		}
		r.seqs, r.fates = r.seqs[:0], r.fates[:0]
		for _, e := range o.Settled {
			r.seqs = append(r.seqs, e.Seq)
			r.fates = append(r.fates, int16(e.Fate))
		}
		r.values = [4]any{o.SubscriptionID, r.run, r.seqs, r.fates}
		return true
	}
	return false
}

func (r *settledRows) Values() ([]any, error) { return r.values[:], nil }
func (r *settledRows) Err() error             { return nil }

// heldRows are the events to hold: those whose numbers are in hold (ascending).
type heldRows struct {
	events []dataset.UsageEvent
	hold   []int64
	i      int
	values [7]any
}

func (r *heldRows) Next() bool {
	for r.i < len(r.events) {
		e := &r.events[r.i]
		r.i++
		if _, ok := slices.BinarySearch(r.hold, e.Seq); ok {
			r.values = [7]any{e.Seq, e.SubscriptionID, e.UsageType, e.Quantity, e.OccurredAt.Time(), e.ReceivedAt.Time(), e.ViaPSP}
			return true
		}
	}
	return false
}

func (r *heldRows) Values() ([]any, error) { return r.values[:], nil }
func (r *heldRows) Err() error             { return nil }

// twice says that the event numbered seq is settled twice by one run.
func twice(ctx context.Context, tx pgx.Tx, seq int64) error {
	id, sub, err := event(ctx, tx, seq)
	if err != nil {
		return err
	}
	return fmt.Errorf("usage of subscription %s: event %s is settled twice", sub, id)
}

// event returns the ID and subscription of the event numbered seq ("" when not stored).
func event(ctx context.Context, tx pgx.Tx, seq int64) (id, sub string, err error) {
	err = tx.QueryRow(ctx, `select event_id, subscription_id from usage_events where seq = $1`, seq).Scan(&id, &sub)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("settle usage: event number %d: %w", seq, err)
	}
	return id, sub, nil
}

// unsettleable says why the event numbered seq cannot be settled by this run: it is not
// stored, an earlier run settled it, or the run did not read it.
func unsettleable(ctx context.Context, tx pgx.Tx, seq int64) error {
	id, sub, err := event(ctx, tx, seq)
	if err != nil {
		return err
	}
	if id == "" {
		return fmt.Errorf("settle usage: event number %d is not stored", seq)
	}
	var run int64
	if err := tx.QueryRow(ctx, `select coalesce((select run_id from usage_settled where subscription_id = $1 and $2 = any(seqs)), 0)`, sub, seq).Scan(&run); err != nil {
		return fmt.Errorf("settle usage: event %s: %w", id, err)
	}
	if run != 0 {
		return fmt.Errorf("usage of subscription %s: event %s was settled already by run %d", sub, id, run)
	}
	return fmt.Errorf("usage of subscription %s: event %s was not among the usage the run read", sub, id)
}

// StoredInvoice is an invoice as stored.
type StoredInvoice struct {
	ID      int64
	RunID   int64 // 0 for credit notes, issued outside runs
	Status  string
	Invoice *invoice.Invoice
}

// InvoiceRef is an invoice as a run lists the work pending: without its model, which the
// run reads batch by batch (Finalize, InvoicesByID).
type InvoiceRef struct {
	ID     int64
	Status string
	// TypeCode chooses a draft's number series.
	TypeCode string
}

// InvoiceRefs returns the invoices with one of the statuses, oldest first, without their
// models.
func (s *Store) InvoiceRefs(ctx context.Context, statuses ...string) ([]InvoiceRef, error) {
	rows, err := s.pool.Query(ctx, `select id, status, type_code from invoices where status = any($1) order by id`, statuses)
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", strings.Join(statuses, ", "), err)
	}
	var out []InvoiceRef
	var r InvoiceRef
	if _, err := pgx.ForEachRow(rows, []any{&r.ID, &r.Status, &r.TypeCode}, func() error {
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", strings.Join(statuses, ", "), err)
	}
	return out, nil
}

// Invoices returns the invoices with a status, oldest first.
func (s *Store) Invoices(ctx context.Context, status string) ([]StoredInvoice, error) {
	rows, err := s.pool.Query(ctx, `select id, coalesce(run_id, 0), status, model from invoices where status = $1 order by id`, status)
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", status, err)
	}
	var out []StoredInvoice
	var si StoredInvoice
	var model []byte
	_, err = pgx.ForEachRow(rows, []any{&si.ID, &si.RunID, &si.Status, &model}, func() error {
		inv := &invoice.Invoice{}
		if err := json.Unmarshal(model, inv); err != nil {
			return fmt.Errorf("invoice %d: %w", si.ID, err)
		}
		si.Invoice = inv
		out = append(out, si)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s invoices: %w", status, err)
	}
	return out, nil
}

// InvoicesByID returns the invoices ids, in that order; an ID that is not stored is an
// error naming it.
func (s *Store) InvoicesByID(ctx context.Context, ids []int64) ([]StoredInvoice, error) {
	rows, err := s.pool.Query(ctx, `select id, coalesce(run_id, 0), status, model from invoices where id = any($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("load invoices %v: %w", ids, err)
	}
	byID := make(map[int64]StoredInvoice, len(ids))
	var si StoredInvoice
	var model []byte
	_, err = pgx.ForEachRow(rows, []any{&si.ID, &si.RunID, &si.Status, &model}, func() error {
		inv := &invoice.Invoice{}
		if err := json.Unmarshal(model, inv); err != nil {
			return fmt.Errorf("invoice %d: %w", si.ID, err)
		}
		si.Invoice = inv
		byID[si.ID] = si
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load invoices %v: %w", ids, err)
	}
	out := make([]StoredInvoice, len(ids))
	for i, id := range ids {
		si, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("load invoices: invoice %d is not stored", id)
		}
		out[i] = si
	}
	return out, nil
}

// StatusCounts counts the invoices ids by status.
func (s *Store) StatusCounts(ctx context.Context, ids []int64) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, `select status, count(*) from invoices where id = any($1) group by status`, ids)
	if err != nil {
		return nil, fmt.Errorf("count invoices by status: %w", err)
	}
	out := map[string]int{}
	var status string
	var n int
	_, err = pgx.ForEachRow(rows, []any{&status, &n}, func() error {
		out[status] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count invoices by status: %w", err)
	}
	return out, nil
}

// Finalize assigns the next numbers of series to the draft invoices ids, in that order, in
// one transaction: the counter advances by exactly the number of drafts, so the numbers
// are a contiguous block and the series stays gapless whether the transaction commits or
// not. Invoices already finalized keep their number (a retry after a lost commit). It
// returns each invoice as finalized (its model carries its number), so that the caller
// can deliver it without reading it back.
func (s *Store) Finalize(ctx context.Context, ids []int64, series string) ([]StoredInvoice, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	what := fmt.Sprintf("finalize %d invoices from %d", len(ids), ids[0])
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	type row struct {
		run    int64
		status string
		number *string
		model  []byte
	}
	rows, err := tx.Query(ctx, `select id, coalesce(run_id, 0), status, number, model from invoices where id = any($1) order by id for update`, ids)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	found := map[int64]row{}
	for rows.Next() {
		var id int64
		var r row
		if err := rows.Scan(&id, &r.run, &r.status, &r.number, &r.model); err != nil {
			rows.Close()
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		found[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	drafts := 0
	for _, id := range ids {
		r, ok := found[id]
		if !ok {
			return nil, fmt.Errorf("%s: invoice %d does not exist", what, id)
		}
		if r.status == "draft" {
			drafts++
		}
	}
	out := make([]StoredInvoice, len(ids))
	var last int64
	if drafts > 0 {
		if _, err := tx.Exec(ctx, `insert into number_series (series) values ($1) on conflict do nothing`, series); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if err := tx.QueryRow(ctx, `update number_series set last_number = last_number + $2 where series = $1 returning last_number`, series, drafts).Scan(&last); err != nil {
			return nil, fmt.Errorf("%s: numbers: %w", what, err)
		}
	}
	seq := last - int64(drafts)
	batch := &pgx.Batch{}
	for i, id := range ids {
		r := found[id]
		inv := &invoice.Invoice{}
		if err := json.Unmarshal(r.model, inv); err != nil {
			return nil, fmt.Errorf("finalize invoice %d: model: %w", id, err)
		}
		out[i] = StoredInvoice{ID: id, RunID: r.run, Status: r.status, Invoice: inv}
		if r.status != "draft" {
			continue
		}
		seq++
		num := fmt.Sprintf("%s%06d", series, seq)
		out[i].Status = "finalized"
		inv.Number = num
		if inv.Payment.Code == "58" {
			inv.Payment.Reference = num
		}
		model, err := json.Marshal(inv)
		if err != nil {
			return nil, fmt.Errorf("finalize invoice %d: %w", id, err)
		}
		batch.Queue(`update invoices set status = 'finalized', number = $2, series = $3, seq = $4, model = $5, finalized_at = now()
			where id = $1`, id, num, series, seq, model)
	}
	if err := tx.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("%s: commit: %w", what, err)
	}
	return out, nil
}

// Document is a rendered file of an invoice.
type Document struct {
	Kind   string // pdf or xml
	SHA256 string
	Bytes  []byte
}

// NewDocument returns a document with its hash.
func NewDocument(kind string, b []byte) Document {
	sum := sha256.Sum256(b)
	return Document{Kind: kind, SHA256: hex.EncodeToString(sum[:]), Bytes: b}
}

// Rendered is the rendered files of a finalized invoice.
type Rendered struct {
	ID   int64
	Docs []Document
}

// SaveDocuments records the rendered files of finalized invoices, kind and SHA-256, and
// marks them rendered, in one transaction and one round trip. The bytes go to the
// archive, not the database: rendering is deterministic, so an invoice rendered but not
// archived is rendered again and checked against these hashes.
func (s *Store) SaveDocuments(ctx context.Context, rendered []Rendered) error {
	if len(rendered) == 0 {
		return nil
	}
	// Losing this commit in a crash is harmless: the invoices stay finalized and are
	// rendered again, to the same bytes.
	b := unsynced()
	ids := make([]int64, len(rendered))
	for i, r := range rendered {
		ids[i] = r.ID
		for _, d := range r.Docs {
			b.Queue(`insert into documents (invoice_id, kind, sha256) values ($1, $2, $3)
				on conflict (invoice_id, kind) do nothing`, r.ID, d.Kind, d.SHA256)
		}
	}
	b.Queue(`update invoices set status = 'rendered' where id = any($1) and status = 'finalized'`, ids)
	return s.sendInTx(ctx, b, fmt.Sprintf("store documents of %d invoice(s) from %d", len(rendered), rendered[0].ID))
}

// unsynced returns a batch whose transaction commits without waiting for the disk: for
// records whose loss in a crash only means work is done again.
func unsynced() *pgx.Batch {
	b := &pgx.Batch{}
	b.Queue("set local synchronous_commit = off")
	return b
}

// sendInTx sends b in one transaction and one round trip; what names it in errors.
func (s *Store) sendInTx(ctx context.Context, b *pgx.Batch, what string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// DocumentHashes returns the SHA-256 of the rendered files of invoices: by invoice ID,
// then by kind.
func (s *Store) DocumentHashes(ctx context.Context, ids []int64) (map[int64]map[string]string, error) {
	rows, err := s.pool.Query(ctx, `select invoice_id, kind, sha256 from documents where invoice_id = any($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("documents of %d invoice(s): %w", len(ids), err)
	}
	out := make(map[int64]map[string]string, len(ids))
	var id int64
	var kind, sum string
	if _, err := pgx.ForEachRow(rows, []any{&id, &kind, &sum}, func() error {
		if out[id] == nil {
			out[id] = map[string]string{}
		}
		out[id][kind] = sum
		return nil
	}); err != nil {
		return nil, fmt.Errorf("documents of %d invoice(s): %w", len(ids), err)
	}
	return out, nil
}

// Archived is where an invoice's files were archived: archive key by document kind.
type Archived struct {
	ID   int64
	Keys map[string]string
}

// MarkArchived records where invoices' files were archived and marks them archived, in one
// transaction and one round trip.
func (s *Store) MarkArchived(ctx context.Context, archived []Archived) error {
	if len(archived) == 0 {
		return nil
	}
	var ids, docIDs []int64
	var kinds, keys []string
	for _, a := range archived {
		ids = append(ids, a.ID)
		for kind, key := range a.Keys {
			docIDs, kinds, keys = append(docIDs, a.ID), append(kinds, kind), append(keys, key)
		}
	}
	// Losing this commit is harmless too: the next run archives again, and the write-once
	// archive accepts the same bytes.
	b := unsynced()
	b.Queue(`update documents d set archive_key = v.key, archived_at = now()
		from unnest($1::bigint[], $2::text[], $3::text[]) as v(id, kind, key)
		where d.invoice_id = v.id and d.kind = v.kind`, docIDs, kinds, keys)
	b.Queue(`update invoices set status = 'archived' where id = any($1) and status = 'rendered'`, ids)
	return s.sendInTx(ctx, b, fmt.Sprintf("mark %d invoice(s) from %d archived", len(archived), archived[0].ID))
}

// ClaimTick records that replica executes the scheduler tick at the given instant; false
// when another replica claimed it first.
func (s *Store) ClaimTick(ctx context.Context, tick time.Time, replica string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `insert into schedule_ticks (tick, replica) values ($1, $2) on conflict do nothing`, tick, replica)
	if err != nil {
		return false, fmt.Errorf("claim tick %s: %w", tick.Format(time.RFC3339), err)
	}
	return tag.RowsAffected() == 1, nil
}
