package lifecycle_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// checkHistoryOrder fails t when c's History is not in time order or Since
// is not the last transition's time.
func checkHistoryOrder(t *testing.T, c *lifecycle.Customer) {
	t.Helper()
	for i := 1; i < len(c.History); i++ {
		if c.History[i].At.Before(c.History[i-1].At) {
			t.Fatalf("%s: History[%d] (%s → %s) at %v is before History[%d] at %v", c.ID, i,
				c.History[i].From, c.History[i].To, c.History[i].At, i-1, c.History[i-1].At)
		}
	}
	if n := len(c.History); n > 0 && !c.Since.Equal(c.History[n-1].At) {
		t.Fatalf("%s: Since %v, the last transition at %v", c.ID, c.Since, c.History[n-1].At)
	}
}

// TestHistoryInTimeOrderCreditMovesEarlier: a referral credit's time moves
// earlier when an earlier order of the referred customer arrives late,
// which lowers the referrer's classification time; the move it causes is
// dated no earlier than the stage it leaves began, so the History stays in
// time order and the funnel finds no negative durations (found by a
// hostile-input audit: the move was dated 290 days before the one before
// it).
func TestHistoryInTimeOrderCreditMovesEarlier(t *testing.T) {
	ctx := context.Background()
	day := func(n int) time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	m, st := model.SterneCutler(), store.NewMemory()
	tr := lifecycle.NewTracker(m, st, lifecycle.WithClock(func() time.Time { return day(400) }))
	for _, e := range []lifecycle.Event{
		{ID: "b-o300", CustomerID: "B", Type: lifecycle.OrderCompleted, Time: day(300), ReferrerID: "R"},
		{ID: "r-v5", CustomerID: "R", Type: lifecycle.SiteVisited, Time: day(5)},
		{ID: "r-o6", CustomerID: "R", Type: lifecycle.OrderCompleted, Time: day(6)},
		{ID: "b-o10", CustomerID: "B", Type: lifecycle.OrderCompleted, Time: day(10)}, // R's credit: day 300 → 10
	} {
		if _, err := tr.Record(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	r, err := st.Get(ctx, "R")
	if err != nil {
		t.Fatal(err)
	}
	if r.Stage != model.Conversion || !r.ClassifiedAt().Equal(day(10)) {
		t.Fatalf("R: stage %s classified at %v; want conversion at day 10", r.Stage, r.ClassifiedAt())
	}
	checkHistoryOrder(t, r)
	if last := r.History[len(r.History)-1]; last.To != model.Conversion || !last.At.Equal(day(300)) {
		t.Fatalf("R's last move %s → %s at %v; want to conversion at day 300 (the stage it leaves began then)", last.From, last.To, last.At)
	}
	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), st)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range rep.Stages {
		for name, d := range map[string]funnel.Dist{"Stay": s.Stay, "ToNext": s.ToNext, "FromStart": s.FromStart} {
			if d.N > 0 && d.Min < 0 {
				t.Errorf("stage %s: %s has a negative minimum %v", s.Stage, name, d.Min)
			}
		}
	}
}

// TestHistoryInTimeOrder records random referral trees in random orders,
// one by one and in batches, with late early orders that move credits
// earlier, and checks every customer's History is in time order.
func TestHistoryInTimeOrder(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 7))
		var events []lifecycle.Event
		const customers = 8
		for c := range customers {
			id := fmt.Sprintf("c%d", c)
			ref := ""
			if c > 0 && r.IntN(3) > 0 {
				ref = fmt.Sprintf("c%d", r.IntN(c))
			}
			for k := range 1 + r.IntN(5) {
				e := lifecycle.Event{ID: fmt.Sprintf("%s-%d", id, k), CustomerID: id, Time: t0.Add(time.Duration(r.IntN(500*24)) * time.Hour)}
				switch r.IntN(3) {
				case 0:
					e.Type = lifecycle.SiteVisited
				case 1:
					e.Type, e.Amount, e.Currency = lifecycle.OrderCompleted, 1000, "EUR"
				default:
					e.Type = lifecycle.SignedUp
				}
				if k == 0 {
					e.ReferrerID = ref
				}
				events = append(events, e)
			}
		}
		r.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
		st := store.NewMemory()
		tr := lifecycle.NewTracker(model.SterneCutler(), st, lifecycle.WithClock(func() time.Time { return t0.AddDate(5, 0, 0) }))
		for i := 0; i < len(events); {
			n := 1 + r.IntN(3)*r.IntN(2) // mostly one at a time, some batches
			n = min(n, len(events)-i)
			if _, err := tr.RecordBatch(ctx, events[i:i+n]); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
			i += n
		}
		for c, err := range st.Scan(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			checkHistoryOrder(t, c)
		}
	}
}
