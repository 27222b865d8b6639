package dataset_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/dataset/datasettest"
)

// TestUsageStream reads usage events through Open and Usage.Each: each event once, a
// resent one with the earliest receipt and after the others, nothing emitted after a bad
// row, and Load's events and duplicate count for the same files.
func TestUsageStream(t *testing.T) {
	subs := []string{"S1,C-DE,t-m,end_customer,,,,2026-01-01,"}
	const at = "2026-10-03T10:00:00+02:00"
	tests := []struct {
		name       string
		usage      []string
		usage2     []string
		emitted    []string // event ID@received (UTC), in emitted order
		duplicates int
		errLines   []int // lines of the Errors Each returns
	}{
		{name: "distinct events in file order",
			usage:   []string{"E1,S1,checks,1," + at + ",,", "E2,S1,checks,2," + at + ",,"},
			usage2:  []string{"E3,S1,checks,3," + at + ",,"},
			emitted: []string{"E3@08:00", "E1@08:00", "E2@08:00"}}, // usage-2.csv sorts first
		{name: "a resent event comes last, received with its earliest copy",
			usage: []string{
				"E1,S1,checks,1," + at + ",2026-10-05T00:00:00Z,",
				"E2,S1,checks,2," + at + ",,",
				"E1,S1,checks,1," + at + ",2026-10-04T00:00:00Z,",
			},
			usage2:     []string{"E1,S1,checks,1," + at + ",2026-10-06T00:00:00Z,", "E3,S1,checks,3," + at + ",,"},
			emitted:    []string{"E3@08:00", "E2@08:00", "E1@00:00 on 10-04"},
			duplicates: 2},
		{name: "nothing is emitted after a bad row; every problem is reported",
			usage: []string{
				"E1,S1,checks,1," + at + ",,",
				"E2,S1,checks,0," + at + ",,", // line 3
				"E3,S1,checks,1," + at + ",,",
				"E3,S1,checks,2," + at + ",,", // line 5: same ID, other event
			},
			emitted:  []string{"E1@08:00"},
			errLines: []int{3, 5}},
		{name: "a resent event with a conflicting copy is not emitted",
			usage:    []string{"E1,S1,checks,1," + at + ",,", "E2,S1,checks,1," + at + ",,", "E1,S1,checks,9," + at + ",,"},
			emitted:  []string{"E2@08:00"},
			errLines: []int{4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := datasettest.World{Subscriptions: subs, Usage: tt.usage, Usage2: tt.usage2}
			ds, usage, err := dataset.Open(w.FS())
			if err != nil {
				t.Fatal(err)
			}
			var read, total int64
			usage.Progress = func(r, t int64) { read, total = r, t }
			var got []string
			err = usage.Each(func(ev *dataset.UsageEvent) error {
				got = append(got, label(ev))
				return nil
			})
			if !slices.Equal(got, tt.emitted) {
				t.Errorf("emitted %v, want %v", got, tt.emitted)
			}
			var errs dataset.Errors
			if tt.errLines == nil {
				if err != nil {
					t.Fatal(err)
				}
				if ds.Duplicates != tt.duplicates {
					t.Errorf("Duplicates = %d, want %d", ds.Duplicates, tt.duplicates)
				}
				if total == 0 || read != total {
					t.Errorf("progress: read %d of %d bytes, want all", read, total)
				}
				loaded := w.Load(t)
				var want []string
				for i := range loaded.Usage {
					want = append(want, label(&loaded.Usage[i]))
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) || loaded.Duplicates != ds.Duplicates {
					t.Errorf("Load has %v (%d duplicates), the stream %v (%d)", want, loaded.Duplicates, got, ds.Duplicates)
				}
				return
			}
			if !errors.As(err, &errs) {
				t.Fatalf("err = %v, want dataset.Errors", err)
			}
			var lines []int
			for _, e := range errs {
				lines = append(lines, e.Line)
			}
			if !slices.Equal(lines, tt.errLines) {
				t.Errorf("errors on lines %v, want %v: %v", lines, tt.errLines, err)
			}
		})
	}
}

func label(ev *dataset.UsageEvent) string {
	r := ev.ReceivedAt.Time()
	s := ev.ID + "@" + r.Format("15:04")
	if r.Day() != 3 {
		s += " on " + r.Format("01-02")
	}
	return s
}

// TestUsageStreamStopsWhenTheConsumerFails: an error from emit ends reading and is
// returned as it is; reading again starts afresh.
func TestUsageStreamStopsWhenTheConsumerFails(t *testing.T) {
	var rows []string
	for i := range 100 {
		rows = append(rows, fmt.Sprintf("E%d,S1,checks,1,2026-10-03T10:00:00+02:00,,", i))
	}
	w := datasettest.World{Subscriptions: []string{"S1,C-DE,t-m,end_customer,,,,2026-01-01,"}, Usage: rows}
	_, usage, err := dataset.Open(w.FS())
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("database went away")
	calls := 0
	err = usage.Each(func(*dataset.UsageEvent) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("Each = %v after %d calls, want %v after 3", err, calls, stop)
	}
	// Each reads the files again from the start (the import does after a failed copy).
	calls = 0
	if err := usage.Each(func(*dataset.UsageEvent) error { calls++; return nil }); err != nil || calls != 100 {
		t.Errorf("Each again = %v after %d calls, want every one of 100", err, calls)
	}
}

// TestOpenReportsRecordErrors: Open validates the records before any event is read.
func TestOpenReportsRecordErrors(t *testing.T) {
	w := datasettest.World{Subscriptions: []string{"S1,C-NOPE,t-m,end_customer,,,,2026-01-01,"},
		Usage: []string{"E1,S1,checks,1,2026-10-03T10:00:00+02:00,,"}}
	_, usage, err := dataset.Open(w.FS())
	if usage != nil || err == nil || !strings.Contains(err.Error(), "subscriptions.csv:2") {
		t.Errorf("Open = %v, %v; want the unknown customer on subscriptions.csv:2", usage, err)
	}
}
