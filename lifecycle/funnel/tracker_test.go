package funnel_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/lifecycle/funnel"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

// stream returns a seeded year of shop events for n customers, in time
// order: a visit, often a sign-up, and for some a run of orders.
func stream(n int, r *rand.Rand) []lifecycle.Event {
	var evs []lifecycle.Event
	for i := range n {
		id := fmt.Sprintf("c%04d", i)
		at := t0.Add(time.Duration(r.Int64N(300*24)) * time.Hour)
		add := func(typ lifecycle.EventType, amt int64) {
			e := lifecycle.Event{ID: fmt.Sprintf("%s-%d", id, len(evs)), CustomerID: id, Type: typ, Time: at}
			if amt > 0 {
				e.Amount, e.Currency = amt, "EUR"
			}
			evs = append(evs, e)
		}
		add(lifecycle.SiteVisited, 0)
		if r.Float64() < 0.6 {
			at = at.Add(time.Duration(r.Int64N(72)+1) * time.Hour)
			add(lifecycle.SignedUp, 0)
		}
		if r.Float64() < 0.5 {
			for k := 0; k < 8; k++ {
				at = at.Add(time.Duration(r.ExpFloat64()*40*24) * time.Hour)
				add(lifecycle.OrderCompleted, 1000+r.Int64N(9000))
				if r.Float64() < 0.35 {
					break
				}
			}
		}
	}
	slices.SortStableFunc(evs, func(a, b lifecycle.Event) int { return a.Time.Compare(b.Time) })
	return evs
}

func TestTrackerInvariants(t *testing.T) {
	ctx := context.Background()
	m := model.SterneCutler()
	g := m.Stages()
	s := store.NewMemory()
	evs := stream(400, rand.New(rand.NewPCG(6, 1)))
	end := evs[len(evs)-1].Time.Add(24 * time.Hour)
	// The model's Scheduler is hidden, so that the sweep at end reaches
	// every customer and the stored state is the state as of end.
	tr := lifecycle.NewTracker(struct{ lifecycle.Model }{m}, s, lifecycle.WithClock(func() time.Time { return end }))
	for _, e := range evs {
		_, err := tr.Record(ctx, e)
		require.NoError(t, err)
	}
	_, err := tr.Sweep(ctx, end)
	require.NoError(t, err)

	now, err := funnel.AnalyzeStore(ctx, g, s, funnel.CohortBy(funnel.FirstSeen(funnel.Month)))
	require.NoError(t, err)

	t.Run("counts per stage sum to customers", func(t *testing.T) {
		if now.Customers != s.Len() {
			t.Errorf("Customers = %d, store holds %d", now.Customers, s.Len())
		}
		sum, stopped := 0, 0
		for _, st := range now.Stages {
			sum += st.Current
			stopped += st.Stopped
			if st.Open.N != st.Current {
				t.Errorf("%s: %d open stays for %d current customers", st.Stage, st.Open.N, st.Current)
			}
		}
		if sum != now.Customers || stopped != now.Customers {
			t.Errorf("sum of Current = %d, of Stopped = %d, want %d", sum, stopped, now.Customers)
		}
	})
	t.Run("stored stages match a count by hand", func(t *testing.T) {
		want := map[stage.ID]int{}
		for c, err := range s.Scan(ctx) {
			require.NoError(t, err)
			want[c.Stage]++
		}
		for _, st := range now.Stages {
			if st.Current != want[st.Stage] {
				t.Errorf("%s: Current = %d, want %d", st.Stage, st.Current, want[st.Stage])
			}
		}
	})
	t.Run("conversion at most 1 and reached never grows", func(t *testing.T) {
		for i, st := range now.Stages {
			if st.Conversion < 0 || st.Conversion > 1 {
				t.Errorf("%s: conversion %v", st.Stage, st.Conversion)
			}
			if st.Entered > st.Reached || st.Current > st.Reached {
				t.Errorf("%s: entered %d / current %d above reached %d", st.Stage, st.Entered, st.Current, st.Reached)
			}
			if i > 0 && st.Reached > now.Stages[i-1].Reached {
				t.Errorf("%s: reached %d > previous %d", st.Stage, st.Reached, now.Stages[i-1].Reached)
			}
		}
		if now.Stages[g.Index(model.Retention)].Reached == 0 {
			t.Error("the stream never reached retention: the test data is too thin")
		}
	})
	t.Run("as of now equals the stored state", func(t *testing.T) {
		asOf, err := funnel.AnalyzeStore(ctx, g, s, funnel.AsOf(end), funnel.CohortBy(funnel.FirstSeen(funnel.Month)))
		require.NoError(t, err)
		if diff := gocmp.Diff(now.Funnel, asOf.Funnel); diff != "" {
			t.Errorf("(-stored +as of end):\n%s", diff)
		}
		if diff := gocmp.Diff(now.Cohorts, asOf.Cohorts); diff != "" {
			t.Errorf("cohorts (-stored +as of end):\n%s", diff)
		}
	})
	t.Run("as of before everything is empty", func(t *testing.T) {
		rep, err := funnel.AnalyzeStore(ctx, g, s, funnel.AsOf(evs[0].Time.Add(-time.Nanosecond)))
		require.NoError(t, err)
		if rep.Customers != 0 {
			t.Errorf("Customers = %d, want 0", rep.Customers)
		}
	})
	t.Run("as of a midpoint counts customers seen by then", func(t *testing.T) {
		mid := t0.Add(150 * 24 * time.Hour)
		seen := map[string]bool{}
		for _, e := range evs {
			if !e.Time.After(mid) {
				seen[e.CustomerID] = true
			}
		}
		rep, err := funnel.AnalyzeStore(ctx, g, s, funnel.AsOf(mid))
		require.NoError(t, err)
		if rep.Customers != len(seen) {
			t.Errorf("Customers = %d, want %d", rep.Customers, len(seen))
		}
	})
	t.Run("cohorts partition the total", func(t *testing.T) {
		n, reached := 0, make([]int, g.Len())
		for _, c := range now.Cohorts {
			n += c.Customers
			for i, st := range c.Stages {
				reached[i] += st.Reached
			}
		}
		if n != now.Customers {
			t.Errorf("cohorts hold %d customers, total %d", n, now.Customers)
		}
		for i, st := range now.Stages {
			if reached[i] != st.Reached {
				t.Errorf("%s: cohorts reached %d, total %d", st.Stage, reached[i], st.Reached)
			}
		}
	})
	t.Run("segment IDs match the stage count", func(t *testing.T) {
		n := 0
		for _, err := range funnel.InStage(model.Retention).IDs(ctx, s) {
			require.NoError(t, err)
			n++
		}
		if want := now.Stages[g.Index(model.Retention)].Current; n != want {
			t.Errorf("segment has %d IDs, stage count is %d", n, want)
		}
	})
	t.Run("stored retention agrees with the order list", func(t *testing.T) {
		exact, err := funnel.Retention(funnel.OrdersFrom(evs), funnel.Month, funnel.Until(end))
		require.NoError(t, err)
		fromStore, err := funnel.StoredRetention(ctx, g, model.Retention, s.Scan(ctx), funnel.Month, funnel.Until(end))
		require.NoError(t, err)
		type row struct {
			Key                string
			Customers          int
			Repeated, Retained []int
			TotalRevenue       int64
		}
		rows := func(t *funnel.RetentionTable) []row {
			var out []row
			for _, c := range t.Cohorts {
				out = append(out, row{c.Key, c.Customers, c.Repeated, c.Retained, c.TotalRevenue})
			}
			return out
		}
		if len(exact.Cohorts) < 3 {
			t.Fatalf("only %d cohorts: the test data is too thin", len(exact.Cohorts))
		}
		if diff := gocmp.Diff(rows(exact), rows(fromStore)); diff != "" {
			t.Errorf("(-orders +stored):\n%s", diff)
		}
		for _, c := range exact.Cohorts {
			var sum int64
			for k, a := range c.Active {
				sum += c.Revenue[k]
				if a > c.Retained[k] || c.Repeated[k] > c.Customers {
					t.Errorf("%s k=%d: active %d retained %d repeated %d of %d", c.Key, k, a, c.Retained[k], c.Repeated[k], c.Customers)
				}
			}
			if sum != c.TotalRevenue {
				t.Errorf("%s: revenue by period sums to %d, total %d", c.Key, sum, c.TotalRevenue)
			}
		}
	})
}

// TestPendingReferrersLeftOut checks that a pending referrer (referral
// credits, no event of its own: a mistyped referrer ID, say) is not
// counted as a customer anywhere (issue 16): not in the funnel's totals
// and stage counts, its cohorts, segments, stored retention or, through
// the store helpers, model comparisons. A record an earlier version
// stored for one, with a stage and a history, is left out too.
func TestPendingReferrersLeftOut(t *testing.T) {
	ctx := context.Background()
	m := model.SterneCutler()
	s := store.NewMemory()
	tr := lifecycle.NewTracker(m, s, lifecycle.WithClock(func() time.Time { return t0.AddDate(1, 0, 0) }))
	signup := lifecycle.Event{ID: "s", CustomerID: "b", Type: lifecycle.SignedUp, Time: t0, ReferrerID: "mistyped"}
	for _, e := range []lifecycle.Event{
		signup,
		{ID: "o1", CustomerID: "b", Type: lifecycle.OrderCompleted, Time: t0.Add(time.Hour), Amount: 100, Currency: "EUR"},
	} {
		_, err := tr.Record(ctx, e)
		require.NoError(t, err)
	}
	old := &lifecycle.Customer{ID: "old-ghost", Stage: model.Reach, Since: t0, AsOf: t0.AddDate(0, 6, 0), Version: 1,
		History: []lifecycle.Transition{{To: model.Reach, At: t0, Cause: lifecycle.ReferralEventID("x")}},
		Facts:   lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "x", At: t0}}}}
	require.NoError(t, s.Put(ctx, old, 0))
	require.Equal(t, 3, s.Len(), "b, the pending referrer and the old record are stored")

	month, err := funnel.Every(30*24*time.Hour, t0)
	require.NoError(t, err)
	rep, err := funnel.AnalyzeStore(ctx, m.Stages(), s, funnel.CohortBy(funnel.FirstSeen(month)))
	require.NoError(t, err)
	require.Equal(t, 1, rep.Customers)
	current := 0
	for _, st := range rep.Stages {
		current += st.Current
	}
	require.Equal(t, 1, current, "stage counts")
	require.Len(t, rep.Cohorts, 1)
	require.Equal(t, 1, rep.Cohorts[0].Customers)
	withAsOf, err := funnel.AnalyzeStore(ctx, m.Stages(), s, funnel.AsOf(t0.AddDate(0, 1, 0)))
	require.NoError(t, err)
	require.Equal(t, 1, withAsOf.Customers)

	var ids []string
	for id, err := range funnel.Not(funnel.InStage(model.Loyalty)).IDs(ctx, s) {
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.Equal(t, []string{"b"}, ids)

	ret, err := funnel.StoredRetention(ctx, m.Stages(), model.Retention, lifecycle.Browse(ctx, s), month)
	require.NoError(t, err)
	require.Equal(t, t0.Add(time.Hour), ret.Until, "the old record's AsOf does not extend the table")

	rows, err := model.ClassifyCustomers(slices.Collect(func(yield func(*lifecycle.Customer) bool) {
		for c, err := range s.Scan(ctx) {
			require.NoError(t, err)
			if !yield(c) {
				return
			}
		}
	}), []lifecycle.Model{m})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, "b", rows[0].CustomerID)
	corr, err := model.Correspond(ctx, s, m, model.FiveStage())
	require.NoError(t, err)
	require.Equal(t, 1, corr.Total)
}
