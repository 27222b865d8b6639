// Runs: their start, end, summary and the records the report reads.

package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kontor-billing/kontor/calendar"
)

// StartRun records the start of a run and who started it ("" for the command line or the
// scheduler).
func (s *Store) StartRun(ctx context.Context, asOf calendar.Date, by string) (int64, error) {
	var id int64
	err := s.pool.QueryRow(ctx, "insert into runs (as_of, started_by) values ($1, nullif($2, '')) returning id", asOf.String(), by).Scan(&id)
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

// RunRecord is a run as stored.
type RunRecord struct {
	ID      int64
	AsOf    calendar.Date
	Status  string // running, done
	Started time.Time
	// Summary is the summary the run stored when it finished (nil while running).
	Summary json.RawMessage
	// Finished is when it finished (zero while running); StartedBy the console user who
	// started it ("" for the command line or the scheduler).
	Finished  time.Time
	StartedBy string
}

// Runs returns the latest limit runs, newest first.
func (s *Store) Runs(ctx context.Context, limit int) ([]RunRecord, error) {
	rows, err := s.pool.Query(ctx, `select `+runColumns+` from runs order by id desc limit $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	runs, err := collectRuns(rows)
	if err != nil {
		return nil, fmt.Errorf("runs: %w", err)
	}
	return runs, nil
}

const runColumns = `id, as_of::text, status, started_at, summary, coalesce(finished_at, 'epoch'::timestamptz), coalesce(started_by, '')`

// Run returns run id.
func (s *Store) Run(ctx context.Context, id int64) (RunRecord, error) {
	rows, err := s.pool.Query(ctx, `select `+runColumns+` from runs where id = $1`, id)
	if err != nil {
		return RunRecord{}, fmt.Errorf("run %d: %w", id, err)
	}
	runs, err := collectRuns(rows)
	if err != nil {
		return RunRecord{}, fmt.Errorf("run %d: %w", id, err)
	}
	if len(runs) == 0 {
		return RunRecord{}, fmt.Errorf("run %d: %w", id, ErrNoRun)
	}
	return runs[0], nil
}

// PreviousRun returns the latest finished run before run id; ok is false when there is none.
func (s *Store) PreviousRun(ctx context.Context, id int64) (r RunRecord, ok bool, err error) {
	rows, err := s.pool.Query(ctx, `select `+runColumns+` from runs
		where id < $1 and status = 'done' order by id desc limit 1`, id)
	if err != nil {
		return r, false, fmt.Errorf("run before %d: %w", id, err)
	}
	runs, err := collectRuns(rows)
	if err != nil {
		return r, false, fmt.Errorf("run before %d: %w", id, err)
	}
	if len(runs) == 0 {
		return r, false, nil
	}
	return runs[0], true, nil
}

func collectRuns(rows pgx.Rows) ([]RunRecord, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RunRecord, error) {
		var rec RunRecord
		var asOf string
		var summary []byte
		if err := r.Scan(&rec.ID, &asOf, &rec.Status, &rec.Started, &summary, &rec.Finished, &rec.StartedBy); err != nil {
			return rec, err
		}
		if rec.Finished.Equal(time.Unix(0, 0)) {
			rec.Finished = time.Time{}
		}
		d, err := calendar.Parse(asOf)
		if err != nil {
			return rec, err
		}
		rec.AsOf, rec.Summary = d, summary
		return rec, nil
	})
}

// LastRunDone returns when the latest finished run finished and how many buyers it
// skipped; ok is false when no run has finished.
func (s *Store) LastRunDone(ctx context.Context) (finished time.Time, skipped int, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `select finished_at, coalesce(jsonb_array_length(summary->'skipped'), 0)
		from runs where status = 'done' order by id desc limit 1`).Scan(&finished, &skipped)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, 0, false, nil
	}
	if err != nil {
		return time.Time{}, 0, false, fmt.Errorf("last run done: %w", err)
	}
	return finished, skipped, true, nil
}
