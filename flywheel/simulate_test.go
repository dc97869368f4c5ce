package flywheel_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
	"github.com/clmkit/clm/store"
)

// countMetrics are the metrics whose Monte Carlo mean is exactly the
// expected-value recurrence in expectation (ViralK and AcquisitionCost
// are ratios and are not).
var countMetrics = []flywheel.Metric{
	flywheel.PaidProspects, flywheel.ReferredProspects, flywheel.Engaged, flywheel.Acquired,
	flywheel.NewCustomers, flywheel.Retained, flywheel.NewAdvocates, flywheel.Advocates,
	flywheel.ReferringAdvocates, flywheel.NewReferrals, flywheel.Customers, flywheel.Spend,
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

// TestExpectedGeometric checks the recurrence against the closed forms of
// a constant viral coefficient κ = Referrals × AdvocateShare.
func TestExpectedGeometric(t *testing.T) {
	base := flywheel.Params{Rotations: 15, PaidProspects: 250, Conversion: [4]float64{0.6, 0.5, 0.4, 0.5},
		ReferredConversion: 0.6, Referrals: 2.5, Lag: 1, SpendPerProspect: 3}
	t.Run("no churn: advocates grow by 1+κ", func(t *testing.T) {
		for _, p := range []flywheel.Params{base, flywheel.LiteratureExample()} {
			res, err := flywheel.Expected(p)
			require.NoError(t, err)
			f, k := p.AdvocateShare(false), p.ViralCoefficient()
			adv := func(t int) float64 { return f * p.PaidProspects * (math.Pow(1+k, float64(t)) - 1) / k }
			for i, r := range res.Rotations {
				n := i + 1
				near(t, "advocates", r.Mean(flywheel.Advocates), adv(n), 1e-12)
				near(t, "engaged", r.Mean(flywheel.Engaged), p.PaidProspects+p.Referrals*adv(n-1), 1e-12)
				// Customers: the first-order share of all prospects so far.
				var prospects float64
				for j := 1; j <= n; j++ {
					prospects += p.PaidProspects + p.Referrals*adv(j-1)
				}
				near(t, "customers", r.Mean(flywheel.Customers), prospects*p.Conversion[0]*p.Conversion[1], 1e-12)
			}
		}
	})
	t.Run("advocates refer once: prospects follow the viral series", func(t *testing.T) {
		p := base
		p.AdvocateChurn = 1
		res, err := flywheel.Expected(p)
		require.NoError(t, err)
		k := p.ViralCoefficient()
		require.InDelta(t, k, p.GenerationK(), 1e-15)
		for i, r := range res.Rotations {
			n := float64(i + 1)
			near(t, "engaged", r.Mean(flywheel.Engaged), p.PaidProspects*(1-math.Pow(k, n))/(1-k), 1e-12)
		}
	})
	t.Run("literature example", func(t *testing.T) {
		res, err := flywheel.Expected(flywheel.LiteratureExample())
		require.NoError(t, err)
		r5 := res.Rotations[4]
		near(t, "paid prospects in rotation 5", r5.Mean(flywheel.PaidProspects), 100, 1e-12)
		if got := r5.Mean(flywheel.ReferredProspects); math.Round(got) != 47 {
			t.Errorf("referred prospects in rotation 5 = %v, want about 47", got)
		}
		near(t, "advocates after rotation 4", res.Rotations[3].Mean(flywheel.Advocates), 100*(math.Pow(1.10125, 4)-1), 1e-12)
	})
}

func TestExpectedLagAndChurn(t *testing.T) {
	// One cohort of advocates: paid prospects only in rotation 1 is not
	// expressible, so check the referring advocates directly: with Lag L,
	// advocates made in rotation s refer from rotation s+L on and survive
	// each referring rotation with probability 1−c.
	p := flywheel.Params{Rotations: 10, PaidProspects: 1000, Conversion: [4]float64{1, 1, 1, 0.1},
		ReferredConversion: 0, Referrals: 1, AdvocateChurn: 0.25, Lag: 3}
	res, err := flywheel.Expected(p)
	require.NoError(t, err)
	for i, r := range res.Rotations {
		n := i + 1
		// Referred prospects never convert, so each rotation makes 100 new
		// advocates; those made in rotation s have referred n−s−L+1 times
		// by rotation n.
		var referring float64
		for s := 1; s <= n-p.Lag; s++ {
			referring += 100 * math.Pow(1-p.AdvocateChurn, float64(n-s-p.Lag))
		}
		near(t, "referring advocates", r.Mean(flywheel.ReferringAdvocates), referring, 1e-12)
		near(t, "referred prospects", r.Mean(flywheel.ReferredProspects), referring, 1e-12)
	}
}

func TestMonteCarloDeterministic(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	opts := []flywheel.MonteCarloOption{flywheel.Runs(300), flywheel.Seed(42), flywheel.Quantiles(0.1, 0.5, 0.9)}
	serial, err := flywheel.MonteCarlo(ctx, p, append(opts, flywheel.Workers(1))...)
	require.NoError(t, err)
	for _, w := range []int{2, 3, 8} {
		par, err := flywheel.MonteCarlo(ctx, p, append(opts, flywheel.Workers(w))...)
		require.NoError(t, err)
		if diff := cmp.Diff(serial, par, cmpopts.EquateNaNs()); diff != "" {
			t.Fatalf("workers %d differ from serial (-serial +parallel):\n%s", w, diff)
		}
	}
	again, err := flywheel.MonteCarlo(ctx, p, opts...)
	require.NoError(t, err)
	if diff := cmp.Diff(serial, again, cmpopts.EquateNaNs()); diff != "" {
		t.Fatalf("same seed, different numbers:\n%s", diff)
	}
	other, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(300), flywheel.Seed(43), flywheel.Quantiles(0.1, 0.5, 0.9))
	require.NoError(t, err)
	if cmp.Equal(serial, other, cmpopts.EquateNaNs()) {
		t.Fatal("seeds 42 and 43 gave identical results")
	}
}

// TestMonteCarloConverges checks that the Monte Carlo mean of every count
// lies within its stated confidence interval, Mean ± z·StdErr with z = 4
// (a two-sided level of 99.994%), around the exact expectation.
func TestMonteCarloConverges(t *testing.T) {
	ctx := context.Background()
	params := map[string]flywheel.Params{
		"literature": flywheel.LiteratureExample(),
		"churn and lag": {Rotations: 20, PaidProspects: 40, Conversion: [4]float64{0.5, 0.6, 0.7, 0.8},
			ReferredConversion: 0.9, Referrals: 1.5, AdvocateChurn: 0.3, Lag: 2, SpendPerProspect: 5},
	}
	for name, p := range params {
		t.Run(name, func(t *testing.T) {
			ev, err := flywheel.Expected(p)
			require.NoError(t, err)
			mc, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(4000), flywheel.Seed(7))
			require.NoError(t, err)
			for i := range ev.Rotations {
				for _, m := range countMetrics {
					st := mc.Rotations[i].Stats[m]
					want := ev.Rotations[i].Mean(m)
					if math.Abs(st.Mean-want) > 4*st.StdErr+1e-9 {
						t.Errorf("rotation %d %s: mean %.4f ± %.4f, expected value %.4f", i+1, m, st.Mean, 4*st.StdErr, want)
					}
					if q := st.Quantiles; !(q[0] <= q[1] && q[1] <= q[2]) {
						t.Errorf("rotation %d %s: quantiles %v not ordered", i+1, m, q)
					}
				}
			}
		})
	}
}

func TestMonteCarloProgressAndCancel(t *testing.T) {
	p := flywheel.LiteratureExample()
	var mu sync.Mutex
	var calls []int
	_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(500), flywheel.Workers(3),
		flywheel.Progress(func(done, total int) {
			mu.Lock()
			defer mu.Unlock()
			require.Equal(t, 500, total)
			calls = append(calls, done)
		}))
	require.NoError(t, err)
	require.NotEmpty(t, calls)
	require.Equal(t, 500, calls[len(calls)-1])
	for i := 1; i < len(calls); i++ {
		require.Less(t, calls[i-1], calls[i], "progress must increase")
	}
	require.LessOrEqual(t, len(calls), 101)

	ctx, cancel := context.WithCancel(context.Background())
	_, err = flywheel.MonteCarlo(ctx, p, flywheel.Runs(100000), flywheel.Workers(2),
		flywheel.Progress(func(done, total int) {
			if done >= 100 {
				cancel()
			}
		}))
	require.ErrorIs(t, err, context.Canceled)
}

func TestInvalidParams(t *testing.T) {
	ok := flywheel.LiteratureExample()
	tests := []struct {
		name  string
		set   func(p *flywheel.Params)
		field string
	}{
		{"rotations zero", func(p *flywheel.Params) { p.Rotations = 0 }, "Rotations = 0"},
		{"rotations too many", func(p *flywheel.Params) { p.Rotations = flywheel.MaxRotations + 1 }, "Rotations = 10001"},
		{"lag zero", func(p *flywheel.Params) { p.Lag = 0 }, "Lag = 0"},
		{"negative paid", func(p *flywheel.Params) { p.PaidProspects = -1 }, "PaidProspects = -1"},
		{"NaN paid", func(p *flywheel.Params) { p.PaidProspects = math.NaN() }, "PaidProspects = NaN"},
		{"infinite referrals", func(p *flywheel.Params) { p.Referrals = math.Inf(1) }, "Referrals = +Inf"},
		{"negative referrals", func(p *flywheel.Params) { p.Referrals = -0.5 }, "Referrals = -0.5"},
		{"probability above 1", func(p *flywheel.Params) { p.Conversion[flywheel.NurtureToRetain] = 1.2 }, "Conversion[NurtureToRetain] = 1.2"},
		{"negative probability", func(p *flywheel.Params) { p.Conversion[flywheel.EngageToAcquire] = -0.1 }, "Conversion[EngageToAcquire] = -0.1"},
		{"NaN probability", func(p *flywheel.Params) { p.ReferredConversion = math.NaN() }, "ReferredConversion = NaN"},
		{"churn above 1", func(p *flywheel.Params) { p.AdvocateChurn = 2 }, "AdvocateChurn = 2"},
		{"negative spend", func(p *flywheel.Params) { p.SpendPerProspect = -3 }, "SpendPerProspect = -3"},
		{"NaN spend", func(p *flywheel.Params) { p.SpendPerProspect = math.NaN() }, "SpendPerProspect = NaN"},
	}
	ctx := context.Background()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.set(&p)
			errs := map[string]error{"Validate": p.Validate()}
			_, errs["Expected"] = flywheel.Expected(p)
			_, errs["MonteCarlo"] = flywheel.MonteCarlo(ctx, p, flywheel.Runs(2))
			_, errs["Agent"] = flywheel.Agent(ctx, p)
			for fn, err := range errs {
				if !errors.Is(err, flywheel.ErrInvalidParams) {
					t.Errorf("%s: error %v, want ErrInvalidParams", fn, err)
				} else if !strings.Contains(err.Error(), tc.field) {
					t.Errorf("%s: error %q does not name %q", fn, err, tc.field)
				}
			}
		})
	}
	optTests := []struct {
		name  string
		opts  []flywheel.MonteCarloOption
		field string
	}{
		{"no runs", []flywheel.MonteCarloOption{flywheel.Runs(0)}, "Runs = 0"},
		{"too many cells", []flywheel.MonteCarloOption{flywheel.Runs(1 << 30)}, "Runs = 1073741824"},
		{"negative workers", []flywheel.MonteCarloOption{flywheel.Workers(-1)}, "Workers = -1"},
		{"quantile 1", []flywheel.MonteCarloOption{flywheel.Quantiles(0.5, 1)}, "Quantiles[1] = 1"},
		{"quantile NaN", []flywheel.MonteCarloOption{flywheel.Quantiles(math.NaN())}, "Quantiles[0] = NaN"},
	}
	for _, tc := range optTests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := flywheel.MonteCarlo(ctx, ok, tc.opts...)
			require.ErrorIs(t, err, flywheel.ErrInvalidParams)
			require.Contains(t, err.Error(), tc.field)
		})
	}
}

func TestDiverged(t *testing.T) {
	p := flywheel.Params{Rotations: 400, PaidProspects: 100, Conversion: [4]float64{1, 1, 1, 1},
		ReferredConversion: 1, Referrals: 3, Lag: 1}
	_, err := flywheel.Expected(p)
	require.ErrorIs(t, err, flywheel.ErrDiverged)
	_, err = flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(4))
	require.ErrorIs(t, err, flywheel.ErrDiverged)
	p.Rotations = 30
	_, err = flywheel.Agent(context.Background(), p, flywheel.MaxEvents(10000))
	require.ErrorIs(t, err, flywheel.ErrDiverged)
}

func TestParamsSetGet(t *testing.T) {
	var p flywheel.Params
	for i, name := range flywheel.ParamNames() {
		require.NoError(t, p.Set(name, float64(i+1)), name)
		got, err := p.Get(name)
		require.NoError(t, err)
		require.Equal(t, float64(i+1), got, name)
	}
	require.ErrorIs(t, p.Set("nope", 1), flywheel.ErrInvalidParams)
	require.ErrorIs(t, p.Set(flywheel.ParamLag, 1.5), flywheel.ErrInvalidParams)
	// Set does not check ranges beyond whole numbers up to ±10⁹; Validate does.
	require.NoError(t, p.Set(flywheel.ParamRotations, -5))
	require.ErrorContains(t, p.Validate(), "Rotations = -5")
	err := p.Set(flywheel.ParamRotations, 1e10)
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
	require.ErrorContains(t, err, "rotations = 10000000000 must be a whole number from 1 to 10000")
	_, err = p.Get("nope")
	require.ErrorIs(t, err, flywheel.ErrInvalidParams)
}

func FuzzParams(f *testing.F) {
	p := flywheel.LiteratureExample()
	f.Add(p.Rotations, p.PaidProspects, p.Conversion[0], p.Conversion[1], p.Conversion[2], p.Conversion[3], p.ReferredConversion, p.Referrals, p.AdvocateChurn, p.Lag, p.SpendPerProspect)
	f.Add(52, 1e6, 1.0, 1.0, 1.0, 1.0, 1.0, 50.0, 0.0, 1, 0.0)
	f.Add(3, -1.0, 0.5, 0.5, 0.5, 0.5, 2.0, math.NaN(), 0.1, 0, math.Inf(1))
	f.Fuzz(func(t *testing.T, rot int, paid, c0, c1, c2, c3, rc, refs, churn float64, lag int, spend float64) {
		p := flywheel.Params{Rotations: rot % 200, PaidProspects: paid, Conversion: [4]float64{c0, c1, c2, c3},
			ReferredConversion: rc, Referrals: refs, AdvocateChurn: churn, Lag: lag, SpendPerProspect: spend}
		ev, err := flywheel.Expected(p)
		if err != nil {
			if !errors.Is(err, flywheel.ErrInvalidParams) && !errors.Is(err, flywheel.ErrDiverged) {
				t.Fatalf("Expected: unexpected error %v", err)
			}
			return
		}
		mc, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(3), flywheel.Seed(1))
		if err != nil {
			if !errors.Is(err, flywheel.ErrDiverged) {
				t.Fatalf("MonteCarlo: unexpected error %v", err)
			}
			return
		}
		for i := range ev.Rotations {
			for _, m := range countMetrics {
				for _, v := range []float64{ev.Rotations[i].Mean(m), mc.Rotations[i].Mean(m)} {
					if !(v >= 0) || math.IsInf(v, 0) {
						t.Fatalf("rotation %d %s = %v", i+1, m, v)
					}
				}
			}
		}
	})
}

// TestNilOptionsSkipped checks that a nil Option or MeasureOption is
// skipped, as a nil ModelOption is, instead of panicking.
func TestNilOptionsSkipped(t *testing.T) {
	ctx := context.Background()
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	_, err := flywheel.MonteCarlo(ctx, p, flywheel.Runs(2), nil)
	require.NoError(t, err)
	_, err = flywheel.Agent(ctx, p, nil, flywheel.Seed(1))
	require.NoError(t, err)
	_, err = flywheel.Sweep(ctx, p, []flywheel.Outcome{flywheel.CustomersAfter(2)}, []flywheel.Axis{{Param: flywheel.ParamReferrals, Values: []float64{1}}}, nil)
	require.NoError(t, err)
	_, err = flywheel.Measure(ctx, store.NewMemory(), flywheel.DefaultStart, flywheel.DefaultEvery, 2, nil)
	require.NoError(t, err)
}

// Progress is called about every 1% of the runs (every run below 100 runs).
func TestMonteCarloProgressEveryPercent(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	for _, runs := range []int{10, 250, 1000, 10000} {
		var calls []int
		_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(runs), flywheel.Workers(2),
			flywheel.Progress(func(done, total int) { calls = append(calls, done) }))
		require.NoError(t, err)
		require.Equal(t, runs, calls[len(calls)-1])
		want := min(runs, 100)
		require.GreaterOrEqual(t, len(calls), want*9/10, "runs %d: %d progress calls", runs, len(calls))
		require.LessOrEqual(t, len(calls), want+1, "runs %d", runs)
		for i := 1; i < len(calls); i++ {
			require.LessOrEqual(t, calls[i]-calls[i-1], max(1, runs/50), "runs %d: a gap of more than about 1%% between calls", runs)
		}
	}
}

// A diverging Monte Carlo simulation reports the same error (that of the
// lowest diverging run) whatever the number of workers.
func TestMonteCarloDivergedDeterministic(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.PaidProspects = 1 << 48
	p.Conversion = [4]float64{1, 1, 1, 1}
	p.ReferredConversion = 1
	_, want := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(1000), flywheel.Workers(1), flywheel.Seed(3))
	require.ErrorIs(t, want, flywheel.ErrDiverged)
	for i := range 40 {
		_, err := flywheel.MonteCarlo(context.Background(), p, flywheel.Runs(1000), flywheel.Workers(2+i%7), flywheel.Seed(3))
		require.Equal(t, want.Error(), err.Error(), "workers %d", 2+i%7)
	}
}

// Mean and Series answer NaN for a Metric out of range instead of
// panicking.
func TestMetricOutOfRange(t *testing.T) {
	p := flywheel.LiteratureExample()
	p.Rotations = 2
	res, err := flywheel.Expected(p)
	require.NoError(t, err)
	for _, m := range []flywheel.Metric{-1, flywheel.Metric(flywheel.NumMetrics), 99} {
		require.True(t, math.IsNaN(res.Rotations[0].Mean(m)), "Mean(%d)", int(m))
		s := res.Series(m)
		require.Len(t, s, 2)
		require.True(t, math.IsNaN(s[0]) && math.IsNaN(s[1]), "Series(%d)", int(m))
		require.Equal(t, fmt.Sprintf("Metric(%d)", int(m)), m.String())
	}
	require.Equal(t, []float64{100, 100}, res.Series(flywheel.PaidProspects))
}
