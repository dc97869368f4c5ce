package flywheel_test

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/internal/svgplot/svgcheck"
)

// geometricInflow is a caller's distribution: a geometric number of
// prospects with the given mean (variance mean·(1+mean), far above the
// Poisson's).
func geometricInflow(r *rand.Rand, mean float64) int {
	q := mean / (1 + mean) // P(one more)
	n := 0
	for r.Float64() < q {
		n++
	}
	return n
}

// The same seed gives the same numbers with any inflow, whatever the
// number of workers; another seed gives others.
func TestInflowReproducible(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	for name, in := range map[string]flywheel.Inflow{"constant": flywheel.ConstantInflow(), "geometric": geometricInflow} {
		opts := []flywheel.MonteCarloOption{flywheel.Runs(300), flywheel.Seed(5), flywheel.PaidInflow(in)}
		one, err := flywheel.MonteCarlo(ctx, p, append(opts, flywheel.Workers(1))...)
		require.NoError(t, err)
		two, err := flywheel.MonteCarlo(ctx, p, append(opts, flywheel.Workers(3))...)
		require.NoError(t, err)
		if diff := cmp.Diff(one, two, cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("%s: 1 and 3 workers differ:\n%s", name, diff)
		}
		other, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(300), flywheel.Seed(6), flywheel.PaidInflow(in))
		require.NoError(t, err)
		require.False(t, cmp.Equal(one, other, cmpopts.EquateNaNs()), "%s: seeds 5 and 6 agree", name)
	}
	// The default is the Poisson inflow, draw for draw.
	def, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(100), flywheel.Seed(9))
	require.NoError(t, err)
	poi, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(100), flywheel.Seed(9), flywheel.PaidInflow(flywheel.PoissonInflow()))
	require.NoError(t, err)
	require.True(t, cmp.Equal(def, poi, cmpopts.EquateNaNs()))
	nilIn, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(100), flywheel.Seed(9), flywheel.PaidInflow(nil))
	require.NoError(t, err)
	require.True(t, cmp.Equal(def, nilIn, cmpopts.EquateNaNs()))
}

// A constant inflow adds no variance: with every step certain and no
// referrals, every count is the same in every run; with referrals, the
// paid prospects (and rotation 1, before any referral) still are.
func TestConstantInflowZeroVariance(t *testing.T) {
	ctx := context.Background()
	p := flywheel.Params{Rotations: 6, PaidProspects: 40, Conversion: [4]float64{1, 1, 1, 1}, ReferredConversion: 1, Lag: 1, SpendPerProspect: 2}
	res, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(200), flywheel.Seed(1), flywheel.PaidInflow(flywheel.ConstantInflow()))
	require.NoError(t, err)
	for _, r := range res.Rotations {
		for _, m := range []flywheel.Metric{flywheel.PaidProspects, flywheel.Engaged, flywheel.NewCustomers, flywheel.Advocates, flywheel.Customers, flywheel.Spend} {
			st := r.Stats[m]
			require.Zero(t, st.StdErr, "rotation %d %s", r.N, m)
			require.Equal(t, st.Quantiles[0], st.Quantiles[2], "rotation %d %s: the band is a point", r.N, m)
		}
		require.Equal(t, 40.0*float64(r.N), r.Mean(flywheel.Customers))
	}

	q := flywheel.LiteratureExample()
	const runs = 4000
	constant, err := flywheel.MonteCarlo(ctx, q, flywheel.Runs(runs), flywheel.Seed(2), flywheel.PaidInflow(flywheel.ConstantInflow()))
	require.NoError(t, err)
	poisson, err := flywheel.MonteCarlo(ctx, q, flywheel.Runs(runs), flywheel.Seed(2))
	require.NoError(t, err)
	geo, err := flywheel.MonteCarlo(ctx, q, flywheel.Runs(runs), flywheel.Seed(2), flywheel.PaidInflow(geometricInflow))
	require.NoError(t, err)
	variance := func(st flywheel.Stat) float64 { return st.StdErr * st.StdErr * float64(st.N) }
	for _, r := range constant.Rotations {
		require.Zero(t, r.Stats[flywheel.PaidProspects].StdErr, "rotation %d", r.N)
	}
	// Rotation 1 has no referrals: engaged = paid prospects, whose variance
	// is 0, the mean (Poisson) or mean·(1+mean) (geometric).
	require.Zero(t, variance(constant.Rotations[0].Stats[flywheel.Engaged]))
	require.InEpsilon(t, 100, variance(poisson.Rotations[0].Stats[flywheel.Engaged]), 0.1)
	// The geometric's heavy tail makes its sample variance noisier (a
	// relative standard error of about 5% here).
	require.InEpsilon(t, 100*101, variance(geo.Rotations[0].Stats[flywheel.Engaged]), 0.2)
	// Less inflow variance, less variance downstream.
	for i := range q.Rotations {
		c, p, g := variance(constant.Rotations[i].Stats[flywheel.Customers]), variance(poisson.Rotations[i].Stats[flywheel.Customers]), variance(geo.Rotations[i].Stats[flywheel.Customers])
		require.Less(t, c, p, "rotation %d", i+1)
		require.Less(t, p, g, "rotation %d", i+1)
	}
	// Every inflow keeps the mean: within 5 standard errors of the
	// exact expectation.
	ev, err := flywheel.Expected(q)
	require.NoError(t, err)
	for _, res := range []*flywheel.Result{constant, poisson, geo} {
		for i, r := range res.Rotations {
			st := r.Stats[flywheel.Customers]
			require.InDelta(t, ev.Rotations[i].Mean(flywheel.Customers), st.Mean, 5*st.StdErr+1e-9, "rotation %d", r.N)
		}
	}
}

// A fractional constant inflow draws the two whole numbers around it,
// keeping the mean.
func TestConstantInflowFractional(t *testing.T) {
	f := flywheel.ConstantInflow()
	r := rand.New(rand.NewPCG(1, 2))
	var sum float64
	const n = 20000
	for range n {
		k := f(r, 10.25)
		require.True(t, k == 10 || k == 11, "drew %d", k)
		sum += float64(k)
	}
	require.InDelta(t, 10.25, sum/n, 0.01)
	require.Equal(t, 7, f(r, 7))
	require.Equal(t, 0, f(r, 0))
}

// The K-factor series map onto the simulator with a constant inflow:
// its Monte Carlo means follow the package's closed forms (advocates
// A(t) = P·f·((1+κ)ᵗ − 1)/κ without churn; engaged prospects
// P·(1 − κᵗ)/(1 − κ) when each advocate refers once) and, with any other
// churn, the exact expectations.
func TestKFactorSeriesConstantInflow(t *testing.T) {
	ctx := context.Background()
	base := flywheel.Params{Rotations: 12, PaidProspects: 200, Conversion: [4]float64{0.6, 0.5, 0.4, 0.5},
		ReferredConversion: 0.6, Referrals: 2.5, Lag: 1}
	opts := []flywheel.MonteCarloOption{flywheel.Runs(3000), flywheel.Seed(11), flywheel.PaidInflow(flywheel.ConstantInflow())}
	within := func(t *testing.T, what string, st flywheel.Stat, want float64) {
		t.Helper()
		require.InDelta(t, want, st.Mean, 5*st.StdErr+1e-9, what)
	}

	p := base
	mc, err := flywheel.MonteCarlo(ctx, p, opts...)
	require.NoError(t, err)
	f, k := p.AdvocateShare(false), p.ViralCoefficient()
	for i, r := range mc.Rotations {
		within(t, "advocates", r.Stats[flywheel.Advocates], p.PaidProspects*f*(math.Pow(1+k, float64(i+1))-1)/k)
	}

	p.AdvocateChurn = 1
	mc, err = flywheel.MonteCarlo(ctx, p, opts...)
	require.NoError(t, err)
	for i, r := range mc.Rotations {
		within(t, "engaged", r.Stats[flywheel.Engaged], p.PaidProspects*(1-math.Pow(k, float64(i+1)))/(1-k))
	}

	for _, churn := range []float64{0.2, 0.6} {
		p.AdvocateChurn = churn
		p.Lag = 2
		mc, err = flywheel.MonteCarlo(ctx, p, opts...)
		require.NoError(t, err)
		ev, err := flywheel.Expected(p)
		require.NoError(t, err)
		for i, r := range mc.Rotations {
			for _, m := range []flywheel.Metric{flywheel.Engaged, flywheel.Advocates, flywheel.Customers} {
				within(t, m.String(), r.Stats[m], ev.Rotations[i].Mean(m))
			}
		}
	}
}

func TestInflowErrors(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	for name, f := range map[string]flywheel.Inflow{
		"negative": func(*rand.Rand, float64) int { return -1 },
		"too many": func(*rand.Rand, float64) int { return flywheel.MaxPopulation + 1 },
	} {
		_, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(10), flywheel.PaidInflow(f))
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, name)
		require.Contains(t, err.Error(), "run 0: rotation 1: ", name)
		_, err = flywheel.Agent(ctx, p, flywheel.PaidInflow(f))
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, name)
	}
}

// Agent mode takes the inflow too: a constant one brings exactly the
// paid prospects asked for, every rotation.
func TestAgentConstantInflow(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 3
	p.PaidProspects = 17
	run, err := flywheel.Agent(context.Background(), p, flywheel.Seed(3), flywheel.PaidInflow(flywheel.ConstantInflow()))
	require.NoError(t, err)
	for _, r := range run.Result.Rotations {
		require.Equal(t, 17.0, r.Mean(flywheel.PaidProspects), "rotation %d", r.N)
	}
}

func TestResultRotation(t *testing.T) {
	res, err := flywheel.Expected(flywheel.LiteratureExample())
	require.NoError(t, err)
	for n := 1; n <= len(res.Rotations); n++ {
		r, err := res.Rotation(n)
		require.NoError(t, err)
		require.Same(t, &res.Rotations[n-1], r)
		require.Equal(t, n, r.N)
	}
	for _, n := range []int{0, -1, len(res.Rotations) + 1, math.MaxInt, math.MinInt} {
		r, err := res.Rotation(n)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, "n %d", n)
		require.Nil(t, r)
	}
	var empty flywheel.Result
	_, err = empty.Rotation(1)
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
	_, err = (*flywheel.Result)(nil).Rotation(1)
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
}

// A Monte Carlo sweep reports several outcomes at once with standard
// errors over the runs: for a linear outcome they are the Monte Carlo
// standard errors of the mean, and they shrink as 1/√runs.
func TestSweepOutcomesStdErr(t *testing.T) {
	ctx := context.Background()
	base := flywheel.LiteratureExample()
	axes := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{0.5, 1.5}}}
	outcomes := []flywheel.Outcome{flywheel.CustomersAfter(12), flywheel.MetricAt(flywheel.Advocates, 6), flywheel.CrossoverRotation()}
	sweep := func(runs int) *flywheel.Table {
		tab, err := flywheel.Sweep(ctx, base, outcomes, axes, flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(runs), flywheel.Seed(4))
		require.NoError(t, err)
		return tab
	}
	small, large := sweep(100), sweep(1600)
	require.Equal(t, flywheel.ModeMonteCarlo, large.Mode)
	require.Equal(t, 1600, large.Runs)
	require.Len(t, large.Grids, 3)
	for k, o := range outcomes {
		require.Equal(t, o.Name, large.Grids[k].Outcome)
	}
	for i, refs := range axes[0].Values {
		p := base
		p.Referrals = refs
		mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(1600), flywheel.Seed(4))
		require.NoError(t, err)
		st := mc.Rotations[11].Stats[flywheel.Customers]
		g := large.Grids[0]
		require.InDelta(t, st.Mean, g.Values[0][i], 1e-9*st.Mean, "the mean of the runs is the Monte Carlo mean")
		require.InDelta(t, st.StdErr, g.StdErr[0][i], 1e-9*st.StdErr)
		require.Equal(t, 1600, g.N[0][i])
		adv := mc.Rotations[5].Stats[flywheel.Advocates]
		require.InDelta(t, adv.Mean, large.Grids[1].Values[0][i], 1e-9*adv.Mean)
		for k := range outcomes {
			s, l := small.Grids[k].StdErr[0][i], large.Grids[k].StdErr[0][i]
			require.Positive(t, l, "outcome %s", outcomes[k].Name)
			// √(1600/100) = 4, give or take the noise of the estimates.
			require.InDelta(t, 4, s/l, 1.2, "outcome %s, referrals %v: standard errors %v and %v", outcomes[k].Name, refs, s, l)
		}
	}
	// The same seed, the same table.
	again := sweep(100)
	require.True(t, cmp.Equal(small, again, cmpopts.EquateNaNs()))

	// Expected-value sweeps have no standard errors.
	ev, err := flywheel.Sweep(ctx, base, outcomes, axes)
	require.NoError(t, err)
	require.Equal(t, flywheel.ModeExpected, ev.Mode)
	for _, g := range ev.Grids {
		require.Equal(t, [][]float64{{0, 0}}, g.StdErr)
		for i, v := range g.Values[0] {
			want := 1
			if math.IsNaN(v) {
				want = 0
			}
			require.Equal(t, want, g.N[0][i], "%s at %d", g.Outcome, i)
		}
	}
	// Half a referral per advocate never turns the flywheel in 12 rotations.
	require.True(t, math.IsNaN(ev.Grids[2].Values[0][0]))
	var buf bytes.Buffer
	require.NoError(t, small.WriteCSV(&buf))
	require.Contains(t, buf.String(), "referrals,customers_after_12,customers_after_12_se,customers_after_12_n,advocates_at_6,advocates_at_6_se,advocates_at_6_n,crossover_rotation,crossover_rotation_se,crossover_rotation_n\n")
}

func TestSweepOutcomeErrors(t *testing.T) {
	ctx := context.Background()
	base := flywheel.LiteratureExample()
	axes := []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1}}}
	for name, outcomes := range map[string][]flywheel.Outcome{
		"none":      nil,
		"nil func":  {{Name: "x"}},
		"no name":   {{Of: func(*flywheel.Result) float64 { return 1 }}},
		"duplicate": {flywheel.CustomersAfter(3), flywheel.CustomersAfter(3)},
	} {
		_, err := flywheel.Sweep(ctx, base, outcomes, axes)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, name)
	}
	_, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CustomersAfter(3)}, axes,
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(0))
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
	require.Contains(t, err.Error(), "sweep point referrals=1")
	tab, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CustomersAfter(3)}, axes)
	require.NoError(t, err)
	_, err = tab.Grid("nope")
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
	var nilTab *flywheel.Table
	_, err = nilTab.Grid("x")
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
	require.ErrorIs(t, nilTab.WriteCSV(&bytes.Buffer{}), flywheel.ErrInvalidParams)
	require.ErrorIs(t, nilTab.WriteHeatmapSVG(&bytes.Buffer{}, "x"), flywheel.ErrInvalidParams)
	require.ErrorIs(t, nilTab.WriteLinesSVG(&bytes.Buffer{}, "x"), flywheel.ErrInvalidParams)
	require.True(t, math.IsNaN(flywheel.MetricAt(flywheel.Customers, 99).Of(&flywheel.Result{})))
	require.True(t, math.IsNaN(flywheel.MetricAt(flywheel.Metric(-1), 1).Of(&flywheel.Result{Rotations: make([]flywheel.Rotation, 1)})))
}

func TestSweepSVG(t *testing.T) {
	ctx := context.Background()
	base := flywheel.LiteratureExample()
	refs := []float64{0.5, 1, 2}
	churns := []float64{0, 0.5}
	tab, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CustomersAfter(12), flywheel.CrossoverRotation(),
		{Name: "never <&>", Of: func(*flywheel.Result) float64 { return math.NaN() }}},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: refs}, {Param: flywheel.ParamAdvocateChurn, Values: churns}},
		flywheel.SweepMode(flywheel.ModeMonteCarlo), flywheel.Runs(50), flywheel.Seed(1))
	require.NoError(t, err)

	var buf bytes.Buffer
	require.NoError(t, tab.WriteHeatmapSVG(&buf, "customers_after_12"))
	doc, err := svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, 6, doc.Classes["cell"])
	require.Equal(t, []string{"0.5", "1", "2"}, doc.XTicks)
	require.Equal(t, []string{"0", "0.5"}, doc.YTicks)
	require.Equal(t, "referrals", doc.XLabel)
	require.Equal(t, "churn", doc.YLabel)
	require.Equal(t, []string{"customers_after_12"}, doc.Legend)
	require.Equal(t, 2, doc.Classes["axis"])
	require.Contains(t, doc.Title, "Monte Carlo, 50 runs")

	buf.Reset()
	require.NoError(t, tab.WriteLinesSVG(&buf, "customers_after_12"))
	doc, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, []string{"churn = 0", "churn = 0.5"}, doc.Legend)
	require.Equal(t, 2, doc.Classes["series"])
	require.Equal(t, 6, doc.Classes["errorbar"])
	require.NotEmpty(t, doc.XTicks)
	require.NotEmpty(t, doc.YTicks)
	require.Equal(t, "customers_after_12", doc.YLabel)

	one, err := flywheel.Sweep(ctx, base, []flywheel.Outcome{flywheel.CustomersAfter(12)},
		[]flywheel.Axis{{Param: flywheel.ParamReferrals, Values: refs}})
	require.NoError(t, err)
	buf.Reset()
	require.NoError(t, one.WriteLinesSVG(&buf, "customers_after_12"))
	doc, err = svgcheck.Parse(buf.Bytes())
	require.NoError(t, err)
	require.Equal(t, []string{"customers_after_12"}, doc.Legend)
	require.Zero(t, doc.Classes["errorbar"], "no error bars in expected-value mode")

	require.ErrorIs(t, one.WriteHeatmapSVG(&buf, "customers_after_12"), flywheel.ErrInvalidParams, "one axis")
	require.ErrorIs(t, tab.WriteHeatmapSVG(&buf, "nope"), flywheel.ErrInvalidParams)
	require.ErrorIs(t, tab.WriteLinesSVG(&buf, "nope"), flywheel.ErrInvalidParams)
	require.ErrorIs(t, tab.WriteHeatmapSVG(&buf, "never <&>"), flywheel.ErrInvalidParams, "NaN everywhere")
	require.ErrorIs(t, tab.WriteLinesSVG(&buf, "never <&>"), flywheel.ErrInvalidParams, "NaN everywhere")
}
