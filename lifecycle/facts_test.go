package lifecycle_test

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/clmkit/clm/lifecycle"
)

func TestFacts(t *testing.T) {
	ev := func(id string, typ lifecycle.EventType, h int, amt int64, cur string) lifecycle.Event {
		return lifecycle.Event{ID: id, CustomerID: "c", Type: typ, Time: t0.Add(time.Duration(h) * time.Hour), Amount: amt, Currency: cur}
	}
	survey := func(id string, h int, score string) lifecycle.Event {
		e := ev(id, lifecycle.SurveyAnswered, h, 0, "")
		e.Attrs = map[string]string{"score": score}
		return e
	}
	referred := func(id string, h int, by string) lifecycle.Event {
		e := ev(id, lifecycle.SiteVisited, h, 0, "")
		e.ReferrerID = by
		return e
	}
	type want struct {
		Events, Orders, VisitCount int64
		RevenueEUR, RevenueUSD     int64
		RefundsEUR                 int64
		Currencies                 []string
		First, Last                time.Time
		OrderFirst, OrderLast      time.Time
		Score                      int
		HasScore                   bool
		ReferredBy                 string
		TallyOK                    bool
	}
	tests := []struct {
		name   string
		events []lifecycle.Event
		want   want
	}{
		{"empty", nil, want{}},
		{"orders and refunds in two currencies", []lifecycle.Event{
			ev("v1", lifecycle.SiteVisited, 0, 0, ""),
			ev("o1", lifecycle.OrderCompleted, 2, 5000, "EUR"),
			ev("o2", lifecycle.OrderCompleted, 1, 3000, "USD"),
			ev("r1", lifecycle.OrderRefunded, 3, 1000, "EUR"),
			ev("s1", lifecycle.SubscriptionRenewed, 4, 700, "EUR"),
		}, want{Events: 5, Orders: 1, VisitCount: 1, RevenueEUR: 5000 + 700 - 1000, RevenueUSD: 3000, RefundsEUR: 1000,
			Currencies: []string{"EUR", "USD"}, First: t0, Last: t0.Add(4 * time.Hour),
			OrderFirst: t0.Add(time.Hour), OrderLast: t0.Add(2 * time.Hour), TallyOK: true}},
		{"more refunds than orders", []lifecycle.Event{
			ev("o1", lifecycle.OrderCompleted, 1, 100, "EUR"),
			ev("r1", lifecycle.OrderRefunded, 2, 100, "EUR"),
			ev("r2", lifecycle.OrderRefunded, 3, 0, ""),
		}, want{Events: 3, Orders: 0, Currencies: []string{"EUR"}, RefundsEUR: 100, First: t0.Add(time.Hour), Last: t0.Add(3 * time.Hour),
			OrderFirst: t0.Add(time.Hour), OrderLast: t0.Add(time.Hour)}},
		{"latest score wins, ties to the higher", []lifecycle.Event{
			survey("a", 5, "3"), survey("b", 1, "10"), survey("c", 5, "7"),
		}, want{Events: 3, Score: 7, HasScore: true, First: t0.Add(time.Hour), Last: t0.Add(5 * time.Hour)}},
		{"score zero counts as answered", []lifecycle.Event{survey("a", 1, "0")},
			want{Events: 1, Score: 0, HasScore: true, First: t0.Add(time.Hour), Last: t0.Add(time.Hour)}},
		{"earliest referrer wins, ties to the smaller ID", []lifecycle.Event{
			referred("a", 3, "zed"), referred("b", 1, "bob"), referred("c", 1, "ann"),
		}, want{Events: 3, VisitCount: 3, ReferredBy: "ann", First: t0.Add(time.Hour), Last: t0.Add(3 * time.Hour)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][]int{forward(len(tc.events)), backward(len(tc.events))} {
				var f lifecycle.Facts
				for _, i := range order {
					f.Add(&tc.events[i])
				}
				score, has := f.LastScore()
				tl, ok := f.Tally(lifecycle.OrderCompleted)
				got := want{
					Events: f.Events(), Orders: f.Orders(), VisitCount: f.Count(lifecycle.SiteVisited),
					RevenueEUR: f.Revenue("EUR"), RevenueUSD: f.Revenue("USD"), RefundsEUR: f.Amount(lifecycle.OrderRefunded, "EUR"),
					Currencies: f.Currencies(), First: f.First, Last: f.Last,
					OrderFirst: f.FirstTime(lifecycle.OrderCompleted), OrderLast: f.LastTime(lifecycle.OrderCompleted),
					Score: score, HasScore: has, ReferredBy: f.ReferredBy,
					TallyOK: ok && tl.Count == 2,
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("order %v (-want +got):\n%s", order, diff)
				}
				// Tallies and sums stay sorted.
				for i := 1; i < len(f.Tallies); i++ {
					if f.Tallies[i-1].Type >= f.Tallies[i].Type {
						t.Errorf("tallies not sorted: %v", f.Tallies)
					}
				}
				for i := 1; i < len(f.Sums); i++ {
					a, b := f.Sums[i-1], f.Sums[i]
					if a.Type > b.Type || (a.Type == b.Type && a.Currency >= b.Currency) {
						t.Errorf("sums not sorted: %v", f.Sums)
					}
				}
			}
		})
	}
}

func forward(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func backward(n int) []int {
	out := forward(n)
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func TestFactsTimesAreUTC(t *testing.T) {
	var f lifecycle.Facts
	e := lifecycle.Event{ID: "a", CustomerID: "c", Type: lifecycle.SiteVisited, Time: t0.In(time.FixedZone("X", 3600))}
	f.Add(&e)
	if f.First.Location() != time.UTC || f.Tallies[0].Last.Location() != time.UTC {
		t.Fatalf("times not in UTC: %v %v", f.First, f.Tallies[0].Last)
	}
}

// Counts saturate at math.MaxInt64 as amounts do, and so does Events (a
// count read from a store near the limit wrapped negative; found by an
// audit).
func TestCountsSaturate(t *testing.T) {
	var f lifecycle.Facts
	if err := json.Unmarshal([]byte(`{"tallies":[{"type":"order_completed","count":9223372036854775807,"first":"2026-01-01T00:00:00Z","last":"2026-01-01T00:00:00Z"},{"type":"site_visited","count":4611686018427387904,"first":"2026-01-01T00:00:00Z","last":"2026-01-01T00:00:00Z"}]}`), &f); err != nil {
		t.Fatal(err)
	}
	e := lifecycle.Event{ID: "o", CustomerID: "c", Type: lifecycle.OrderCompleted, Time: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	f.Add(&e)
	if got := f.Count(lifecycle.OrderCompleted); got != math.MaxInt64 {
		t.Errorf("Count after one more order = %d; want MaxInt64", got)
	}
	if got := f.Events(); got != math.MaxInt64 {
		t.Errorf("Events = %d; want MaxInt64", got)
	}
}
