package clv

import (
	"errors"
	"math"
	"testing"
)

// TestPredictionsNoSilentLoss: predictions whose hypergeometric sums
// lost their digits with no error, against mpmath at 50 digits: each is
// now right to 1e-6 (the references' digits) or an error wrapping
// ErrNoConvergence.
func TestPredictionsNoSilentLoss(t *testing.T) {
	check := func(name string, v, want float64, err error) {
		t.Helper()
		switch {
		case err != nil && !errors.Is(err, ErrNoConvergence):
			t.Errorf("%s: %v", name, err)
		case err == nil && math.Abs(v-want) > 1e-6*math.Abs(want):
			t.Errorf("%s = %.10g, want %.7g, with no error", name, v, want)
		case err != nil:
			t.Logf("%s: %v", name, err)
		}
	}
	bg := []struct {
		m       BGNBD
		c       Customer
		t, want float64
	}{
		{BGNBD{R: 0.7, Alpha: 30, A: 30, B: 1000}, Customer{Frequency: 1, Recency: 50, T: 100}, 1e4, 28.38365}, // 27.2153: 15.3.6 cancelled
		{BGNBD{R: 30, Alpha: 1000, A: 30, B: 1000}, Customer{T: 1}, 1e4, 35.441690},                            // 35.482759: a shortcut dropped a term of e^−69.5 · 1e57
		{BGNBD{R: 1000, Alpha: 30, A: 0.7, B: 0.001}, Customer{T: 1}, 1, 1.008809},                             // 1.008690: the Euler form's series cancelled
		{BGNBD{R: 1000, Alpha: 30, A: 0.001, B: 0.001}, Customer{T: 1}, 1, 16.58144},
	}
	for _, c := range bg {
		v, err := c.m.ConditionalExpectedPurchases(c.t, c.c)
		check(c.m.String()+" ConditionalExpectedPurchases", v, c.want, err)
	}
	mbg := MBGNBD{R: 0.7, Alpha: 30, A: 30, B: 1000}
	v, err := mbg.ConditionalExpectedPurchases(1e4, Customer{Frequency: 1, Recency: 50, T: 100})
	check("MBG/NBD ConditionalExpectedPurchases", v, 28.40764, err)

	v, err = SBG{Alpha: 0.7, Beta: 1000}.DERL(0.01, 1000)
	check("sBG DERL", v, 97.69931, err) // 98.18585

	c := Customer{Frequency: 100, Recency: 0.99, T: 1}
	for _, p := range []struct {
		m         ParetoNBD
		alive, ll float64
	}{
		{ParetoNBD{R: 0.001, Alpha: 30, S: 1000, Beta: 1000}, 0.989899, 7.84353}, // 0.060454 and 10.6392
		{ParetoNBD{R: 0.7, Alpha: 0.001, S: 1000, Beta: 30}, 0.596800, 324.886},  // 1 and 324.370
		{ParetoNBD{R: 0.7, Alpha: 30, S: 1000, Beta: 1000}, 0.989898, 0},         // 1
	} {
		v, err := p.m.ProbabilityAlive(c)
		check(p.m.String()+" ProbabilityAlive", v, p.alive, err)
		if p.ll != 0 {
			v, err = p.m.LogLikelihood([]Customer{c})
			check(p.m.String()+" LogLikelihood", v, p.ll, err)
		}
	}
}

// TestLogLikelihoodHugeBeta: BG/NBD's and MBG/NBD's likelihoods at a and
// b near 10¹⁶ (where a fit wanders on data with T equal for everyone):
// ln B(a, b+x)/B(a, b) was a difference of two log-betas of 10¹⁷ that
// kept no digit, giving +250 for one customer whose likelihood is at
// most about 0.54.
func TestLogLikelihoodHugeBeta(t *testing.T) {
	m := BGNBD{R: math.Exp(-0.212953045089053), Alpha: math.Exp(2.18459523105076),
		A: math.Exp(36.75674768132784), B: math.Exp(37.73940096625096)}
	c := []Customer{{Frequency: 2, Recency: 1, T: 52}}
	for name, ll := range map[string]func() (float64, error){
		"BG/NBD":  func() (float64, error) { return m.LogLikelihood(c) },
		"MBG/NBD": func() (float64, error) { return MBGNBD(m).LogLikelihood(c) },
	} {
		v, err := ll()
		if err == nil && v > math.Log(0.54) {
			t.Errorf("%s LogLikelihood = %v with no error; want at most ln 0.54", name, v)
		}
	}
}

// TestDiscreteLogLikelihoodAtMostZero: BG/BB's likelihood is of discrete
// histories, a probability: at parameters where its log-betas lost their
// digits it gave +128 with no error (a fit on two rows led there).
func TestDiscreteLogLikelihoodAtMostZero(t *testing.T) {
	m := BGBB{Alpha: 9.16950737438099e+15, Beta: 1.6158120462876908e+19, Gamma: 4.642301032167019e-08, Delta: 0.2069410559699475}
	ll, err := m.LogLikelihood([]DiscreteCustomer{{Frequency: 2, Recency: 4, Periods: 6}})
	if err == nil && ll > 0 {
		t.Errorf("BG/BB LogLikelihood = %v with no error; want at most 0 or ErrNoConvergence", ll)
	}
}

// TestExpectedPurchasesOrdinary: ordinary parameters where 15.3.6's two
// terms cancel to fewer than 9 digits: the series takes over (its terms
// past the first keep one sign, with δ = a−1 in (−1, 0)), so they come
// right instead of an error; the last two were silently 20 % and 1e-5 off
// before the cancellation checks, and may be an error. References: mpmath
// at 50 and 90 digits.
func TestExpectedPurchasesOrdinary(t *testing.T) {
	for i, c := range []struct {
		r, al, a, b, t, bg, mbg float64
		mayFail                 bool
	}{
		{10.0618, 33.5878, 0.698947, 85.2464, 377.9, 80.891471939054478, 80.456433523078912, false},
		{5.85317, 21.2281, 0.98264, 99.1381, 267.5, 54.034568526427718, 53.631492311975704, false},
		{56.9075, 0.927419, 0.90713, 0.264773, 468.5, 5.7259773575892299, 4.7260022323432573, true},
		{54.6909, 78.3529, 0.999955, 0.143747, 255, 1.7950837484895315, 0.79591075338628007, true},
	} {
		for _, p := range []struct {
			name string
			f    func(float64) (float64, error)
			want float64
		}{
			{"BG/NBD", BGNBD{c.r, c.al, c.a, c.b}.ExpectedPurchases, c.bg},
			{"MBG/NBD", MBGNBD{c.r, c.al, c.a, c.b}.ExpectedPurchases, c.mbg},
		} {
			v, err := p.f(c.t)
			switch {
			case err != nil && !(c.mayFail && errors.Is(err, ErrNoConvergence)):
				t.Errorf("case %d: %s ExpectedPurchases(%v) = %v", i, p.name, c.t, err)
			case err == nil && math.Abs(v-p.want) > 1e-9*p.want:
				t.Errorf("case %d: %s ExpectedPurchases(%v) = %.15g, want %.15g", i, p.name, c.t, v, p.want)
			}
		}
	}
}

// TestBGBBLargeGamma: the conditional expected purchases at γ = 1000
// after 1,000 opportunities, whose survival sum underflows while the
// conditional factor overflows (∞ · 0 was NaN, an error), now in one
// exponent; references from mpmath at 50 digits.
func TestBGBBLargeGamma(t *testing.T) {
	for _, c := range []struct {
		m       BGBB
		c       DiscreteCustomer
		periods int
		want    float64
	}{
		{BGBB{Alpha: 0.001, Beta: 1.0, Gamma: 1000, Delta: 1.0}, DiscreteCustomer{Frequency: 500, Recency: 1000, Periods: 1000}, 1, 0.24987531259320365},
		{BGBB{Alpha: 0.001, Beta: 0.001, Gamma: 1000, Delta: 0.001}, DiscreteCustomer{Frequency: 1000, Recency: 1000, Periods: 1000}, 10000, 1.0010010010020020},
	} {
		v, err := c.m.ConditionalExpectedPurchases(c.periods, c.c)
		if err != nil || math.Abs(v-c.want) > 1e-10*c.want {
			t.Errorf("%v ConditionalExpectedPurchases(%d, %+v) = %v, %v; want %v", c.m, c.periods, c.c, v, err, c.want)
		}
	}
}
