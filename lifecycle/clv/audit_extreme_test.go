package clv

import (
	"errors"
	"math"
	"testing"
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
