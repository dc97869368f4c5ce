package shopsim_test

import (
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/shopsim"
)

// TestGenerateLongPeriods: any Days up to MaxDays is a valid period (40,000
// days panicked: the first visit's draw overflowed).
func TestGenerateLongPeriods(t *testing.T) {
	for _, days := range []int{40_000, shopsim.MaxDays} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("Generate(Config{Customers: 5, Days: %d}) panicked: %v", days, r)
				}
			}()
			ev := shopsim.Generate(shopsim.Config{Customers: 5, Days: days, Seed: 1})
			if len(ev) == 0 {
				t.Errorf("Days %d: no events", days)
			}
		}()
	}
}

// TestGenerateSmallAlphaHeavierTail: a smaller SessionsAlpha, a heavier
// tail, does not give fewer sessions (draws too large for an int came out
// as one session).
func TestGenerateSmallAlphaHeavierTail(t *testing.T) {
	visits := func(alpha float64) int {
		n := 0
		for _, e := range shopsim.Generate(shopsim.Config{Customers: 200, Days: 3650, Seed: 7, SessionsAlpha: alpha, MaxSessions: 40}) {
			if e.Type == lifecycle.SiteVisited {
				n++
			}
		}
		return n
	}
	heavy, light := visits(0.01), visits(0.1)
	if heavy < light {
		t.Errorf("SessionsAlpha 0.01 gives %d visits, SessionsAlpha 0.1 gives %d: the heavier tail has fewer sessions", heavy, light)
	}
}

// TestGenerateMaxDaysFirstVisitsSpread: with Days = MaxDays (about 273
// years) first visits spread over the first three quarters of the period
// (an overflow confined them to the first ~59 years).
func TestGenerateMaxDaysFirstVisitsSpread(t *testing.T) {
	cfg := shopsim.Config{Customers: 300, Days: shopsim.MaxDays, Seed: 1, MaxSessions: 1}
	ev := shopsim.Generate(cfg)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var latest time.Time
	for _, e := range ev {
		if e.Type == lifecycle.SiteVisited && e.Time.After(latest) {
			latest = e.Time
		}
	}
	if yrs := latest.Sub(start).Hours() / 24 / 365.25; yrs < 150 {
		t.Errorf("Days=MaxDays: latest first visit %.0f years after Start, want spread over ~205 years", yrs)
	}
}

// TestStreamCoversPeriod: the stream reaches the end of its period (the
// overshoot of the last round was cut by time, leaving the default
// stream's last ~47 days empty), and no event falls after it.
func TestStreamCoversPeriod(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 365)
	ev := shopsim.Stream(shopsim.StreamConfig{})
	last := ev[len(ev)-1].Time
	if gap := end.Sub(last); gap > 5*24*time.Hour {
		t.Errorf("Stream(default): last of %d events at %v, %.1f days before the end of the 365-day period", len(ev), last, gap.Hours()/24)
	}
	for _, days := range []int{1, 3} {
		ev := shopsim.Stream(shopsim.StreamConfig{Events: 2000, Days: days, Seed: 2})
		end := start.AddDate(0, 0, days)
		if len(ev) != 2000 {
			t.Fatalf("Days %d: %d events, want 2000", days, len(ev))
		}
		for _, e := range ev {
			if e.Time.After(end) {
				t.Fatalf("Days %d: event %s at %v, after the period's end %v", days, e.ID, e.Time, end)
			}
		}
	}
}
