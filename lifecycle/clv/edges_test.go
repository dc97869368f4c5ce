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
// alive) and never pass it. The parameter sets include ones where the 2F1
// near z = 1 has c−a−b an integer (r+x−a+1: 0, 2, −1), for which the
// series did not converge between horizons of about 1e5 and 1e200.
func TestExpectedPurchasesLongHorizon(t *testing.T) {
	for _, m := range []BGNBD{
		{0.2426, 4.4135, 0.7929, 2.4258}, {0.5, 6, 2.5, 3},
		{1, 4.4, 2, 0.5}, {2.5, 4.4, 1.5, 2.5}, {0.24, 4.4, 1.24, 0.5}, {0.24, 4.4, 2.24, 2.5}, {0.24, 4.4, 3.24, 2.5},
	} {
		for _, c := range []Customer{{Frequency: 2, Recency: 10, T: 20}, {Frequency: 0, T: 20}} {
			alive, err := m.ProbabilityAlive(c)
			if err != nil {
				t.Fatal(err)
			}
			limit := (m.A + m.B + float64(c.Frequency) - 1) / (m.A - 1) * alive
			prev := 0.0
			for e := 0.0; e <= 300; e += 0.5 {
				h := math.Pow(10, e)
				v, err := m.ConditionalExpectedPurchases(h, c)
				if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < prev*(1-1e-12) || m.A > 1 && v > limit*(1+1e-12) {
					t.Fatalf("%+v, %+v: ConditionalExpectedPurchases(%g) = %v, %v (previous horizon %v, limit %v)", m, c, h, v, err, prev, limit)
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
			if m.A > 1 && math.Abs(prev-limit) > 1e-9*limit {
				t.Errorf("%+v, %+v: at t = 1e300, %v; want the limit %v", m, c, prev, limit)
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
