package rating_test

import (
	"fmt"
	"testing"

	"github.com/kontor-billing/kontor/dataset"
	"github.com/kontor-billing/kontor/rating"
)

// TestEventsBySubscription groups events by subscription, each group in the events'
// order, every event once.
func TestEventsBySubscription(t *testing.T) {
	tests := []struct {
		name   string
		events []string // subscription/event
		want   map[string]string
	}{
		{"none", nil, map[string]string{}},
		{"one subscription", []string{"S1/a", "S1/b"}, map[string]string{"S1": "[a b]"}},
		{"interleaved", []string{"S1/a", "S2/b", "S1/c", "S3/d", "S2/e", "S1/f"},
			map[string]string{"S1": "[a c f]", "S2": "[b e]", "S3": "[d]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var evs []dataset.UsageEvent
			for _, e := range tt.events {
				var sub, id string
				fmt.Sscanf(e, "%2s/%s", &sub, &id)
				evs = append(evs, dataset.UsageEvent{SubscriptionID: sub, ID: id})
			}
			got := rating.EventsBySubscription(evs)
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
				if fmt.Sprint(ids) != want {
					t.Errorf("%s: %v, want %s", sub, ids, want)
				}
				// A group may not grow into the next one's events.
				if g := got[sub]; cap(g) != len(g) {
					t.Errorf("%s: capacity %d beyond its %d events", sub, cap(g), len(g))
				}
			}
		})
	}
}
