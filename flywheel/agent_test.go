package flywheel_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/lifecycle"
	"github.com/clmkit/clm/model"
	"github.com/clmkit/clm/store"
)

// TestAgentAgreesWithCohortModes runs agent mode with several seeds and
// checks that the mean of each count over the runs lies within Monte Carlo
// error of the expected value: |mean − EV| ≤ 4·sd/√runs, where sd is the
// per-run standard deviation the Monte Carlo mode measures.
func TestAgentAgreesWithCohortModes(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 8
	p.AdvocateChurn = 0.2
	p.ReferredConversion = 0.9
	ev, err := flywheel.Expected(p)
	require.NoError(t, err)
	mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(2000), flywheel.Seed(3))
	require.NoError(t, err)
	const runs = 12
	sum := make([][flywheel.NumMetrics]float64, p.Rotations)
	for seed := range uint64(runs) {
		run, err := flywheel.Agent(ctx, p, flywheel.Seed(100+seed))
		require.NoError(t, err)
		checkAgentRun(t, run)
		for i, r := range run.Result.Rotations {
			for _, m := range countMetrics {
				sum[i][m] += r.Mean(m)
			}
		}
	}
	for i := range sum {
		for _, m := range countMetrics {
			mean := sum[i][m] / runs
			st := mc.Rotations[i].Stats[m]
			sd := st.StdErr * math.Sqrt(float64(st.N))
			want := ev.Rotations[i].Mean(m)
			if tol := 4 * sd / math.Sqrt(runs); math.Abs(mean-want) > tol+1e-9 {
				t.Errorf("rotation %d %s: agent mean %.3f, expected %.3f ± %.3f (Monte Carlo mean %.3f)", i+1, m, mean, want, tol, st.Mean)
			}
		}
	}
}

// checkAgentRun checks one agent run against what the store holds: the
// flywheel model's history reaches the stages the agents walked, and every
// referred customer's first order credited its referrer exactly once.
func checkAgentRun(t *testing.T, run *flywheel.AgentRun) {
	t.Helper()
	ctx := context.Background()
	res, m := run.Result, run.Measurement
	var referredCustomers int
	for i, r := range res.Rotations {
		rm := m.Rotations[i]
		want := []float64{r.Mean(flywheel.Engaged), r.Mean(flywheel.Acquired), r.Mean(flywheel.NewCustomers), r.Mean(flywheel.Retained), r.Mean(flywheel.NewAdvocates)}
		for s, w := range want {
			if float64(rm.Reached[s]) != w {
				t.Errorf("rotation %d: model reached %s %d times, agents %v", i+1, m.Stages[s], rm.Reached[s], w)
			}
		}
		referredCustomers += rm.ReferredCustomers
	}
	var credits int64
	var events int
	for c, err := range run.Tracker.Store().Scan(ctx) {
		require.NoError(t, err)
		credits += c.Facts.Count(lifecycle.ReferralConverted)
		events += int(c.Facts.Events() - c.Facts.Count(lifecycle.ReferralConverted))
	}
	require.Equal(t, int64(referredCustomers), credits, "referral credits vs referred customers")
	require.Equal(t, run.Events, events, "events in the store")
}

func TestAgentDeterministic(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 5
	a, err := flywheel.Agent(ctx, p, flywheel.Seed(9))
	require.NoError(t, err)
	b, err := flywheel.Agent(ctx, p, flywheel.Seed(9))
	require.NoError(t, err)
	require.Equal(t, a.Events, b.Events)
	require.Equal(t, a.Result.Series(flywheel.Customers), b.Result.Series(flywheel.Customers))
	require.Equal(t, a.Result.Series(flywheel.Advocates), b.Result.Series(flywheel.Advocates))
}

// TestAgentOwnModel drives the agents through another model: the run
// works and the measurement follows that model's stages.
func TestAgentOwnModel(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 4
	st := store.NewMemory()
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	run, err := flywheel.Agent(ctx, p, flywheel.WithModel(model.SterneCutler()), flywheel.WithStore(st),
		flywheel.StartAt(start), flywheel.Every(7*24*time.Hour), flywheel.Seed(2))
	require.NoError(t, err)
	require.Equal(t, model.SterneCutler().Stages().IDs(), run.Measurement.Stages)
	require.Equal(t, start, run.Measurement.Start)
	require.Equal(t, st.Len(), run.Measurement.Customers)
	var total int
	for _, rm := range run.Measurement.Rotations {
		total += rm.Prospects
	}
	require.Equal(t, run.Measurement.Customers, total, "every customer arrived within the rotations")
	// Sterne–Cutler puts first orders into conversion.
	var conv, newCust int
	for _, rm := range run.Measurement.Rotations {
		conv += rm.Reached[2]
		newCust += rm.NewCustomers
	}
	require.Equal(t, newCust, conv)
}

func TestAgentOptionsInvalid(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	for name, opt := range map[string]flywheel.AgentOption{
		"every":      flywheel.Every(time.Second),
		"max events": flywheel.MaxEvents(0),
		"start":      flywheel.StartAt(time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC)),
	} {
		_, err := flywheel.Agent(ctx, p, opt)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, name)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := flywheel.Agent(cctx, p)
	require.ErrorIs(t, err, context.Canceled)
}

// Far more prospects than MaxEvents allows stop the run with ErrDiverged
// at once, without generating them first.
func TestAgentHugeCountsDivergeQuickly(t *testing.T) {
	ctx := context.Background()
	paid := flywheel.LiteratureExample()
	paid.PaidProspects = 1e12
	referred := flywheel.LiteratureExample()
	referred.PaidProspects = 5
	referred.Conversion = [4]float64{1, 1, 1, 1}
	referred.ReferredConversion = 1
	referred.Referrals = 1e12
	for name, p := range map[string]flywheel.Params{"paid": paid, "referred": referred} {
		done := make(chan error, 1)
		go func() { _, err := flywheel.Agent(ctx, p, flywheel.MaxEvents(1000)); done <- err }()
		select {
		case err := <-done:
			require.ErrorIs(t, err, flywheel.ErrDiverged, name)
			require.Contains(t, err.Error(), "1000", name)
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: Agent with 10^12 prospects did not stop with ErrDiverged", name)
		}
	}
	// A run that stays within MaxEvents is unaffected.
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	run, err := flywheel.Agent(ctx, p, flywheel.Seed(1))
	require.NoError(t, err)
	_, err = flywheel.Agent(ctx, p, flywheel.Seed(1), flywheel.MaxEvents(run.Events))
	require.NoError(t, err, "exactly MaxEvents events")
	_, err = flywheel.Agent(ctx, p, flywheel.Seed(1), flywheel.MaxEvents(run.Events-1))
	require.ErrorIs(t, err, flywheel.ErrDiverged)
}

// Rotation t covers [start + t·every, start + (t+1)·every), also more than
// 292 years (the range of a time.Duration) after the start, and also when
// the start is not on a whole second.
func TestAgentRotationTimes(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = flywheel.MaxRotations
	p.PaidProspects = 0.02
	p.Referrals = 0
	run, err := flywheel.Agent(ctx, p, flywheel.Seed(3))
	require.NoError(t, err, "10,000 rotations of 30 days stay within the year 9999")
	last := run.Measurement.Rotations[p.Rotations-1]
	want := flywheel.DefaultStart
	for range p.Rotations - 1 {
		want = want.Add(flywheel.DefaultEvery)
	}
	require.True(t, last.Start.Equal(want), "last rotation starts %v, want %v", last.Start, want)
	checkProspects(t, run)

	// With one-minute rotations a prospect may arrive under a second after
	// the start of the rotation.
	p = flywheel.LiteratureExample()
	p.Rotations = 50
	p.Referrals = 0
	run, err = flywheel.Agent(ctx, p, flywheel.Seed(3), flywheel.Every(time.Minute),
		flywheel.StartAt(flywheel.DefaultStart.Add(time.Millisecond)))
	require.NoError(t, err)
	checkProspects(t, run)
}

// checkProspects checks that every customer of the run arrived in one of
// its rotations, and that the paid prospects measured in each rotation are
// those drawn for it (the Measurement's spend is from the drawn ones).
func checkProspects(t *testing.T, run *flywheel.AgentRun) {
	t.Helper()
	var prospects int
	for _, rm := range run.Measurement.Rotations {
		prospects += rm.Prospects
	}
	require.Equal(t, run.Measurement.Customers, prospects, "every customer's first event falls in a rotation")
	var paid float64
	for i, r := range run.Result.Rotations {
		paid += r.Mean(flywheel.PaidProspects)
		require.Equal(t, run.Measurement.Rotations[i].Spend, r.Mean(flywheel.Spend), "rotation %d: spend of the measured and the drawn paid prospects", i+1)
	}
	require.Greater(t, paid, 0.0)
}

// TestAgentLastYear: rotations that end within the year 9999 (the last
// one at the very start of 10000) run; one that ends past it is refused.
func TestAgentLastYear(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations, p.PaidProspects = 1, 3
	for _, day := range []int{30, 31} {
		run, err := flywheel.Agent(ctx, p, flywheel.StartAt(time.Date(9999, 12, day, 0, 0, 0, 0, time.UTC)), flywheel.Every(24*time.Hour))
		require.NoError(t, err, "a rotation from 9999-12-%d", day)
		require.Len(t, run.Result.Rotations, 1)
	}
	p.Rotations = 2
	_, err := flywheel.Agent(ctx, p, flywheel.StartAt(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)), flywheel.Every(24*time.Hour))
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
	require.ErrorContains(t, err, "leave the years 1900 to 9999")
}
