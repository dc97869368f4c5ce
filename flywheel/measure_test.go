package flywheel_test

import (
	"context"
	"errors"
	"iter"
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/stage"
	"github.com/clmkit/clm/store"
)

func TestMeasure(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	const week = 7 * day
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return t0.Add(365 * day) }))
	e := func(cust, id string, typ lifecycle.EventType, at time.Duration, referrer string) {
		t.Helper()
		ev := lifecycle.Event{ID: id, CustomerID: cust, Type: typ, Time: t0.Add(at), ReferrerID: referrer}
		if typ == lifecycle.OrderCompleted {
			ev.Amount, ev.Currency = 2500, "EUR"
		}
		_, err := tr.Record(ctx, ev)
		require.NoError(t, err)
	}
	// Before the first rotation: ann becomes a customer.
	e("ann", "a1", lifecycle.OrderCompleted, -day, "")
	// Rotation 1 (week 0): paid prospects bob and cid; bob buys twice and
	// reviews (advocate); ann orders again (retain).
	e("bob", "b1", lifecycle.SiteVisited, day, "")
	e("bob", "b2", lifecycle.SignedUp, 2*day, "")
	e("bob", "b3", lifecycle.OrderCompleted, 3*day, "")
	e("bob", "b4", lifecycle.OrderCompleted, 4*day, "")
	e("bob", "b5", lifecycle.ReviewPosted, 5*day, "")
	e("cid", "c1", lifecycle.SiteVisited, 2*day, "")
	e("ann", "a2", lifecycle.OrderCompleted, 3*day, "")
	// Rotation 2: bob refers dee and eve; dee signs up and orders (bob is
	// credited); fay arrives paid and goes straight to an order.
	e("dee", "d1", lifecycle.SiteVisited, week+day, "bob")
	e("dee", "d2", lifecycle.SignedUp, week+2*day, "")
	e("dee", "d3", lifecycle.OrderCompleted, week+3*day, "")
	e("eve", "e1", lifecycle.SiteVisited, week+day, "bob")
	e("fay", "f1", lifecycle.OrderCompleted, week+4*day, "")
	// Rotation 3: nothing.

	m, err := flywheel.Measure(ctx, st, t0, week, 3, flywheel.WithSpend(100, 50))
	require.NoError(t, err)
	require.Equal(t, 6, m.Customers)
	nan := math.NaN()
	want := []flywheel.RotationMeasure{
		{
			N: 1, Start: t0, End: t0.Add(week),
			Prospects: 2, ReferredProspects: 0, NewCustomers: 1, ReferredCustomers: 0,
			// ann had already reached nurture; bob reaches every stage, cid engage.
			Reached: []int{2, 1, 1, 2, 1},
			InStage: []int{1, 0, 0, 1, 1},
			// ann in nurture then retain; bob in every stage; cid engage.
			Exposed:       []int{2, 1, 2, 2, 1},
			HandedOn:      []int{1, 1, 2, 1, 0},
			Connected:     []float64{0.5, 1, 1, 0.5, 0},
			ReferredShare: 0, Spend: 100, AcquisitionCost: 100,
		},
		{
			N: 2, Start: t0.Add(week), End: t0.Add(2 * week),
			Prospects: 3, ReferredProspects: 2, NewCustomers: 2, ReferredCustomers: 1,
			Reached: []int{3, 2, 2, 0, 0},
			// bob stays advocate (a converted referral now), dee nurtured, fay
			// nurtured, eve engaged, ann retained, cid engaged. fay's first
			// event is an order: she enters at nurture, never in engage.
			InStage:       []int{2, 0, 2, 1, 1},
			Exposed:       []int{3, 1, 2, 1, 1},
			HandedOn:      []int{1, 1, 0, 0, 0},
			Connected:     []float64{1.0 / 3, 1, 0, 0, 2},
			ReferredShare: 2.0 / 3, Spend: 50, AcquisitionCost: 25,
		},
		{
			N: 3, Start: t0.Add(2 * week), End: t0.Add(3 * week),
			Reached:       []int{0, 0, 0, 0, 0},
			InStage:       []int{2, 0, 2, 1, 1},
			Exposed:       []int{2, 0, 2, 1, 1},
			HandedOn:      []int{0, 0, 0, 0, 0},
			Connected:     []float64{0, nan, 0, 0, 0},
			ReferredShare: nan, Spend: nan, AcquisitionCost: nan,
		},
	}
	if diff := cmp.Diff(want, m.Rotations, cmpopts.EquateNaNs()); diff != "" {
		t.Errorf("rotations (-want +got):\n%s", diff)
	}
	require.InDelta(t, 2.0/3, m.ReferredShareTrend, 1e-12)
	require.InDelta(t, -75, m.AcquisitionCostTrend, 1e-12)
}

func TestMeasureErrors(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tests := []struct {
		name string
		call func() error
	}{
		{"zero rotation length", func() error { _, err := flywheel.Measure(ctx, st, t0, 0, 3); return err }},
		{"no rotations", func() error { _, err := flywheel.Measure(ctx, st, t0, day, 0); return err }},
		{"negative spend", func() error { _, err := flywheel.Measure(ctx, st, t0, day, 3, flywheel.WithSpend(1, -2)); return err }},
		{"NaN spend", func() error {
			_, err := flywheel.Measure(ctx, st, t0, day, 3, flywheel.WithSpend(math.NaN()))
			return err
		}},
		{"nil graph", func() error { _, err := flywheel.Measure(ctx, st, t0, day, 3, flywheel.WithGraph(nil)); return err }},
		{"nil store", func() error { _, err := flywheel.Measure(ctx, nil, t0, day, 3); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.ErrorIs(t, tc.call(), flywheel.ErrInvalidParams)
		})
	}
	boom := errors.New("disk on fire")
	_, err := flywheel.Measure(ctx, failingStore{boom}, t0, day, 3)
	require.ErrorIs(t, err, boom)
}

type failingStore struct{ err error }

func (f failingStore) Get(context.Context, string) (*lifecycle.Customer, error) { return nil, f.err }
func (f failingStore) Put(context.Context, *lifecycle.Customer, uint64) error   { return f.err }
func (f failingStore) Scan(context.Context) iter.Seq2[*lifecycle.Customer, error] {
	return func(yield func(*lifecycle.Customer, error) bool) { yield(nil, f.err) }
}

// Rotations more than 292 years (the range of a time.Duration) after the
// start still start at start + r·every, and customers are counted in them.
func TestMeasureLongRange(t *testing.T) {
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const every = 30 * day
	at := func(r int) time.Time { // start + r·every, one rotation at a time
		t := start
		for range r {
			t = t.Add(every)
		}
		return t
	}
	st := store.NewMemory()
	late := at(5000).Add(day) // in rotation 5001, in the year 2436
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return late.Add(day) }))
	for _, e := range []lifecycle.Event{
		{ID: "v1", CustomerID: "early", Type: lifecycle.SiteVisited, Time: start.Add(day)},
		{ID: "v2", CustomerID: "late", Type: lifecycle.SiteVisited, Time: late},
	} {
		_, err := tr.Record(ctx, e)
		require.NoError(t, err)
	}
	m, err := flywheel.Measure(ctx, st, start, every, 6000)
	require.NoError(t, err)
	for _, r := range []int{0, 1, 3000, 5000, 5999} {
		require.True(t, m.Rotations[r].Start.Equal(at(r)), "rotation %d starts %v, want %v", r+1, m.Rotations[r].Start, at(r))
		require.True(t, m.Rotations[r].End.Equal(at(r+1)), "rotation %d ends %v", r+1, m.Rotations[r].End)
	}
	var prospects []int
	for _, rm := range m.Rotations {
		if rm.Prospects > 0 {
			prospects = append(prospects, rm.N)
		}
	}
	require.Equal(t, []int{1, 5001}, prospects)
	require.Equal(t, []int{1, 2}, []int{m.Rotations[4999].InStage[0], m.Rotations[5000].InStage[0]}, "the late customer engages in rotation 5001")
}

// TestMeasurePendingReferrers checks that a pending referrer (referral
// credits, no event of its own) is not measured as a customer (issue 16),
// nor is a record an earlier version stored for one, with a history.
func TestMeasurePendingReferrers(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return t0.Add(365 * day) }))
	for _, ev := range []lifecycle.Event{
		{ID: "d1", CustomerID: "dee", Type: lifecycle.SiteVisited, Time: t0.Add(day), ReferrerID: "nobody"},
		{ID: "d2", CustomerID: "dee", Type: lifecycle.OrderCompleted, Time: t0.Add(2 * day), Amount: 2500, Currency: "EUR"},
	} {
		_, err := tr.Record(ctx, ev)
		require.NoError(t, err)
	}
	old := &lifecycle.Customer{ID: "old-ghost", Stage: flywheel.Engage, Since: t0.Add(day), Version: 1,
		History: []lifecycle.Transition{{To: flywheel.Engage, At: t0.Add(day), Cause: lifecycle.ReferralEventID("x")}},
		Facts:   lifecycle.Facts{Referrals: []lifecycle.Referral{{Customer: "x", At: t0.Add(day)}}}}
	require.NoError(t, st.Put(ctx, old, 0))
	m, err := flywheel.Measure(ctx, st, t0, 7*day, 1)
	require.NoError(t, err)
	require.Equal(t, 1, m.Customers)
	in := 0
	for _, n := range m.Rotations[0].InStage {
		in += n
	}
	require.Equal(t, 1, in, "customers in a stage at the end of the rotation")
	require.Equal(t, 1, m.Rotations[0].Reached[0], "customers who reached engage")
}

// Reaching follows the path stages: a customer who falls to a decline
// placed after buy in the list has not reached advocate, and a recovery
// from it hands the customer on.
func TestMeasureStageKinds(t *testing.T) {
	ctx := context.Background()
	g, err := stage.New([]stage.Stage{{ID: "engage"}, {ID: "buy"}, {ID: "at-risk", Kind: stage.Decline}, {ID: "advocate"}}, []stage.Edge{
		{From: "engage", To: "buy", Kind: stage.Advance},
		{From: "buy", To: "at-risk", Kind: stage.Fall},
		{From: "at-risk", To: "buy", Kind: stage.Recover},
		{From: "buy", To: "advocate", Kind: stage.Advance},
	})
	require.NoError(t, err)
	st := store.NewMemory()
	put := func(id string, steps ...any) {
		c := &lifecycle.Customer{ID: id, Version: 1}
		var prev stage.ID
		for i := 0; i < len(steps); i += 2 {
			to, at := stage.ID(steps[i].(string)), t0.Add(time.Duration(steps[i+1].(int))*day)
			c.History = append(c.History, lifecycle.Transition{From: prev, To: to, At: at})
			c.Stage, c.Since, c.AsOf, prev = to, at, at, to
		}
		c.Facts.Add(&lifecycle.Event{ID: id, CustomerID: id, Type: lifecycle.SiteVisited, Time: t0})
		require.NoError(t, st.Put(ctx, c, 0))
	}
	put("a", "engage", 0, "buy", 1, "at-risk", 2)           // falls: reaches engage and buy only
	put("b", "engage", 0, "buy", 1, "at-risk", 2, "buy", 3) // recovers: handed on from at-risk
	put("c", "engage", 0, "buy", 1, "advocate", 4)          // reaches advocate
	m, err := flywheel.Measure(ctx, st, t0, 7*day, 1, flywheel.WithGraph(g))
	require.NoError(t, err)
	r := m.Rotations[0]
	require.Equal(t, []int{3, 3, 2, 1}, r.Reached, "engage, buy, at-risk, advocate")
	require.Equal(t, []int{3, 3, 2, 1}, r.Exposed)
	require.Equal(t, []int{3, 1, 1, 0}, r.HandedOn, "buy hands on to advocate only; at-risk hands b back to buy")
}
