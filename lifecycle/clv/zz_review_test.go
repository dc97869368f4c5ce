package clv

import (
	"errors"
	"math"
	"testing"
	"time"
)

// Three customers who all bought at the end of calibration: FitParetoNBD
// drifts to log-parameters ≈ 17 where its hypergeometric series crawl, and
// spends ~6 s (on a 2-core machine) before reporting ErrNoConvergence.
// (With T ≈ 1e300 the same three-row fit takes over a minute.) doc.go:
// a million customers fit "in well under a second … (Pareto/NBD in about
// one)".
func TestZZParetoNBDFitStallsOnThreeRows(t *testing.T) {
	cs := []Customer{{Frequency: 1, Recency: 5, T: 5}, {Frequency: 2, Recency: 5, T: 5}, {Frequency: 3, Recency: 5, T: 5}}
	start := time.Now()
	_, _, err := FitParetoNBD(cs, nil)
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("FitParetoNBD(3 rows) took %v (err: %v)", el, err)
	}
}

// Two repeat buyers, x=1 with spends 10 and 20: the Gamma-Gamma likelihood
// has its supremum at the boundary p → ∞, v → 0 (with p·v fixed). The fit
// nevertheless returns nil error with p ≈ 1.9e7, v ≈ 6e-6, SE(p) ≈ 2.4e9.
// FitGammaGamma's doc: a maximum at the boundary gives ErrNoConvergence.
func TestZZGammaGammaBoundaryReportedAsConverged(t *testing.T) {
	cs := []Customer{{ID: "a", Frequency: 1, MonetaryValue: 10}, {ID: "b", Frequency: 1, MonetaryValue: 20}}
	m, info, err := FitGammaGamma(cs, nil)
	if err != nil {
		if !errors.Is(err, ErrNoConvergence) {
			t.Fatalf("err = %v, want ErrNoConvergence", err)
		}
		return
	}
	// Moving further along the ridge (p×100, v÷100) does not lower the
	// likelihood: the reported point is not an interior maximum.
	ll2, _ := GammaGamma{m.P * 100, m.Q, m.V / 100}.LogLikelihood(cs)
	t.Errorf("FitGammaGamma(2 rows) = %v, LL %.7f, nil error; SE(p) = %.3g; LL at (100p, q, v/100) = %.7f (≥ fitted - 1e-6: %v)",
		m, info.LogLikelihood, info.Estimates[0].StdErr, ll2, ll2 >= info.LogLikelihood-1e-6)
}

// A finite horizon is accepted (checkHorizon: finite, ≥ 0) but BG/NBD and
// MBG/NBD return +Inf with a nil error once z = t/(α+T+t) rounds to 1.
// Pareto/NBD returns a finite value for the same input.
func TestZZBGNBDExpectedPurchasesInfAtLargeHorizon(t *testing.T) {
	c := Customer{Frequency: 2, Recency: 10, T: 20}
	bg := BGNBD{0.2426, 4.4135, 0.7929, 2.4258}
	mb := MBGNBD{0.525, 6.183, 0.891, 1.614}
	for _, h := range []float64{1e18, 1e300} {
		v, err := bg.ConditionalExpectedPurchases(h, c)
		if err == nil && (math.IsInf(v, 0) || math.IsNaN(v)) {
			t.Errorf("BGNBD.ConditionalExpectedPurchases(%g, %+v) = %v, nil error", h, c, v)
		}
		v, err = mb.ConditionalExpectedPurchases(h, c)
		if err == nil && (math.IsInf(v, 0) || math.IsNaN(v)) {
			t.Errorf("MBGNBD.ConditionalExpectedPurchases(%g, %+v) = %v, nil error", h, c, v)
		}
		v, err = bg.ExpectedPurchases(h)
		if err == nil && (math.IsInf(v, 0) || math.IsNaN(v)) {
			t.Errorf("BGNBD.ExpectedPurchases(%g) = %v, nil error", h, v)
		}
	}
}

// Each Amount is checked "finite and ≥ 0", but their sum is not: two large
// finite repeat purchases give MonetaryValue = +Inf with a nil error.
func TestZZSummarizeMonetaryOverflow(t *testing.T) {
	d := func(n int) time.Time { return time.Date(2026, 1, n, 0, 0, 0, 0, time.UTC) }
	cs, err := Summarize([]Transaction{
		{CustomerID: "a", Time: d(1), Amount: 1},
		{CustomerID: "a", Time: d(2), Amount: 1e308},
		{CustomerID: "a", Time: d(3), Amount: 1e308},
	}, SummaryOptions{})
	if err == nil && (math.IsInf(cs[0].MonetaryValue, 0) || math.IsNaN(cs[0].MonetaryValue)) {
		t.Errorf("Summarize: customer a MonetaryValue = %v with nil error", cs[0].MonetaryValue)
	}
}
