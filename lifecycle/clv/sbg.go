package clv

import (
	"errors"
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// SBG holds the parameters of the shifted-beta-geometric model of
// contractual retention (Fader & Hardie 2007, "How to Project Customer
// Retention", Journal of Interactive Marketing 21(1)): at each renewal
// opportunity a customer churns with a constant probability θ, and θ
// varies across customers as Beta(Alpha, Beta). Periods are the contract
// periods (for example years) of the data.
type SBG struct {
	Alpha, Beta float64 // beta distribution of the churn probability θ
}

// Validate reports an error wrapping [ErrInvalidInput] unless both
// parameters are finite and positive.
func (m SBG) Validate() error {
	if err := checkPositive("SBG.Alpha", m.Alpha); err != nil {
		return err
	}
	return checkPositive("SBG.Beta", m.Beta)
}

// String formats the parameters with 4 decimals.
func (m SBG) String() string {
	return fmt.Sprintf("sbg alpha=%.4f beta=%.4f", m.Alpha, m.Beta)
}

// checkSurvivors validates a survivor series.
func checkSurvivors(survivors []float64) error {
	if len(survivors) < 2 {
		return invalidf("survivors: %d values, need the cohort size and at least one later count", len(survivors))
	}
	for i, s := range survivors {
		if !(s >= 0) || math.IsInf(s, 0) {
			return invalidf("survivors[%d] = %v, must be finite and ≥ 0", i, s)
		}
		if i > 0 && s > survivors[i-1] {
			return invalidf("survivors[%d] = %v exceeds survivors[%d] = %v (a cohort cannot grow)", i, s, i-1, survivors[i-1])
		}
	}
	if !(survivors[0] > 0) || survivors[0] > 1<<53 {
		return invalidf("survivors[0] = %v, the cohort size must be > 0 and at most 2^53", survivors[0])
	}
	return nil
}

// logLik returns the sBG log-likelihood of a survivor series:
// Σ_t (s_{t−1} − s_t) ln P(T = t) + s_n ln S(n), with P(T=1) = α/(α+β),
// P(T=t) = P(T=t−1)·(β+t−2)/(α+β+t−1) and S(t) = S(t−1) − P(T=t).
func (m SBG) logLik(survivors []float64) float64 {
	a, b := m.Alpha, m.Beta
	var ll float64
	lp := math.Log(a / (a + b)) // ln P(T = t)
	for t := 1; t < len(survivors); t++ {
		if t > 1 {
			ft := float64(t)
			lp += math.Log((b + (ft - 2)) / (a + b + (ft - 1)))
		}
		if c := survivors[t-1] - survivors[t]; c > 0 {
			ll += c * lp
		}
	}
	n := len(survivors) - 1
	if s := survivors[n]; s > 0 {
		ll += s * (numeric.LogBeta(a, b+float64(n)) - numeric.LogBeta(a, b))
	}
	return ll
}

// FitSBG estimates the sBG parameters by maximum likelihood from a cohort's
// survivor counts: survivors[0] is the number of customers at the start,
// survivors[t] the number still active after t renewal opportunities
// (for example Fader & Hardie's "regular" cohort: 1000, 631, 468, 382, 326,
// 289, 262, 241). Counts may be fractional (weights). The optimiser is
// BFGS on the log-parameters with central-difference gradients; standard
// errors are reported in the FitInfo with n = survivors[0].
//
// A series with fewer than two values, a negative, NaN or growing count, or
// a zero cohort size gives an error wrapping [ErrInvalidInput]; a series
// without churn (the maximum lies at the boundary) gives an error wrapping
// [ErrNoConvergence].
func FitSBG(survivors []float64, opts *FitOptions) (SBG, FitInfo, error) {
	if err := checkFitOptions(opts); err != nil {
		return SBG{}, FitInfo{}, err
	}
	if err := checkSurvivors(survivors); err != nil {
		return SBG{}, FitInfo{}, err
	}
	n := survivors[0]
	info := FitInfo{Customers: int(math.Round(n)), DistinctRows: len(survivors)}
	switch last := survivors[len(survivors)-1]; {
	case last == n:
		return SBG{}, info, wrapNoConvergence("sBG fit", errors.New("no customer churned, the likelihood has its supremum at the boundary (alpha → 0)"))
	case survivors[1] == 0:
		return SBG{}, info, wrapNoConvergence("sBG fit", errors.New("every customer churned at the first renewal, the likelihood has its supremum at the boundary (beta → 0)"))
	}
	nll := func(th []float64) float64 {
		m := SBG{math.Exp(th[0]), math.Exp(th[1])}
		if m.Validate() != nil {
			return math.Inf(1)
		}
		return -m.logLik(survivors) / n
	}
	// Start from the first-period churn rate with α+β = 2.
	c1 := math.Min(math.Max((survivors[0]-survivors[1])/n, 0.01), 0.99)
	starts := [][]float64{
		{math.Log(2 * c1), math.Log(2 * (1 - c1))},
		{0, 0},
		{math.Log(0.5), math.Log(5)},
	}
	p, err := fitLog("sBG", []string{"alpha", "beta"}, numeric.CentralDifference(nll, 1e-6), nll, starts, n, opts, &info)
	if err == nil {
		err = info.identified()
	}
	if err != nil {
		return SBG{}, info, err
	}
	return SBG{p[0], p[1]}, info, nil
}

// LogLikelihood returns the sBG log-likelihood of a survivor series (see
// [FitSBG]) under m.
func (m SBG) LogLikelihood(survivors []float64) (res float64, resErr error) {
	// A log-probability: above 0 (beyond rounding) is lost precision.
	defer checked("sBG log-likelihood", math.Inf(-1), 1e-6, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkSurvivors(survivors); err != nil {
		return 0, err
	}
	return m.logLik(survivors), nil
}

// MaxSurvival bounds the periods of [SBG.Survival]: 10,000,000 (a slice
// of 80 MB).
const MaxSurvival = 10_000_000

// Survival returns S(t) = B(α, β+t)/B(α, β), the share of a cohort still
// active after t renewal opportunities (S(0) = 1), for t = 0..periods.
// periods must be from 0 to [MaxSurvival]; errors wrap [ErrInvalidInput].
func (m SBG) Survival(periods int) ([]float64, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	if periods < 0 || periods > MaxSurvival {
		return nil, invalidf("periods = %d, must be from 0 to %d", periods, MaxSurvival)
	}
	s := make([]float64, periods+1)
	s[0] = 1
	for t := 1; t <= periods; t++ {
		// S(t) = S(t−1) · r(t).
		ft := float64(t)
		s[t] = s[t-1] * (m.Beta + (ft - 1)) / (m.Alpha + m.Beta + (ft - 1))
	}
	return s, nil
}

// RetentionRate returns r(t) = S(t)/S(t−1) = (β+t−1)/(α+β+t−1), the share
// of the customers active after t−1 renewals who renew at opportunity t
// (t ≥ 1). It increases with t: the cohort is sorted over time.
func (m SBG) RetentionRate(t int) (res float64, resErr error) {
	defer checked("sBG retention rate", 0, 1, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if t < 1 {
		return 0, invalidf("t = %d, must be ≥ 1", t)
	}
	ft := float64(t)
	return (m.Beta + (ft - 1)) / (m.Alpha + m.Beta + (ft - 1)), nil
}

// DERL returns the discounted expected residual lifetime, in contract
// periods (multiply by the margin per period for a value), of a customer
// who has made `renewals` renewals so far, evaluated just before the next
// renewal decision (Fader & Hardie 2010, "Customer-Base Valuation in a
// Contractual Setting: The Perils of Ignoring Heterogeneity", Marketing
// Science 29(1), eq. 6), with n = renewals+1:
//
//	DERL = Σ_{t≥n} S(t)/S(n−1) / (1+d)^{t−n}
//	     = (β+n−1)/(α+β+n−1) · 2F1(1, β+n; α+β+n; 1/(1+d)).
//
// The discount rate per period d must be finite and > 0. The discounted
// expected lifetime of a new customer who pays at the start of every
// period is 1 + DERL(d, 0)/(1+d). DERL is at most (1+d)/d; where the 2F1
// loses its precision (d ≤ 1/9 with β plus renewals large) the error wraps
// [ErrNoConvergence] instead of giving a value outside that bound.
func (m SBG) DERL(d float64, renewals int) (res float64, resErr error) {
	defer checked("sBG DERL", 0, math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkPositive("d", d); err != nil {
		return 0, err
	}
	if renewals < 0 {
		return 0, invalidf("renewals = %d, must be ≥ 0", renewals)
	}
	n := float64(renewals) + 1
	a, b := m.Alpha, m.Beta
	f, err := numeric.Hyp2F1(1, b+n, a+b+n, 1/(1+d))
	if err != nil {
		return 0, fmt.Errorf("%w: sBG DERL: %w", ErrNoConvergence, err)
	}
	// The discounted expected renewals lie in [0, (1+d)/d] (every period
	// renewed): outside, the 2F1 lost its precision (d ≤ 1/9 and β plus
	// renewals large).
	v := (b + (n - 1)) / (a + b + (n - 1)) * f
	if hi := (1 + d) / d; !(v >= 0 && v <= hi*(1+1e-9)) {
		return 0, fmt.Errorf("%w: sBG DERL: the 2F1 lost its precision (d = %v, renewals = %d, got %v, outside [0, %v])", ErrNoConvergence, d, renewals, v, hi)
	}
	return v, nil
}
