package dataset_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/kontor-billing/kontor/dataset"
)

// TestGroupBySubscription groups events by subscription in place: every event once, in
// its group, the events reordered so that groups are contiguous.
func TestGroupBySubscription(t *testing.T) {
	tests := []struct {
		name   string
		events []string // subscription/event
		want   map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"one subscription", []string{"S1/a", "S1/b"}, map[string]string{"S1": "[a b]"}},
		{"interleaved", []string{"S1/a", "S2/b", "S1/c", "S3/d", "S2/e", "S1/f"},
			map[string]string{"S1": "[a c f]", "S2": "[b e]", "S3": "[d]"}},
		{"grouped already", []string{"S1/a", "S1/b", "S2/c", "S3/d", "S3/e"},
			map[string]string{"S1": "[a b]", "S2": "[c]", "S3": "[d e]"}},
		{"reversed", []string{"S3/a", "S3/b", "S2/c", "S1/d", "S1/e", "S2/f", "S3/g"},
			map[string]string{"S1": "[d e]", "S2": "[c f]", "S3": "[a b g]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var evs []dataset.UsageEvent
			for _, e := range tt.events {
				var sub, id string
				fmt.Sscanf(e, "%2s/%s", &sub, &id)
				evs = append(evs, dataset.UsageEvent{SubscriptionID: sub, ID: id})
			}
			got := dataset.GroupBySubscription(evs)
			if len(got) != len(tt.want) {
				t.Fatalf("%d groups, want %d: %v", len(got), len(tt.want), got)
			}
			for sub, want := range tt.want {
				var ids []string
				for _, e := range got[sub] {
					ids = append(ids, e.ID)
					if e.SubscriptionID != sub {
						t.Errorf("event %s of %s in group %s", e.ID, e.SubscriptionID, sub)
					}
				}
				slices.Sort(ids)
				if fmt.Sprint(ids) != want {
					t.Errorf("%s: %v, want %s", sub, ids, want)
				}
				// A group may not grow into the next one's events, and is part of evs.
				if g := got[sub]; cap(g) != len(g) {
					t.Errorf("%s: capacity %d beyond its %d events", sub, cap(g), len(g))
				} else if !inside(evs, &g[0]) {
					t.Errorf("%s: not grouped in place", sub)
				}
			}
			// Each group is contiguous in evs.
			for i := 1; i < len(evs); i++ {
				if evs[i].SubscriptionID != evs[i-1].SubscriptionID && slices.ContainsFunc(evs[:i-1], func(e dataset.UsageEvent) bool { return e.SubscriptionID == evs[i].SubscriptionID }) {
					t.Errorf("events reordered as %v: %s is not contiguous", evs, evs[i].SubscriptionID)
				}
			}
		})
	}
}

// TestGroupBySubscriptionShuffled groups 10,000 events of 300 subscriptions in random
// order: every event lands in its group exactly once.
func TestGroupBySubscriptionShuffled(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	evs := make([]dataset.UsageEvent, 10000)
	want := map[string]int{}
	for i := range evs {
		sub := fmt.Sprintf("S%d", r.IntN(300))
		evs[i] = dataset.UsageEvent{SubscriptionID: sub, Seq: int64(i + 1)}
		want[sub]++
	}
	got := dataset.GroupBySubscription(evs)
	seen := make([]bool, len(evs)+1)
	for sub, g := range got {
		if len(g) != want[sub] {
			t.Errorf("%s: %d events, want %d", sub, len(g), want[sub])
		}
		for _, e := range g {
			if e.SubscriptionID != sub || seen[e.Seq] {
				t.Fatalf("event %d of %s in group %s (seen before: %v)", e.Seq, e.SubscriptionID, sub, seen[e.Seq])
			}
			seen[e.Seq] = true
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d groups, want %d", len(got), len(want))
	}
}

// inside reports whether e points into evs.
func inside(evs []dataset.UsageEvent, e *dataset.UsageEvent) bool {
	for i := range evs {
		if &evs[i] == e {
			return true
		}
	}
	return false
}

// BenchmarkGroupBySubscription groups 1,000,000 events of 10,000 subscriptions that
// arrive interleaved, as a run reads them from the store in import order, and reports
// events per second.
func BenchmarkGroupBySubscription(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	subs := make([]string, 10000)
	for i := range subs {
		subs[i] = fmt.Sprintf("S%05d", i)
	}
	arrived := make([]dataset.UsageEvent, 1_000_000)
	for i := range arrived {
		arrived[i] = dataset.UsageEvent{Seq: int64(i + 1), SubscriptionID: subs[r.IntN(len(subs))], UsageType: "api", Quantity: 1}
	}
	events := make([]dataset.UsageEvent, len(arrived))
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		copy(events, arrived)
		b.StartTimer()
		if len(dataset.GroupBySubscription(events)) != len(subs) {
			b.Fatal("groups lost")
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
