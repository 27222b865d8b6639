package main

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Off a terminal, progress is a log line at every tenth of a stage and at its end, once,
// also when stages interleave.
func TestProgressOffATerminalLogsTenths(t *testing.T) {
	tests := []struct {
		total int
		want  int
	}{{25, 10}, {3, 3}, {1, 1}, {1000, 10}, {5, 5}}
	for _, tc := range tests {
		var logs strings.Builder
		p := newProgress(&logs, slog.New(slog.NewTextHandler(&logs, nil)))
		for i := 1; i <= tc.total; i++ {
			p.update("render", i, tc.total)
			p.update("archive", i-1, tc.total) // interleaved, as a run's deliveries report
		}
		p.update("render", tc.total, tc.total) // the end again: no second line
		p.finish()
		if n := strings.Count(logs.String(), "msg=progress stage=render"); n != tc.want {
			t.Errorf("%d items: %d log lines, want %d:\n%s", tc.total, n, tc.want, logs.String())
		}
		if n := strings.Count(logs.String(), "msg=progress stage=archive"); n > tc.want {
			t.Errorf("%d items: %d archive log lines, want at most %d:\n%s", tc.total, n, tc.want, logs.String())
		}
		if !strings.Contains(logs.String(), fmt.Sprintf("done=%d total=%d", tc.total, tc.total)) {
			t.Errorf("%d items: no line for the end", tc.total)
		}
	}
}
