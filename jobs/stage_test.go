package jobs

import (
	"strings"
	"testing"
)

// TestRunStages: a run's stages in the order the crash-resume contract depends on (the
// assembly committed before numbering, licenses after the charges' invoices are issued,
// the run recorded done last), and a dry run's: load, assemble (in memory) and licenses
// (listed, not saved).
func TestRunStages(t *testing.T) {
	for _, tt := range []struct {
		dryRun bool
		want   string
	}{
		{false, "load assemble finalize charge mail licenses report finish"},
		{true, "load assemble licenses"},
	} {
		var names []string
		for _, s := range runStages(storeAdapter{}, tt.dryRun) {
			names = append(names, s.name())
		}
		if got := strings.Join(names, " "); got != tt.want {
			t.Errorf("dry run %v: stages %s, want %s", tt.dryRun, got, tt.want)
		}
	}
}
