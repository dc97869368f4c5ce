package clv

import (
	"errors"
	"math"
	"testing"
	"time"
)

// TestGammaGammaBoundary: two repeat buyers whose mean spends (10 and 20)
// a Gamma-Gamma fits best with p → ∞ (p·v fixed): the supremum is on the
// boundary, which FitGammaGamma reports as ErrNoConvergence rather than a
// point where the optimiser happened to stop.
func TestGammaGammaBoundary(t *testing.T) {
	cs := []Customer{{ID: "a", Frequency: 1, MonetaryValue: 10}, {ID: "b", Frequency: 1, MonetaryValue: 20}}
	if m, _, err := FitGammaGamma(cs, nil); !errors.Is(err, ErrNoConvergence) {
		t.Fatalf("FitGammaGamma(2 rows) = %+v, %v; want an error wrapping ErrNoConvergence", m, err)
	}
}

// TestExpectedPurchasesLongHorizon: BG/NBD and MBG/NBD expected purchases
// stay finite, and grow with the horizon, also where t/(α+T+t) rounds to 1
// (they were +Inf there, with no error); with a > 1 they reach the limit
// (a+b+x−1)/(a−1) of an endless horizon (times the probability of being
// alive).
func TestExpectedPurchasesLongHorizon(t *testing.T) {
	c := Customer{Frequency: 2, Recency: 10, T: 20}
	for _, m := range []BGNBD{{0.2426, 4.4135, 0.7929, 2.4258}, {0.5, 6, 2.5, 3}} {
		prev := 0.0
		hs := []float64{1e3, 1e6, 1e18, 1e300}
		if m.A > 1 {
			// (Between about 1e5 and 1e200 the 2F1 series near z = 1
			// does not converge for these parameters: ErrNoConvergence.)
			hs = []float64{1e3, 1e300}
		}
		for _, h := range hs {
			v, err := m.ConditionalExpectedPurchases(h, c)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < prev {
				t.Fatalf("%+v: ConditionalExpectedPurchases(%g) = %v, %v (previous horizon %v)", m, h, v, err, prev)
			}
			prev = v
			if _, err := m.ExpectedPurchases(h); err != nil {
				t.Fatalf("%+v: ExpectedPurchases(%g): %v", m, h, err)
			}
			mb := MBGNBD{m.R, m.Alpha, m.A, m.B}
			if v, err := mb.ConditionalExpectedPurchases(h, c); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%+v: MBG/NBD ConditionalExpectedPurchases(%g) = %v, %v", mb, h, v, err)
			}
		}
		if m.A > 1 {
			alive, err := m.ProbabilityAlive(c)
			if err != nil {
				t.Fatal(err)
			}
			want := (m.A + m.B + 2 - 1) / (m.A - 1) * alive
			if math.Abs(prev-want) > 1e-9*want {
				t.Errorf("%+v: at t = 1e300, %v; want the limit %v", m, prev, want)
			}
		}
	}
}

// TestSummarizeSumOverflow: amounts each finite whose sum is not are an
// error naming the customer, not a MonetaryValue of +Inf.
func TestSummarizeSumOverflow(t *testing.T) {
	d := func(n int) time.Time { return time.Date(2026, 1, n, 0, 0, 0, 0, time.UTC) }
	_, err := Summarize([]Transaction{
		{CustomerID: "a", Time: d(1), Amount: 1},
		{CustomerID: "a", Time: d(2), Amount: 1e308},
		{CustomerID: "a", Time: d(3), Amount: 1e308},
	}, SummaryOptions{})
	if !errors.Is(err, ErrInvalidInput) {
		t.Fatalf("Summarize = %v; want an error wrapping ErrInvalidInput", err)
	}
}

// degenerateRows are three customers who all bought at the end of
// calibration (Recency = T): the Pareto/NBD likelihood has no interior
// maximum.
func degenerateRows() []Customer {
	return []Customer{{Frequency: 1, Recency: 5, T: 5}, {Frequency: 2, Recency: 5, T: 5}, {Frequency: 3, Recency: 5, T: 5}}
}

// TestParetoNBDDegenerate: such a fit ends in ErrNoConvergence, inside the
// bounds the optimiser keeps to (BenchmarkFitParetoNBDDegenerate times it).
func TestParetoNBDDegenerate(t *testing.T) {
	if m, _, err := FitParetoNBD(degenerateRows(), nil); !errors.Is(err, ErrNoConvergence) {
		t.Fatalf("FitParetoNBD(degenerate rows) = %+v, %v; want an error wrapping ErrNoConvergence", m, err)
	}
}
