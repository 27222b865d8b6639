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
	tx := as.tx
	s := as.sort(r.Seqs, settledSeqs(outcomes))
	if s.bad > 0 {
		if s.twice {
			return fmt.Errorf("settle usage: %w", twice(ctx, tx, s.bad))
		}
		return unsettleable(ctx, tx, s.bad)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_settled"}, []string{"subscription_id", "run_id", "seqs", "fates"},
		settledRows(outcomes, as.run)); err != nil {
		return fmt.Errorf("settle usage: %w", err)
	}
	// The held events the run settled leave usage_held; those of the window it did not
	// settle join them, copied from what the run read. The counts make sure no event is
	// dropped unread.
	if len(s.settledHeld) > 0 {
		tag, err := tx.Exec(ctx, `delete from usage_held where seq = any($1)`, s.settledHeld)
		if err != nil {
			return fmt.Errorf("settle usage: %w", err)
		}
		if int(tag.RowsAffected()) != len(s.settledHeld) {
			return fmt.Errorf("settle usage: %d of the %d held events the run settled are held: the usage read is incomplete; run again", tag.RowsAffected(), len(s.settledHeld))
		}
	}
	added, err := tx.CopyFrom(ctx, pgx.Identifier{"usage_held"}, heldColumns, heldRows(r.events, s.hold))
	if err != nil {
		return fmt.Errorf("settle usage: hold %d events: %w", len(s.hold), err)
	}
	if int(added) != len(s.hold) {
		return fmt.Errorf("settle usage: %d of the %d events to hold were among those read", added, len(s.hold))
	}
	as.read += len(r.Seqs) - r.Held
	as.readHeld += r.Held
	as.held += s.held
	as.added += int(added)
	as.unheld += len(s.settledHeld)
	return nil
}

// settledSeqs returns the numbers of the events the outcomes settled, ascending.
func settledSeqs(outcomes []rating.Outcome) []int64 {
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
	return all
}

// sorting is what a part's events read and settled come to.
type sorting struct {
	settledHeld []int64 // held events settled now
	hold        []int64 // events of the window read and not settled, ascending
	held        int     // events read and not settled
	bad         int64   // a settled event not read (or settled twice, when twice), else 0
	twice       bool
}

// sort walks the events read (seqs) and those settled (all), both ascending: it finds the
// events read and not settled, and any settled event that was not read, or settled twice.
func (as *Assembler) sort(seqs, all []int64) sorting {
	var s sorting
	i := 0
	for _, seq := range seqs {
		if i < len(all) && all[i] < seq {
			break
		}
		if i < len(all) && all[i] == seq {
			if seq <= as.window.From {
				s.settledHeld = append(s.settledHeld, seq)
			}
			i++
			continue
		}
		s.held++
		if seq > as.window.From && seq <= as.window.Through {
			s.hold = append(s.hold, seq)
		}
	}
	if i < len(all) {
		s.bad, s.twice = all[i], i > 0 && all[i] == all[i-1]
	}
	return s
}

// settledRows are the usage_settled rows of a run: per outcome with settled events, its
// subscription, the run, the events' numbers and their fates.
func settledRows(outcomes []rating.Outcome, run int64) pgx.CopyFromSource {
	var seqs []int64
	var fates []int16
	i := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		for i < len(outcomes) {
			o := &outcomes[i]
			i++
			if len(o.Settled) == 0 {
				continue
			}
			seqs, fates = seqs[:0], fates[:0]
			for _, e := range o.Settled {
				seqs = append(seqs, e.Seq)
				fates = append(fates, int16(e.Fate))
			}
			return []any{o.SubscriptionID, run, seqs, fates}, nil
		}
		return nil, nil
	})
}

// heldColumns are usage_held's columns, as heldRows gives them: an event's, numbered.
var heldColumns = append([]string{"seq"}, eventColumnNames[1:]...)

// heldRows are the events to hold: those whose numbers are in hold (ascending).
func heldRows(events []dataset.UsageEvent, hold []int64) pgx.CopyFromSource {
	var values [7]any // reused: pgx encodes a row before it asks for the next
	i := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		for i < len(events) {
			e := &events[i]
			i++
			if _, ok := slices.BinarySearch(hold, e.Seq); ok {
				values = [7]any{e.Seq, e.SubscriptionID, e.UsageType, e.Quantity, e.OccurredAt.Time(), e.ReceivedAt.Time(), e.ViaPSP}
				return values[:], nil
			}
		}
		return nil, nil
	})
}

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
