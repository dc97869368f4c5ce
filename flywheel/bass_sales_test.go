package flywheel_test

import (
	"encoding/csv"
	"errors"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
)

func roomAirConditioners(t *testing.T) []float64 {
	t.Helper()
	f, err := os.Open("testdata/bass_room_air_conditioners.csv")
	require.NoError(t, err)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	var out []float64
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		require.NoError(t, err)
		out = append(out, v)
	}
	require.Len(t, out, 13)
	return out
}

// TestBassDensityAndPeak checks f(t) against a central difference of F,
// and t*, f(t*) against the closed forms ln(q/p)/(p+q) and (p+q)²/(4q) and
// against a numerical maximisation of f on a fine grid.
func TestBassDensityAndPeak(t *testing.T) {
	b := flywheel.Bass{P: 0.0094, Q: 0.375, M: 18700}
	for _, tt := range []float64{0.5, 3, 8.5, 20} {
		fd := (b.F(tt+1e-5) - b.F(tt-1e-5)) / 2e-5
		require.InDelta(t, fd, b.Density(tt), 1e-9)
	}
	require.InDelta(t, math.Log(b.Q/b.P)/(b.P+b.Q), b.PeakTime(), 1e-15)
	best, bestT := 0.0, 0.0
	for tt := 0.0; tt < 30; tt += 1e-4 {
		if d := b.Density(tt); d > best {
			best, bestT = d, tt
		}
	}
	require.InDelta(t, bestT, b.PeakTime(), 2e-4)
	require.InDelta(t, best, b.PeakDensity(), 1e-10) // the grid maximum is flat to second order
	require.InDelta(t, (b.P+b.Q)*(b.P+b.Q)/(4*b.Q), b.PeakDensity(), 1e-15)
	// q ≤ p: adoption is highest at launch.
	c := flywheel.Bass{P: 0.3, Q: 0.1, M: 1}
	require.Equal(t, 0.0, c.PeakTime())
	require.InDelta(t, c.Density(0), c.PeakDensity(), 1e-15)
	require.Equal(t, 0.0, b.Density(-1))
}

// TestBassDiscrete checks the discrete-time recursion by hand for two
// periods and its closeness to the continuous model for small p+q.
func TestBassDiscrete(t *testing.T) {
	b := flywheel.Bass{P: 0.03, Q: 0.38, M: 1000}
	s := b.DiscreteSales(3)
	require.InDelta(t, 30, s[0], 1e-12)                  // p·m
	require.InDelta(t, (0.03+0.38*0.03)*970, s[1], 1e-9) // (p + q·N1/m)(m − N1)
	small := flywheel.Bass{P: 0.001, Q: 0.01, M: 1000}
	d, c := small.DiscreteSales(50), small.PeriodSales(50)
	for i := range d {
		require.InDelta(t, c[i], d[i], 0.01*c[i])
	}
	require.Empty(t, b.DiscreteSales(-1))
}

// TestFitBassSalesExact: noise-free per-period sales from known
// parameters are recovered to 1e-6 relative, with R² = 1.
func TestFitBassSalesExact(t *testing.T) {
	want := flywheel.Bass{P: 0.012, Q: 0.41, M: 17000}
	fit, err := flywheel.FitBassSales(want.PeriodSales(15))
	require.NoError(t, err)
	require.InEpsilon(t, want.P, fit.P, 1e-6)
	require.InEpsilon(t, want.Q, fit.Q, 1e-6)
	require.InEpsilon(t, want.M, fit.M, 1e-6)
	require.InDelta(t, 1, fit.R2, 1e-12)
	ols, err := flywheel.FitBassOLS(want.DiscreteSales(15))
	require.NoError(t, err)
	require.InEpsilon(t, want.P, ols.P, 1e-8)
	require.InEpsilon(t, want.Q, ols.Q, 1e-8)
	require.InEpsilon(t, want.M, ols.M, 1e-8)
}

// TestFitBassSalesRoomAirConditioners fits Bass's (1969) room
// air-conditioner sales by the Srinivasan–Mason NLS and checks the result
// against an independent computation in this test: a brute-force search
// over a log-spaced (p, q) grid (refined four times around the best point, to about 4e-6 relative)
// with m profiled out in closed form, and a hand-computed R², RSE and
// Jacobian standard errors. Tolerances: parameters 1e-4 relative (the
// refined grid's resolution), SSE 1e-9 relative (the optimum's SSE is
// flat to second order), standard errors 1e-3 (central-difference
// Jacobians on both sides).
func TestFitBassSalesRoomAirConditioners(t *testing.T) {
	sales := roomAirConditioners(t)
	fit, err := flywheel.FitBassSales(sales)
	require.NoError(t, err)
	t.Logf("%v; t* = %.3f years, peak sales %.0f", fit, fit.PeakTime(), fit.M*fit.PeakDensity())

	sse := func(p, q float64) (float64, float64) {
		g := flywheel.Bass{P: p, Q: q, M: 1}.PeriodSales(len(sales))
		var gy, gg float64
		for i, y := range sales {
			gy += g[i] * y
			gg += g[i] * g[i]
		}
		m := gy / gg
		var s float64
		for i, y := range sales {
			s += (y - m*g[i]) * (y - m*g[i])
		}
		return s, m
	}
	lp0, lp1, lq0, lq1 := math.Log(1e-4), math.Log(0.5), math.Log(1e-3), math.Log(2.0)
	var bp, bq, bs = 0.0, 0.0, math.Inf(1)
	for round := 0; round < 5; round++ {
		const k = 200
		for i := 0; i <= k; i++ {
			for j := 0; j <= k; j++ {
				p := math.Exp(lp0 + (lp1-lp0)*float64(i)/k)
				q := math.Exp(lq0 + (lq1-lq0)*float64(j)/k)
				if s, m := sse(p, q); m > 0 && s < bs {
					bp, bq, bs = p, q, s
				}
			}
		}
		wp, wq := (lp1-lp0)/20, (lq1-lq0)/20
		lp0, lp1, lq0, lq1 = math.Log(bp)-wp, math.Log(bp)+wp, math.Log(bq)-wq, math.Log(bq)+wq
	}
	_, bm := sse(bp, bq)
	require.InEpsilon(t, bp, fit.P, 1e-4)
	require.InEpsilon(t, bq, fit.Q, 1e-4)
	require.InEpsilon(t, bm, fit.M, 1e-4)
	require.LessOrEqual(t, fit.SSE, bs*(1+1e-9))

	var mean, sst float64
	for _, y := range sales {
		mean += y / float64(len(sales))
	}
	for _, y := range sales {
		sst += (y - mean) * (y - mean)
	}
	require.InDelta(t, 1-fit.SSE/sst, fit.R2, 1e-12)
	require.InDelta(t, math.Sqrt(fit.SSE/10), fit.RSE, 1e-9)
	require.Equal(t, 13, fit.N)
	require.True(t, fit.StdErrP > 0 && fit.StdErrQ > 0 && fit.StdErrM > 0)

	// The cumulative fit and the OLS fit of the same data exist and
	// explain most of the variance.
	cum := make([]float64, len(sales))
	var c float64
	for i, y := range sales {
		c += y
		cum[i] = c
	}
	cf, err := flywheel.FitBassCumulative(cum)
	require.NoError(t, err)
	require.Greater(t, cf.R2, 0.99)
	ols, err := flywheel.FitBassOLS(sales)
	require.NoError(t, err)
	require.Greater(t, ols.R2, 0.8)
	require.True(t, math.IsNaN(ols.StdErrP))
	t.Logf("cumulative: %v\nOLS: %v", cf, ols)
}

// TestFitBassSalesErrors: bad series give ErrInvalidParams, never a panic.
func TestFitBassSalesErrors(t *testing.T) {
	for _, s := range [][]float64{nil, {1, 2, 3}, {1, 2, math.NaN(), 4}, {1, -2, 3, 4}, {0, 0, 0, 0}, {1, 2, math.Inf(1), 4}} {
		_, err := flywheel.FitBassSales(s)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, "%v", s)
		_, err = flywheel.FitBassOLS(s)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, "%v", s)
		_, err = flywheel.FitBassCumulative(s)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, "%v", s)
	}
	// A constant series: the regression gives no c < 0.
	_, err := flywheel.FitBassOLS([]float64{5, 5, 5, 5, 5})
	require.True(t, err == nil || errors.Is(err, flywheel.ErrNoFit), "%v", err)
}

// TestBassFitHugeSeries: a series near the float64 limit gets a finite
// RSE and R² (its squares were summed in its own units and overflowed to
// +Inf and NaN); a constant one's R² is NaN, as BassFit.R2 says.
func TestBassFitHugeSeries(t *testing.T) {
	series := []float64{1e300, 3e300, 6e300, 8e300, 6e300, 3e300, 1.5e300}
	for name, fit := range map[string]func([]float64) (flywheel.BassFit, error){"FitBassSales": flywheel.FitBassSales, "FitBassOLS": flywheel.FitBassOLS} {
		f, err := fit(series)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		small, err := fit(scaled(series, 1e-300))
		if err != nil {
			t.Fatalf("%s of the series / 1e300: %v", name, err)
		}
		if math.IsInf(f.RSE, 0) || math.IsNaN(f.RSE) || math.Abs(f.RSE/1e300-small.RSE) > 1e-6*small.RSE || math.Abs(f.R2-small.R2) > 1e-9 {
			t.Errorf("%s: RSE %v, R² %v; the series / 1e300 gives %v, %v", name, f.RSE, f.R2, small.RSE, small.R2)
		}
	}
	f, err := flywheel.FitBassSales([]float64{5, 5, 5, 5, 5})
	if err != nil || !math.IsNaN(f.R2) {
		t.Errorf("constant series: R² %v, %v; want NaN", f.R2, err)
	}
}

func scaled(xs []float64, k float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = x * k
	}
	return out
}
