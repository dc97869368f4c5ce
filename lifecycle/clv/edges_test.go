package clv

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/internal/numeric"
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

// TestBGBBLongHorizonNearGammaOne: within 1e-3 of γ = 1 the expected
// purchases at horizons past a million opportunities come from the closed
// form's limit (they took one step per opportunity: math.MaxInt steps);
// they match the step-by-step sum and are finite at any horizon.
func TestBGBBLongHorizonNearGammaOne(t *testing.T) {
	for _, g := range []float64{1, 1 + 1e-9, 1 - 5e-7, 1 - 1e-4, 1 + 9e-4} {
		m := BGBB{Alpha: 1.2, Beta: 0.75, Gamma: g, Delta: 2.78}
		for _, n := range []float64{0, 7} {
			const k = 1_000_001
			s := math.Exp(numeric.LogBeta(g, m.Delta+n) - numeric.LogBeta(g, m.Delta))
			var want float64
			for j := 1; j <= k; j++ {
				s *= (m.Delta + n + float64(j) - 1) / (g + m.Delta + n + float64(j) - 1)
				want += s
			}
			if got := m.survivalSum(n, k); math.Abs(got-want) > 1e-8*want {
				t.Errorf("γ = %v, n = %v: survivalSum(%d) = %v; the sum is %v", g, n, k, got, want)
			}
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			v, err := m.ExpectedPurchases(math.MaxInt)
			c, err2 := m.ConditionalExpectedPurchases(math.MaxInt, DiscreteCustomer{Frequency: 3, Recency: 5, Periods: 6})
			if err != nil || err2 != nil || math.IsNaN(v+c) || math.IsInf(v+c, 0) || v <= 0 || c <= 0 {
				t.Errorf("γ = %v at math.MaxInt: %v, %v; %v, %v", g, v, err, c, err2)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("γ = %v: ExpectedPurchases(math.MaxInt) did not return in 10 s", g)
		}
	}
}

// TestValueBounds: horizons past their documented bounds are errors
// wrapping ErrInvalidInput (they allocated or looped without end), and a
// huge mean spend gives a finite conditional spend (it overflowed to +Inf
// with no error).
func TestValueBounds(t *testing.T) {
	if _, err := (SBG{Alpha: 0.7, Beta: 1.2}).Survival(MaxSurvival + 1); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Survival(MaxSurvival+1): %v; want ErrInvalidInput", err)
	}
	if s, err := (SBG{Alpha: 0.7, Beta: 1.2}).Survival(3); err != nil || len(s) != 4 {
		t.Errorf("Survival(3) = %v, %v", s, err)
	}
	pm := BGNBD{0.2426, 4.4135, 0.7929, 2.4258}
	sm := GammaGamma{P: 6.25, Q: 3.74, V: 15.44}
	c := Customer{Frequency: 2, Recency: 30, T: 39, MonetaryValue: 40}
	if _, err := LifetimeValue(pm, sm, c, ValueOptions{Months: MaxMonths + 1}); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("LifetimeValue with Months MaxMonths+1: %v; want ErrInvalidInput", err)
	}
	if v, err := LifetimeValue(pm, sm, c, ValueOptions{Months: MaxMonths, MonthlyDiscountRate: 0.01}); err != nil || !(v > 0) || math.IsInf(v, 0) {
		t.Errorf("LifetimeValue with Months MaxMonths: %v, %v", v, err)
	}
	for _, z := range []float64{1e308, math.MaxFloat64} {
		v, err := sm.ConditionalExpectedSpend(Customer{Frequency: 10, MonetaryValue: z})
		if err != nil || math.IsInf(v, 0) || math.IsNaN(v) || v > z || v < 0.9*z {
			t.Errorf("ConditionalExpectedSpend(z̄ = %g) = %v, %v; want a finite value just under z̄", z, v, err)
		}
	}
	pop, _ := sm.ExpectedSpend()
	if v, err := sm.ConditionalExpectedSpend(Customer{Frequency: 2, MonetaryValue: 40}); err != nil || math.Abs(v-6.25*(15.44+2*40)/(6.25*2+3.74-1)) > 1e-12*v || v < pop {
		t.Errorf("ConditionalExpectedSpend = %v, %v", v, err)
	}
}

// TestFitInputBounds: input the fits cannot use faithfully is refused
// (Periods past MaxOpportunities, which made the BG/BB likelihood loop for
// hours; more than 2^53 customers, which overflowed FitInfo.Customers),
// and a maximum a fit cannot locate (an interval of e^±98 or more: the
// boundary, or a parameter the data do not identify) is ErrNoConvergence
// rather than a result with infinite intervals.
func TestFitInputBounds(t *testing.T) {
	row := DiscreteCustomer{Frequency: 1, Recency: 1, Periods: MaxOpportunities + 1}
	if _, _, err := FitBGBB([]DiscreteCustomer{row}, nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("FitBGBB with Periods past MaxOpportunities: %v", err)
	}
	m := BGBB{Alpha: 1.2, Beta: 0.75, Gamma: 0.66, Delta: 2.78}
	if _, err := m.ProbabilityAlive(row); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ProbabilityAlive with Periods past MaxOpportunities: %v", err)
	}
	big := []DiscreteCustomer{{Frequency: 1, Recency: 1, Periods: 2, Count: 1e308}, {Periods: 2, Count: 1e308}}
	if _, _, err := FitBGBB(big, nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("FitBGBB with Counts past 2^53: %v", err)
	}
	if _, _, err := FitSBG([]float64{1e20, 6e19, 4e19}, nil); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("FitSBG of a cohort past 2^53: %v", err)
	}
	if m, info, err := FitSBG([]float64{100, 50}, nil); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("FitSBG of one observation for two parameters = %+v, %+v, %v; want ErrNoConvergence", m, info.Estimates, err)
	}
	cs := []Customer{
		{ID: "a", Frequency: 2, MonetaryValue: 10}, {ID: "c", Frequency: 5, MonetaryValue: 30},
		{ID: "d", Frequency: 1, MonetaryValue: 12}, {ID: "t", Frequency: 1, MonetaryValue: 0.01},
	}
	if m, info, err := FitGammaGamma(cs, nil); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("FitGammaGamma drifting to q → ∞ = %+v, %+v, %v; want ErrNoConvergence", m, info.Estimates, err)
	}
	txs, err := ReadCDNOW(strings.NewReader("\uFEFF00001 19970101 1 29.33\n00001 19970118 2 29.73\n"))
	if err != nil || len(txs) != 2 {
		t.Errorf("ReadCDNOW after a byte order mark: %d transactions, %v; want 2", len(txs), err)
	}
}

// TestTinyShapeParameters: shape parameters far below 1 but valid (finite
// and positive) keep their closed forms: adding an integer to a tiny β
// before subtracting another lost β (β + t − 1 is 0 at t = 1 for β below
// about 1e-16), which gave NaN or a wrong 0 with a nil error (found by a
// hostile-input audit).
func TestTinyShapeParameters(t *testing.T) {
	for _, v := range []float64{1e-17, 1e-16, 1e-300, 5e-324} {
		s := SBG{Alpha: v, Beta: v}
		if r, err := s.RetentionRate(1); err != nil || r != 0.5 {
			t.Errorf("SBG{%g, %g}.RetentionRate(1) = %v, %v; want β/(α+β) = 0.5", v, v, r, err)
		}
		if sv, err := s.Survival(2); err != nil || sv[1] != 0.5 || math.Abs(sv[2]-0.5) > 1e-15 {
			t.Errorf("SBG{%g, %g}.Survival(2) = %v, %v; want [1 0.5 0.5]", v, v, sv, err)
		}
		// x = n: no non-purchase opportunity, so P(alive) = (δ+n)/(γ+δ+n).
		b := BGBB{Alpha: v, Beta: v, Gamma: 1, Delta: 1}
		if p, err := b.ProbabilityAlive(DiscreteCustomer{Frequency: 1, Recency: 1, Periods: 1}); err != nil || math.Abs(p-2.0/3) > 1e-15 {
			t.Errorf("BGBB{α = β = %g, γ = δ = 1}.ProbabilityAlive(1, 1, 1) = %v, %v; want 2/3", v, p, err)
		}
	}
}
