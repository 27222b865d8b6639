package calendar

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestDaysAgreesWithOf converts instants around the year, across summer time changes,
// before 1970 and in zones with half-hour and 45-minute offsets, with Days and with Of.
func TestDaysAgreesWithOf(t *testing.T) {
	zones := []string{"Europe/Berlin", "America/New_York", "UTC", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham", "America/Sao_Paulo"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, name := range zones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			days := NewDays(loc)
			var instants []time.Time
			// Every 15 minutes around the 2026 changes of Berlin and New York (Mar, Oct/Nov)...
			for _, from := range []string{"2026-03-07T00:00:00Z", "2026-03-27T00:00:00Z", "2026-10-23T00:00:00Z", "2026-10-31T00:00:00Z", "2026-04-03T00:00:00Z"} {
				start, _ := time.Parse(time.RFC3339, from)
				for i := range 4 * 24 * 4 {
					instants = append(instants, start.Add(time.Duration(i)*15*time.Minute))
				}
			}
			// ... and at random from 1950 to 2060, in a random order.
			for range 20000 {
				instants = append(instants, time.Unix(rng.Int64N(110*365*86400)-20*365*86400, 0))
			}
			rng.Shuffle(len(instants), func(i, j int) { instants[i], instants[j] = instants[j], instants[i] })
			for _, in := range instants {
				if got, want := days.Of(in), Of(in, loc); got != want {
					t.Fatalf("%s in %s: Days says %s, Of %s", in.UTC().Format(time.RFC3339), name, got, want)
				}
			}
		})
	}
}

func BenchmarkDays(b *testing.B) {
	loc, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 10, 1, 0, 0, 0, 0, loc)
	var instants []time.Time
	for i := range 1024 {
		instants = append(instants, start.Add(time.Duration(i*2597)*time.Second))
	}
	b.Run("Of", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			Of(instants[i%1024], loc)
		}
	})
	b.Run("Days", func(b *testing.B) {
		days := NewDays(loc)
		for i := 0; b.Loop(); i++ {
			days.Of(instants[i%1024])
		}
	})
}
