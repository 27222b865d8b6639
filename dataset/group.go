package dataset

import "slices"

// GroupBySubscription groups usage events by subscription in place: it reorders events so
// that each subscription's are together (in no particular order) and returns them by
// subscription, each group a slice of events that cannot grow into the next. Events a
// loader delivers are grouped already (Load groups them), and then nothing moves.
func GroupBySubscription(events []UsageEvent) map[string][]UsageEvent {
	ids, starts := group(events)
	m := make(map[string][]UsageEvent, len(ids))
	for g, id := range ids {
		m[id] = events[starts[g]:starts[g+1]:starts[g+1]]
	}
	return m
}

// group reorders events so that each subscription's are together and returns the
// subscriptions in the order of their first event and where each one's events start
// (one more entry: the end). One map lookup per run of events of one subscription, then
// every event is swapped at most once into its group: a counting sort without a second
// array, so that a run's 10 million events are not held twice.
func group(events []UsageEvent) (ids []string, starts []int) {
	index := map[string]int32{}
	of := make([]int32, len(events))
	g := int32(-1)
	for i := range events {
		id := events[i].SubscriptionID
		if i == 0 || id != events[i-1].SubscriptionID { // equal IDs share one string: a pointer check
			var ok bool
			if g, ok = index[id]; !ok {
				g = int32(len(ids))
				index[id] = g
				ids = append(ids, id)
				starts = append(starts, 0)
			}
		}
		starts[g]++
		of[i] = g
	}
	starts = append(starts, 0)
	for g, pos := 0, 0; g < len(starts); g++ {
		pos, starts[g] = pos+starts[g], pos
	}
	// next[g] is the first place of group g not holding one of its events yet: the event
	// there is swapped to its own group's next place until one of g's lands there.
	next := slices.Clone(starts[:len(ids)])
	for g := range ids {
		for end := starts[g+1]; next[g] < end; {
			i := next[g]
			h := of[i]
			if int(h) == g {
				next[g]++
				continue
			}
			j := next[h]
			events[i], events[j] = events[j], events[i]
			of[i], of[j] = of[j], of[i]
			next[h]++
		}
	}
	return ids, starts
}
