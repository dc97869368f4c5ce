package clv

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/clmkit/clm/lifecycle"
)

// At parameters Validate accepts but near the float limits, a prediction
// or likelihood is a number in its range or an error wrapping
// ErrNoConvergence, never NaN, an infinity or a negative expectation
// (found by an audit: each case below gave one of those with no error).
func TestAuditExtremeParameters(t *testing.T) {
	c := Customer{Frequency: 2, Recency: 10, T: 30, MonetaryValue: 20}
	huge := BGNBD{R: 0.24, Alpha: 1e300, A: 0.79, B: 1e300}
	max := BGNBD{R: 0.24, Alpha: math.MaxFloat64, A: 0.79, B: math.MaxFloat64}
	gg := GammaGamma{P: math.MaxFloat64, Q: 3.7, V: 15}
	for name, f := range map[string]func() (float64, error){
		"ParetoNBD subnormal ExpectedPurchases": func() (float64, error) {
			return ParetoNBD{R: 0.55, Alpha: 10.6, S: 1e-320, Beta: 1e-320}.ExpectedPurchases(52)
		},
		"BGNBD 1e300 ExpectedPurchases":            func() (float64, error) { return huge.ExpectedPurchases(1e6) },
		"BGNBD 1e300 ConditionalExpectedPurchases": func() (float64, error) { return huge.ConditionalExpectedPurchases(1e6, c) },
		"BGNBD max ProbabilityAlive": func() (float64, error) {
			return max.ProbabilityAlive(Customer{Frequency: 1e9, Recency: 1e300, T: 1e300})
		},
		"GammaGamma max ConditionalExpectedSpend": func() (float64, error) { return gg.ConditionalExpectedSpend(c) },
		"GammaGamma max LogLikelihood":            func() (float64, error) { return gg.LogLikelihood([]Customer{c}) },
	} {
		v, err := f()
		if err != nil {
			if !errors.Is(err, ErrNoConvergence) {
				t.Errorf("%s: error %v does not wrap ErrNoConvergence", name, err)
			}
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 && name[len(name)-len("LogLikelihood"):] != "LogLikelihood" {
			t.Errorf("%s = %v with no error", name, v)
		}
	}
}

// A store's money past the largest float64 once converted (a large but
// valid rate) is an error, not +Inf or (with a refund) NaN; so is a
// lifetime value whose sum passes it (found by an audit).
func TestAuditMoneyAndValueOverflow(t *testing.T) {
	d := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	ev := func(typ lifecycle.EventType, day int) lifecycle.Event {
		return lifecycle.Event{Type: typ, Time: d.AddDate(0, 0, day), Amount: 100000, Currency: "GBP"}
	}
	opts := StoreSummaryOptions{Currency: "EUR", Rates: map[string]float64{"GBP": 1e306}}
	for _, refund := range []bool{false, true} {
		evs := []lifecycle.Event{ev(lifecycle.OrderCompleted, 0), ev(lifecycle.OrderCompleted, 5), ev(lifecycle.OrderCompleted, 9)}
		if refund {
			evs = append(evs, ev(lifecycle.OrderRefunded, 9))
		}
		c := &lifecycle.Customer{ID: "c"}
		for i := range evs {
			c.Facts.Add(&evs[i])
		}
		rows, err := SummarizeCustomers(context.Background(), func(yield func(*lifecycle.Customer, error) bool) { yield(c, nil) }, opts)
		if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "GBP") {
			t.Errorf("refund %v: %+v, %v; want ErrInvalidInput naming the currency", refund, rows, err)
		}
	}
	bg := BGNBD{R: 0.24, Alpha: 4.41, A: 0.79, B: 2.43}
	gg := GammaGamma{P: 10, Q: 2, V: 1e307}
	c := Customer{Frequency: 20, Recency: 29, T: 30, MonetaryValue: 1e307}
	if v, err := LifetimeValue(bg, gg, c, ValueOptions{Months: 12, MonthlyDiscountRate: 0.01, Unit: Week}); !errors.Is(err, ErrNoConvergence) {
		t.Errorf("LifetimeValue at a spend near the float limit = %v, %v; want ErrNoConvergence", v, err)
	}
}

// Summarize's error names the option that set the end it could not use.
func TestAuditSummarizeEndNamed(t *testing.T) {
	d := time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)
	_, err := Summarize([]Transaction{{CustomerID: "a", Time: d, Amount: 1}}, SummaryOptions{ObservationEnd: d.AddDate(0, 0, -1)})
	if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), "ObservationEnd") {
		t.Errorf("Summarize with ObservationEnd before every purchase = %v; want it named", err)
	}
}
