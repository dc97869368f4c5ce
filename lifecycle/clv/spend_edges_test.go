package clv

import (
	"math"
	"testing"
)

// TestSpendExtremes: the Gamma-Gamma means where a product taken in the
// formula's order overflows or underflows though the answer does not
// (references from mpmath at 60 digits), and a likelihood at a subnormal
// mean spend (math.Log is wrong there on amd64).
func TestSpendExtremes(t *testing.T) {
	near := func(name string, got, want float64, err error) {
		t.Helper()
		if err != nil || math.Abs(got-want) > 1e-12*math.Abs(want) {
			t.Errorf("%s = %.17g, %v; want %.17g", name, got, err, want)
		}
	}
	v, err := GammaGamma{P: 1e15, Q: 1e10, V: 1e300}.ExpectedSpend()
	near("ExpectedSpend(p·v past MaxFloat64)", v, 1e305/(1-1e-10), err) // was ErrNoConvergence
	v, err = GammaGamma{P: 1e-300, Q: 1e10, V: 1e-10}.ExpectedSpend()
	near("ExpectedSpend(p·v subnormal)", v, 1.0000000001e-320, err) // the nearest subnormal; 1e-5 off before
	v, err = GammaGamma{P: 1e-10, Q: 1e300, V: 0.5}.ConditionalExpectedSpend(Customer{Frequency: 1, MonetaryValue: 1e307})
	near("ConditionalExpectedSpend((q−1)/(p·x) past MaxFloat64)", v, 1e-3, err) // was 5e-311: z̄'s share dropped
	v, err = GammaGamma{P: 1e300, Q: 2, V: 0.5}.ConditionalExpectedSpend(Customer{Frequency: 1 << 40})
	near("ConditionalExpectedSpend(p·x past MaxFloat64)", v, 4.5474735088646412e-13, err) // was 0

	ll, err := GammaGamma{P: 6.25, Q: 3.74, V: 15.44}.LogLikelihood([]Customer{{Frequency: 1, MonetaryValue: 1e-310}})
	if err != nil || math.Abs(ll-(-3758.4785427613259)) > 1e-9*3758 {
		t.Errorf("LogLikelihood at a subnormal mean spend = %.17g, %v; want −3758.4785427613259", ll, err)
	}
}
