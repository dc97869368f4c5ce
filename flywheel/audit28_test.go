package flywheel_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/internal/svgplot/svgcheck"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/store"
)

var fjStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// A referred customer who only subscribes (no order) credits nobody: the
// flywheel converts with an order alone (it credited the referrer, who
// became an advocate).
func TestSubscriptionAloneCreditsNobody(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return fjStart.AddDate(1, 0, 0) }))
	for _, e := range []lifecycle.Event{
		{ID: "v1", CustomerID: "ann", Type: lifecycle.SiteVisited, Time: fjStart.Add(1 * time.Hour)},
		{ID: "o1", CustomerID: "ann", Type: lifecycle.OrderCompleted, Time: fjStart.Add(2 * time.Hour), Amount: 4000, Currency: "EUR"},
		{ID: "v2", CustomerID: "cat", Type: lifecycle.SiteVisited, Time: fjStart.Add(3 * time.Hour), ReferrerID: "ann"},
		{ID: "s2", CustomerID: "cat", Type: lifecycle.SubscriptionStarted, Time: fjStart.Add(4 * time.Hour), Amount: 999, Currency: "EUR"},
	} {
		_, err := tr.Record(ctx, e)
		require.NoError(t, err)
	}
	ann, err := st.Get(ctx, "ann")
	require.NoError(t, err)
	m, err := flywheel.Measure(ctx, st, fjStart, 30*24*time.Hour, 1)
	require.NoError(t, err)
	require.Equal(t, int64(m.Rotations[0].ReferredCustomers), ann.Facts.Count(lifecycle.ReferralConverted),
		"ReferredCustomers: 'each is one referral credit the Tracker gave'")
	require.Equal(t, flywheel.Nurture, ann.Stage, "cat placed no order: no converted referral, ann is not an advocate")
}

// Agent, MonteCarlo and Sweep refuse a nil context with ErrNilContext
// (they panicked; MonteCarlo in a worker, which ended the program).
func TestNilContextRefused(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	var nilCtx context.Context
	noPanic := func(name string, f func() error) {
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s(nil ctx) panicked: %v", name, r)
			}
		}()
		require.ErrorIs(t, f(), lifecycle.ErrNilContext, name)
	}
	noPanic("Agent", func() error { _, err := flywheel.Agent(nilCtx, p); return err })
	noPanic("MonteCarlo", func() error { _, err := flywheel.MonteCarlo(nilCtx, p, flywheel.Runs(4)); return err })
	noPanic("Sweep", func() error {
		_, err := flywheel.Sweep(nilCtx, p, []flywheel.Outcome{flywheel.CustomersAfter(1)},
			[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1}}})
		return err
	})
}

// Sweep refuses outcome names that would repeat a CSV column (an axis's
// parameter, another's name_se in Monte Carlo mode): WriteCSV wrote
// duplicate columns.
func TestSweepColumnsDistinct(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	one := func(*flywheel.Result) float64 { return 1 }
	for _, tc := range []struct {
		outcomes []flywheel.Outcome
		opts     []flywheel.SweepOption
	}{
		{[]flywheel.Outcome{{Name: "referrals", Of: one}}, nil},
		{[]flywheel.Outcome{{Name: "a", Of: one}, {Name: "a_se", Of: one}},
			[]flywheel.SweepOption{flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(4)}},
	} {
		tab, err := flywheel.Sweep(context.Background(), p, tc.outcomes,
			[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1, 2}}}, tc.opts...)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, "%v", tc.outcomes)
		require.Nil(t, tab)
	}
	// Columns that differ are fine, and none repeats.
	for _, opts := range [][]flywheel.SweepOption{nil, {flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(4)}} {
		tab, err := flywheel.Sweep(context.Background(), p, []flywheel.Outcome{{Name: "a", Of: one}, {Name: "b_se_x", Of: one}},
			[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1, 2}}}, opts...)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, tab.WriteCSV(&buf))
		rows, err := csv.NewReader(&buf).ReadAll()
		require.NoError(t, err)
		seen := map[string]bool{}
		for _, h := range rows[0] {
			require.False(t, seen[h], "duplicate CSV column %q in %v", h, rows[0])
			seen[h] = true
		}
	}
}

// With a store holding customers of its own, Agent's Result reports the
// spend and CAC its Measurement does (it counted the store's own walk-in
// as a paid prospect).
func TestAgentSpendAsMeasured(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return fjStart.AddDate(1, 0, 0) }))
	_, err := tr.Record(ctx, lifecycle.Event{ID: "x1", CustomerID: "walkin", Type: lifecycle.SiteVisited, Time: fjStart.Add(time.Hour)})
	require.NoError(t, err)
	p := flywheel.LiteratureExample()
	p.Rotations = 1
	run, err := flywheel.Agent(ctx, p, flywheel.WithStore(st), flywheel.Seed(1), flywheel.StartAt(fjStart),
		flywheel.PaidInflow(flywheel.ConstantInflow())) // exactly 100 paid prospects bought: spend 2000
	require.NoError(t, err)
	r := run.Result.Rotations[0]
	require.Equal(t, 2000.0, run.Measurement.Rotations[0].Spend)
	require.Equal(t, run.Measurement.Rotations[0].Spend, r.Mean(flywheel.Spend), "paid spend of the same run")
	require.Equal(t, run.Measurement.Rotations[0].AcquisitionCost, r.Mean(flywheel.AcquisitionCost))
}

// AcquisitionCostTrend is 0, not NaN, for equal costs near the float64
// limit (the sums overflowed).
func TestCostTrendNearFloatLimit(t *testing.T) {
	ctx := context.Background()
	st := store.NewMemory()
	tr := lifecycle.NewTracker(flywheel.Model(), st, lifecycle.WithClock(func() time.Time { return fjStart.AddDate(1, 0, 0) }))
	for i, id := range []string{"a", "b"} {
		_, err := tr.Record(ctx, lifecycle.Event{ID: "o" + id, CustomerID: id, Type: lifecycle.OrderCompleted,
			Time: fjStart.Add(time.Duration(i)*7*24*time.Hour + time.Hour), Amount: 4000, Currency: "EUR"})
		require.NoError(t, err)
	}
	m, err := flywheel.Measure(ctx, st, fjStart, 7*24*time.Hour, 2, flywheel.WithSpend(1e308, 1e308))
	require.NoError(t, err)
	require.Equal(t, []float64{1e308, 1e308}, []float64{m.Rotations[0].AcquisitionCost, m.Rotations[1].AcquisitionCost})
	require.False(t, math.IsNaN(m.AcquisitionCostTrend), "two defined, equal costs: slope 0")
}

// Charts of valid results near the float limits are well formed: a spend
// axis from 0 to a subnormal (halves of its span rounded to 0, and the
// coordinates were NaN), and a sweep whose axis holds 0.3 and 0.1+0.2
// (the ticks of a range a few ulps wide never ended).
func TestChartsNearFloatLimits(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.PaidProspects = 1
	p.SpendPerProspect = 5e-324
	r, err := flywheel.Expected(p)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, r.WriteSVG(&buf, flywheel.Spend))
	_, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)

	tenth := 0.1
	tab, err := flywheel.Sweep(context.Background(), flywheel.LiteratureExample(), []flywheel.Outcome{flywheel.CustomersAfter(12)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.3, tenth + 0.2}}})
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, tab.WriteLinesSVG(&buf, "customers_after_12"))
	_, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
}
