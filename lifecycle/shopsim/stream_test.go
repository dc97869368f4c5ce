package shopsim

import (
	"slices"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/google/go-cmp/cmp"
)

func TestStream(t *testing.T) {
	tests := []struct {
		name string
		cfg  StreamConfig
	}{
		{"default", StreamConfig{Seed: 1}},
		{"few customers", StreamConfig{Events: 5000, Customers: 10, Seed: 2}},
		{"one customer", StreamConfig{Events: 300, Customers: 1, Seed: 3}},
		{"many customers", StreamConfig{Events: 20000, Customers: 50000, Seed: 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := Stream(tc.cfg)
			want := tc.cfg.Events
			if want == 0 {
				want = 10000
			}
			if len(a) != want {
				t.Fatalf("len = %d, want %d", len(a), want)
			}
			if b := Stream(tc.cfg); !cmp.Equal(a, b) {
				t.Fatal("same config, different streams")
			}
			ids := make(map[string]bool, len(a))
			perCust := map[string]int{}
			types := map[lifecycle.EventType]int{}
			for i := range a {
				e := &a[i]
				if err := e.Validate(); err != nil {
					t.Fatalf("event %d invalid: %v", i, err)
				}
				if ids[e.ID] {
					t.Fatalf("duplicate event ID %q", e.ID)
				}
				ids[e.ID] = true
				perCust[e.CustomerID]++
				types[e.Type]++
				if i > 0 && e.Time.Before(a[i-1].Time) {
					t.Fatalf("event %d out of time order", i)
				}
			}
			if len(perCust) >= 100 {
				counts := make([]int, 0, len(perCust))
				for _, n := range perCust {
					counts = append(counts, n)
				}
				slices.Sort(counts)
				top, median := counts[len(counts)-1], counts[len(counts)/2]
				if top < 20*median {
					t.Errorf("busiest customer has %d events, median %d: not a heavy-tailed population", top, median)
				}
			}
			if want >= 5000 {
				for _, typ := range []lifecycle.EventType{lifecycle.SiteVisited, lifecycle.ProductViewed, lifecycle.CartAdded, lifecycle.OrderCompleted, lifecycle.OrderRefunded, lifecycle.TicketOpened, lifecycle.SurveyAnswered, lifecycle.ReviewPosted} {
					if types[typ] == 0 {
						t.Errorf("no %s events: %v", typ, types)
					}
				}
			}
		})
	}
	if cmp.Equal(Stream(StreamConfig{Events: 500, Seed: 1}), Stream(StreamConfig{Events: 500, Seed: 2})) {
		t.Error("different seeds gave the same stream")
	}
}

func TestStreamReferrals(t *testing.T) {
	a := Stream(StreamConfig{Events: 20000, Customers: 2000, Seed: 5})
	refs := 0
	for _, e := range a {
		if e.ReferrerID != "" {
			refs++
			if e.Type != lifecycle.SiteVisited {
				t.Fatalf("referrer on a %s event", e.Type)
			}
		}
	}
	if refs == 0 {
		t.Fatal("no referred customers")
	}
	for _, e := range Stream(StreamConfig{Events: 20000, Customers: 2000, Seed: 5, NoReferrals: true}) {
		if e.ReferrerID != "" {
			t.Fatalf("NoReferrals: event %s names referrer %q", e.ID, e.ReferrerID)
		}
	}
}

// Start is the first possible event time: ad impressions, which precede a
// customer's first visit, must not fall before it.
func TestNoEventBeforeStart(t *testing.T) {
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for seed := uint64(1); seed <= 3; seed++ {
		for _, e := range Stream(StreamConfig{Events: 20000, Customers: 2000, Seed: seed}) {
			if e.Time.Before(start) {
				t.Fatalf("Stream seed %d: event %s (%s) at %s, before Start %s", seed, e.ID, e.Type, e.Time, start)
			}
		}
		gstart := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, e := range Generate(Config{Customers: 2000, Seed: seed}) {
			if e.Time.Before(gstart) {
				t.Fatalf("Generate seed %d: event %s (%s) at %s, before Start %s", seed, e.ID, e.Type, e.Time, gstart)
			}
		}
	}
}
