package flywheel_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/clmkit/clm/flywheel"
)

// TestBassClosedForm integrates dF/dt = (p + qF)(1 − F) with a fourth-order
// Runge–Kutta scheme and compares with the closed form F(t).
func TestBassClosedForm(t *testing.T) {
	for _, b := range []flywheel.Bass{{P: 0.03, Q: 0.38, M: 1}, {P: 0.01, Q: 0.9, M: 1}, {P: 0.2, Q: 0, M: 1}} {
		deriv := func(f float64) float64 { return (b.P + b.Q*f) * (1 - f) }
		const h = 0.001
		f := 0.0
		for step := 1; step <= 40_000; step++ {
			k1 := deriv(f)
			k2 := deriv(f + h/2*k1)
			k3 := deriv(f + h/2*k2)
			k4 := deriv(f + h*k3)
			f += h / 6 * (k1 + 2*k2 + 2*k3 + k4)
			if step%1000 == 0 {
				tt := float64(step) * h
				require.InDelta(t, f, b.F(tt), 1e-10, "p=%v q=%v t=%v", b.P, b.Q, tt)
			}
		}
		require.Equal(t, 0.0, b.F(0))
	}
	// Adoption per rotation peaks at t* = ln(q/p)/(p+q).
	b := flywheel.Bass{P: 0.03, Q: 0.38, M: 1000}
	peak := math.Log(b.Q/b.P) / (b.P + b.Q)
	rate := func(tt float64) float64 { return (b.Cumulative(tt+1e-4) - b.Cumulative(tt-1e-4)) / 2e-4 }
	require.Greater(t, rate(peak), rate(peak-0.5))
	require.Greater(t, rate(peak), rate(peak+0.5))
}

func TestFitBass(t *testing.T) {
	tests := []struct {
		name  string
		true_ flywheel.Bass
		n     int
		noise float64
		tol   float64
	}{
		{"exact, classic parameters", flywheel.Bass{P: 0.03, Q: 0.38, M: 1000}, 25, 0, 1e-4},
		{"exact, slow innovation", flywheel.Bass{P: 0.005, Q: 0.6, M: 50_000}, 30, 0, 1e-4},
		{"exact, no imitation", flywheel.Bass{P: 0.1, Q: 0, M: 300}, 30, 0, 1e-3},
		{"1% noise", flywheel.Bass{P: 0.02, Q: 0.45, M: 10_000}, 30, 0.01, 0.1},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ys := tc.true_.Series(tc.n)
			r := rand.New(rand.NewPCG(5, uint64(i)))
			for k := range ys {
				ys[k] *= 1 + tc.noise*r.NormFloat64()
			}
			got, err := flywheel.FitBass(ys)
			require.NoError(t, err)
			require.NoError(t, got.Validate())
			rel := func(a, b float64) float64 { return math.Abs(a-b) / math.Max(b, 1e-3) }
			if rel(got.P, tc.true_.P) > tc.tol || rel(got.M, tc.true_.M) > tc.tol || math.Abs(got.Q-tc.true_.Q) > tc.tol*math.Max(tc.true_.Q, 0.01) {
				t.Errorf("fit %+v, want %+v within %v", got, tc.true_, tc.tol)
			}
		})
	}
}

func TestFitBassErrors(t *testing.T) {
	for name, ys := range map[string][]float64{
		"too short": {1, 2},
		"negative":  {1, -2, 3},
		"NaN":       {1, math.NaN(), 3},
		"all zero":  {0, 0, 0, 0},
	} {
		_, err := flywheel.FitBass(ys)
		require.ErrorIs(t, err, flywheel.ErrInvalidParams, name)
	}
	require.ErrorIs(t, flywheel.Bass{P: 0, Q: -1, M: math.Inf(1)}.Validate(), flywheel.ErrInvalidParams)
}

// FitBass does not depend on the series' units: it recovers the same P
// and Q, and M in the series' units, from tiny and huge markets.
func TestFitBassScaleFree(t *testing.T) {
	for _, m := range []float64{1e-200, 1e-6, 1, 1e12, 1e200, 1e306} {
		truth := flywheel.Bass{P: 0.03, Q: 0.38, M: m}
		got, err := flywheel.FitBass(truth.Series(20))
		require.NoError(t, err, "M = %g", m)
		require.InDelta(t, truth.P, got.P, 1e-4, "M = %g: %+v", m, got)
		require.InDelta(t, truth.Q, got.Q, 1e-3, "M = %g: %+v", m, got)
		require.InDelta(t, 1, got.M/m, 1e-4, "M = %g: %+v", m, got)
	}
}

// F stays a share in [0, 1] for every valid Bass model, a tiny P (Q/P
// overflows) included.
func TestBassFTinyP(t *testing.T) {
	for _, b := range []flywheel.Bass{{P: 1e-320, Q: 0.5, M: 10}, {P: 5e-324, Q: 1e300, M: 1}, {P: 1e-300, Q: 1e10, M: 1}} {
		require.NoError(t, b.Validate())
		prev := 0.0
		for _, tt := range []float64{0, 1e-3, 1, 10, 1e3, 1e6, math.Inf(1)} {
			f := b.F(tt)
			require.True(t, f >= prev && f <= 1, "%+v: F(%v) = %v after %v", b, tt, f, prev)
			prev = f
		}
		require.Equal(t, 1.0, b.F(math.Inf(1)), "%+v", b)
	}
}

// TestBassTails: F, Density, PeakTime and PeakDensity at the edges of
// what Validate accepts, against the closed forms: F near t = 0 (its
// numerator cancelled), the density far in the tail (1 − F cancelled to
// 0 at t = 100), a tiny P (Q/P overflowed) and a huge Q ((P+Q)²
// overflowed).
func TestBassTails(t *testing.T) {
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("%s = %.17g, want %.17g", name, got, want)
		}
	}
	b := flywheel.Bass{P: 0.03, Q: 0.38, M: 1}
	closedF := func(t float64) float64 {
		x := (b.P + b.Q) * t
		return -math.Expm1(-x) / (1 + b.Q/b.P*math.Exp(-x))
	}
	closedDensity := func(t float64) float64 {
		x := (b.P + b.Q) * t
		d := 1 + b.Q/b.P*math.Exp(-x)
		return (b.P + b.Q) * (b.P + b.Q) / b.P * math.Exp(-x) / (d * d)
	}
	near("F(1e-12)", b.F(1e-12), closedF(1e-12)) // 1.3e-5 off before
	for _, at := range []float64{1, 10, 80, 90, 100, 500} {
		near(fmt.Sprintf("Density(%v)", at), b.Density(at), closedDensity(at)) // 0 at 100 before
	}
	tiny := flywheel.Bass{P: 1e-320, Q: 0.5, M: 10}
	near("PeakTime of a tiny P", tiny.PeakTime(), (math.Log(0.5)-math.Log(1e-320))/(0.5+1e-320)) // +Inf before
	huge := flywheel.Bass{P: 0.01, Q: 1e200, M: 1}
	near("PeakDensity of a huge Q", huge.PeakDensity(), (0.01+1e200)/4) // +Inf before
}
