package clv

import (
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// ParetoNBD holds the parameters of the Pareto/NBD model (Schmittlein,
// Morrison & Colombo 1987): while active a customer buys as a Poisson
// process with rate λ ~ Gamma(shape R, rate Alpha) and stays active for an
// exponential lifetime with rate μ ~ Gamma(shape S, rate Beta). Alpha and
// Beta are in the time unit of the data.
type ParetoNBD struct {
	R     float64 // shape of the gamma distribution of purchase rates λ
	Alpha float64 // rate of the gamma distribution of λ, in the data's time unit
	S     float64 // shape of the gamma distribution of dropout rates μ
	Beta  float64 // rate of the gamma distribution of μ, in the data's time unit
}

// Validate reports an error wrapping [ErrInvalidInput] unless all four
// parameters are finite and positive.
func (m ParetoNBD) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"ParetoNBD.R", m.R}, {"ParetoNBD.Alpha", m.Alpha}, {"ParetoNBD.S", m.S}, {"ParetoNBD.Beta", m.Beta}} {
		if err := checkPositive(p.name, p.v); err != nil {
			return err
		}
	}
	return nil
}

// String formats the parameters with 4 decimals.
func (m ParetoNBD) String() string {
	return fmt.Sprintf("paretonbd r=%.4f alpha=%.4f s=%.4f beta=%.4f", m.R, m.Alpha, m.S, m.Beta)
}

// logTerms returns, for one customer, ln L and the log-odds
// ln[P(dead)/P(alive)], using the closed form of Fader & Hardie's note
// "A Note on Deriving the Pareto/NBD Model and Related Expressions" (2005):
//
//	L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s/(r+s+x) · A0 ]
//
// where A0 is a difference of two 2F1(r+s+x, ·; r+s+x+1; ·) terms. Every
// factor is kept in log space (the hypergeometric terms and powers overflow
// float64 for frequent buyers), and A0 is formed with a log-difference.
func (m ParetoNBD) logTerms(x, tx, T float64) (ll, logOdds float64, err error) {
	return m.logTermsN(x, tx, T, nil)
}

// errSeriesBudget reports that FitParetoNBD's evaluations spent their
// budget of series terms (fitSeriesTerms).
var errSeriesBudget = fmt.Errorf("%w: the likelihood's series converge too slowly", ErrNoConvergence)

// logTermsN is logTerms; with a budget, it sums at most *budget series
// terms, less what it sums, and fails with errSeriesBudget past it.
func (m ParetoNBD) logTermsN(x, tx, T float64, budget *int) (ll, logOdds float64, err error) {
	r, al, s, be := m.R, m.Alpha, m.S, m.Beta
	a := r + s + x
	mx, b := al, s+1
	if al < be {
		mx, b = be, r+x
	}
	d := math.Abs(al - be)
	hyp := func(z float64) (float64, error) {
		if budget == nil {
			return numeric.LogHyp2F1(a, b, a+1, z)
		}
		if *budget <= 0 {
			return 0, errSeriesBudget
		}
		v, n, err := numeric.LogHyp2F1N(a, b, a+1, z, *budget)
		*budget -= n
		if err != nil && *budget <= 0 {
			return 0, errSeriesBudget
		}
		return v, err
	}
	f1, err := hyp(d / (mx + tx))
	if err != nil {
		return 0, 0, err
	}
	f2, err := hyp(d / (mx + T))
	if err != nil {
		return 0, 0, err
	}
	l1 := f1 - a*math.Log(mx+tx)
	l2 := f2 - a*math.Log(mx+T)
	lA0 := math.Inf(-1)
	if l1 > l2 {
		lA0 = numeric.LogDiffExp(l1, l2)
	}
	p1 := -(r+x)*math.Log(al+T) - s*math.Log(be+T)
	p2 := math.Log(s/a) + lA0
	lgrx, _ := math.Lgamma(r + x)
	lgr, _ := math.Lgamma(r)
	ll = lgrx - lgr + r*math.Log(al) + s*math.Log(be) + numeric.LogSumExp(p1, p2)
	return ll, p2 - p1, nil
}

// rfmRow is a distinct (Frequency, Recency, T) with its multiplicity.
type rfmRow struct {
	x, tx, t, w float64
}

// collapseRFM validates customers and merges identical rows; it also
// returns Σ T.
func collapseRFM(customers []Customer) ([]rfmRow, float64, error) {
	tb, _, sumT, err := collapseCustomers(customers)
	if err != nil {
		return nil, 0, err
	}
	rows := make([]rfmRow, len(tb.keys))
	for i, k := range tb.keys {
		rows[i] = rfmRow{float64(k.x), k.tx, k.t, tb.counts[i]}
	}
	return rows, sumT, nil
}

// FitParetoNBD estimates the Pareto/NBD parameters by maximum likelihood
// from the calibration RFM rows of customers (identical rows collapsed).
// The optimiser is BFGS on the log-parameters with analytic gradients: the
// hypergeometric series of the likelihood is summed together with its
// derivatives once per distinct (Frequency, Recency) and (Frequency, T)
// pair (see paretoEval in the source), so a gradient costs about one
// evaluation. A fit takes about 15 ms on CDNOW (1,016 distinct rows) and
// under a second at a million customers (113,173 distinct rows) on one
// core, about ten times [FitBGNBD]'s time on CDNOW (see BENCHMARKS.md).
// The search runs in units of the longest T, so that it takes the same
// steps whatever the unit of time, and keeps r and s within e^±15 and α
// and β within e^±15 times the longest T (where the data can no longer
// tell parameters apart and the series converge slowly): a likelihood that grows beyond is on the
// boundary, an [ErrNoConvergence]; so is a sample where nobody repeats,
// or where every customer's last purchase is at T, at once, and one
// whose series converge too slowly (a frequency in the millions against a
// T of a few periods), after 50 million series terms in all (about a
// second on one core). Errors are as for [FitBGNBD].
func FitParetoNBD(customers []Customer, opts *FitOptions) (ParetoNBD, FitInfo, error) {
	m, info, _, err := fitParetoNBD(customers, opts)
	return m, info, err
}

// fitParetoNBD is FitParetoNBD; it also returns the evaluator it used
// (nil if it made none), whose budget says what the fit spent.
func fitParetoNBD(customers []Customer, opts *FitOptions) (ParetoNBD, FitInfo, *paretoEval, error) {
	if err := checkFitOptions(opts); err != nil {
		return ParetoNBD{}, FitInfo{}, nil, err
	}
	rows, sumT, err := collapseRFM(customers)
	if err != nil {
		return ParetoNBD{}, FitInfo{}, nil, err
	}
	n := float64(len(customers))
	info := FitInfo{Customers: len(customers), DistinctRows: len(rows)}
	var sumX float64
	for _, r := range rows {
		sumX += r.w * r.x
	}
	if sumX == 0 {
		// Nobody repeats: the likelihood grows towards a purchase rate of
		// 0, on the boundary. (The search drifted to shapes near e^13,
		// where each evaluation summed millions of series terms.)
		return ParetoNBD{}, info, nil, fmt.Errorf("%w: Pareto/NBD: no customer repeats, so the likelihood has no maximum inside the parameter space", ErrNoConvergence)
	}
	// The fit runs in units of the longest T (the times divided by it, α
	// and β found in those units and multiplied back), so that its
	// starting points, bounds and steps are the same in days, weeks or
	// seconds: in other units they were far from the answer, and at T of
	// 10^-4 the search failed after seconds.
	unit := 0.0
	for _, r := range rows {
		unit = math.Max(unit, r.t)
	}
	if !(unit > 0) || math.IsInf(unit, 0) {
		unit = 1
	}
	for i := range rows {
		rows[i].tx /= unit
		rows[i].t /= unit
	}
	sumT /= unit
	alive := true
	for _, r := range rows {
		alive = alive && r.tx == r.t
	}
	if alive {
		// Everyone bought last at T: nobody can have dropped out, and the
		// likelihood grows towards a dropout rate of 0, on the boundary.
		return ParetoNBD{}, info, nil, fmt.Errorf("%w: Pareto/NBD: every customer's last purchase is at T, so nobody can have dropped out and the likelihood has no maximum inside the parameter space", ErrNoConvergence)
	}
	ev := newParetoEval(rows)
	g4 := make([]float64, 4)
	// Far out, where the data cannot tell the parameters apart (shapes
	// past e^±15, time scales past e^±15 times the longest T), the
	// likelihood's series converge slowly: a degenerate sample (everyone
	// bought at T) drifted there for seconds before failing. The fit
	// stays inside; a maximum beyond is on the boundary anyway.
	bound := [4]float64{15, 15, 15, 15}
	f := func(th, grad []float64) float64 {
		for i, b := range bound {
			if math.Abs(th[i]) > b {
				return math.Inf(1)
			}
		}
		m := ParetoNBD{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
		if m.Validate() != nil {
			return math.Inf(1)
		}
		var gp []float64
		if grad != nil {
			gp = g4
		}
		ll, ok := ev.logLik(m, gp)
		if !ok {
			return math.Inf(1)
		}
		if grad != nil {
			grad[0] = -gp[0] * m.R / n
			grad[1] = -gp[1] * m.Alpha / n
			grad[2] = -gp[2] * m.S / n
			grad[3] = -gp[3] * m.Beta / n
		}
		return -ll / n
	}
	rate := (sumX + 1) / (sumT + 1)
	meanT := sumT/n + 1
	starts := [][]float64{
		{0, math.Log(1 / rate), 0, math.Log(meanT)},
		{math.Log(0.5), math.Log(0.5 / rate), math.Log(0.5), math.Log(meanT / 2)},
		{0, 0, 0, 0},
	}
	p, err := fitLog("Pareto/NBD", []string{"r", "alpha", "s", "beta"}, f, nil, starts, n, opts, &info)
	if ev.budget <= 0 {
		// Some evaluations were cut short: whatever the search found, it
		// did not see the likelihood there.
		return ParetoNBD{}, info, ev, fmt.Errorf("%w: Pareto/NBD: the likelihood's series converge too slowly (%d terms summed in all, the last at Frequency %v, Recency %v, T %v)", ErrNoConvergence, fitSeriesTerms, ev.slow.x, ev.slow.tx*unit, ev.slow.t*unit)
	}
	if err != nil {
		return ParetoNBD{}, info, ev, err
	}
	// Back to the data's units: α and β (and their errors) times unit;
	// the likelihood, a density in the purchase times, divided by unit
	// once per purchase counted (L = unit^−x · L in units of unit).
	info.LogLikelihood -= sumX * math.Log(unit)
	info.rescale([]int{1, 3}, unit)
	return ParetoNBD{p[0], p[1] * unit, p[2], p[3] * unit}, info, ev, nil
}

// LogLikelihood returns the total Pareto/NBD log-likelihood of the
// customers' calibration rows under m.
func (m ParetoNBD) LogLikelihood(customers []Customer) (res float64, resErr error) {
	defer checked("Pareto/NBD log-likelihood", math.Inf(-1), math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	rows, _, err := collapseRFM(customers)
	if err != nil {
		return 0, err
	}
	var ll float64
	for _, r := range rows {
		l, _, err := m.logTerms(r.x, r.tx, r.t)
		if err != nil {
			return 0, fmt.Errorf("%w: Pareto/NBD likelihood at (x=%v, t_x=%v, T=%v): %w", ErrNoConvergence, r.x, r.tx, r.t, err)
		}
		ll += r.w * l
	}
	return ll, nil
}

// ProbabilityAlive returns P(customer still active at T | Frequency,
// Recency, T).
func (m ParetoNBD) ProbabilityAlive(c Customer) (res float64, resErr error) {
	defer checked("Pareto/NBD probability alive", 0, 1, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkCustomer(c); err != nil {
		return 0, err
	}
	_, lo, err := m.logTerms(float64(c.Frequency), c.Recency, c.T)
	if err != nil {
		return 0, fmt.Errorf("%w: Pareto/NBD probability alive: %w", ErrNoConvergence, err)
	}
	return 1 / (1 + math.Exp(lo)), nil
}

// ConditionalExpectedPurchases returns the expected number of purchases of
// customer c in the next t time units after T:
//
//	(r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive),
//
// evaluated stably at and near s = 1.
func (m ParetoNBD) ConditionalExpectedPurchases(t float64, c Customer) (res float64, resErr error) {
	defer checked("Pareto/NBD conditional expected purchases", 0, math.MaxFloat64, &res, &resErr)
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	alive, err := m.ProbabilityAlive(c)
	if err != nil {
		return 0, err
	}
	x := float64(c.Frequency)
	return (m.R + x) / (m.Alpha + c.T) * (m.Beta + c.T) * m.lifetimeFactor(c.T, t) * alive, nil
}

// ExpectedPurchases returns E[X(t)], the expected number of repeat
// purchases of a newly acquired customer in the t time units after the
// first purchase: rβ/(α(s−1)) · [1 − (β/(β+t))^(s−1)].
func (m ParetoNBD) ExpectedPurchases(t float64) (res float64, resErr error) {
	defer checked("Pareto/NBD expected purchases", 0, math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	return m.R / m.Alpha * m.Beta * m.lifetimeFactor(0, t), nil
}

// lifetimeFactor returns [1 − ((β+T)/(β+T+t))^(s−1)] / (s−1), with the
// limit ln((β+T+t)/(β+T)) at s = 1.
func (m ParetoNBD) lifetimeFactor(T, t float64) float64 {
	q := -math.Log1p(t / (m.Beta + T)) // ln((β+T)/(β+T+t))
	if m.S == 1 {
		return -q
	}
	return -math.Expm1((m.S-1)*q) / (m.S - 1)
}
