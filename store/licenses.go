// License states as runs evaluate them from payment attempts.

package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
	"github.com/kontor-billing/kontor/licensing"
)

// SaveLicenses records the license states as of a run; a deactivation or reactivation is
// also queued as a notice to the customer. It returns the changes.
func (s *Store) SaveLicenses(ctx context.Context, runID int64, asOf calendar.Date, states map[string]licensing.Status) ([]licensing.Change, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("save licenses: %w", err)
	}
	defer tx.Rollback(ctx)
	var changes []licensing.Change
	for cust, st := range states {
		var old string
		err := tx.QueryRow(ctx, `select state from licenses where customer_id = $1 for update`, cust).Scan(&old)
		if errors.Is(err, pgx.ErrNoRows) {
			old = string(licensing.Active)
		} else if err != nil {
			return nil, fmt.Errorf("save licenses: %w", err)
		}
		if old == string(st.State) {
			continue
		}
		var failed, deact *string
		if !st.FailedOn.IsZero() {
			f, d := st.FailedOn.String(), st.DeactivatedOn.String()
			failed, deact = &f, &d
		}
		if _, err := tx.Exec(ctx, `insert into licenses (customer_id, state, invoice_number, failed_on, deactivated_on, updated_run, updated_at)
			values ($1, $2, nullif($3, ''), $4, $5, $6, now())
			on conflict (customer_id) do update set state = excluded.state, invoice_number = excluded.invoice_number,
			failed_on = excluded.failed_on, deactivated_on = excluded.deactivated_on, updated_run = excluded.updated_run, updated_at = now()`,
			cust, string(st.State), st.Invoice, failed, deact, runID); err != nil {
			return nil, fmt.Errorf("save licenses: %w", err)
		}
		if n, ok := licenseNotice(cust, old, st, asOf); ok {
			if err := queueNotice(ctx, tx, n); err != nil {
				return nil, fmt.Errorf("save licenses: %w", err)
			}
		}
		changes = append(changes, licensing.Change{Customer: cust, From: licensing.State(old), To: st.State, Status: st})
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("save licenses: %w", err)
	}
	return changes, nil
}

// LicenseStates returns the stored license state of every customer that has one;
// customers without a stored state are active.
func (s *Store) LicenseStates(ctx context.Context) (map[string]licensing.State, error) {
	rows, err := s.pool.Query(ctx, `select customer_id, state from licenses`)
	if err != nil {
		return nil, fmt.Errorf("read license states: %w", err)
	}
	out := map[string]licensing.State{}
	var cust, state string
	if _, err := pgx.ForEachRow(rows, []any{&cust, &state}, func() error {
		out[cust] = licensing.State(state)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read license states: %w", err)
	}
	return out, nil
}

// licenseNotice is the notice of a license deactivated, or active again after it was.
func licenseNotice(cust, old string, st licensing.Status, asOf calendar.Date) (Notice, bool) {
	n := Notice{Customer: cust, Invoice: st.Invoice, On: asOf}
	switch {
	case st.State == licensing.Deactivated:
		n.Kind, n.Subject = NoticeLicenseDeactivated, "License deactivated: invoice "+st.Invoice+" is unpaid"
		n.Message = fmt.Sprintf("Invoice %s is unpaid since its payment failed on %s; the license is deactivated as of %s. Paying the invoice activates it again.",
			st.Invoice, st.FailedOn, st.DeactivatedOn)
	case old == string(licensing.Deactivated) && st.State == licensing.Active:
		n.Kind, n.Subject = NoticeLicenseReactivated, "License active again"
		n.Message = "The payment was received; the license is active again."
	default:
		return Notice{}, false
	}
	return n, true
}
