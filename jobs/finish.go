package jobs

import (
	"context"
	"fmt"
)

// finishStore is what the finish stage writes.
type finishStore interface {
	// FinishRun records the end of run id and its summary.
	FinishRun(ctx context.Context, id int64, summary any) error
}

// finishStage records the run done with its summary: the last stage. A run killed
// before it stays started; the next run finishes its work.
type finishStage struct{ st finishStore }

func (finishStage) name() string { return "finish" }

func (s finishStage) run(ctx context.Context, r *runState) error {
	if err := s.st.FinishRun(ctx, r.runID, r.sum); err != nil {
		return fmt.Errorf("record run %d done: %w", r.runID, err)
	}
	r.step("done")
	r.log.Info("run done", "run", r.runID, "issued", len(r.sum.Issued), "archived", r.sum.Archived, "skipped", len(r.sum.Skipped), "seconds", r.sum.Seconds)
	return nil
}
