// Settling usage: the events a run's assembly settled or holds for the next run.

package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
)

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

func (r *settledRows) Err() error { return nil }

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

func (r *heldRows) Err() error { return nil }

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
