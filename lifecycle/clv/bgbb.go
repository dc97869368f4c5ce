package clv

import (
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// DiscreteCustomer is the history of a customer (or of Count identical
// customers) in a setting with discrete transaction opportunities, such
// as yearly donation campaigns or annual events: of Periods opportunities
// after the first transaction, the customer transacted at Frequency of
// them, the last at opportunity Recency (0 if none). It is the data of the
// BG/BB model ([FitBGBB]).
type DiscreteCustomer struct {
	// ID optionally identifies the customer (used in error messages).
	ID string
	// Frequency x is the number of repeat transactions, 0 ≤ x ≤ Recency.
	Frequency int
	// Recency t_x is the opportunity (1..Periods) of the last repeat
	// transaction; 0 when Frequency is 0.
	Recency int
	// Periods n is the number of transaction opportunities observed
	// after the first transaction, n ≥ Recency and n ≥ 1, at most
	// [MaxOpportunities] (the likelihood sums over the opportunities
	// after Recency, stopping once the terms left cannot change the sum:
	// a history's cost grows with n only where the terms fall slowly,
	// at small α and γ).
	Periods int
	// Count is the number of identical customers this row stands for
	// (aggregated data such as the paper's table); 0 counts as 1.
	Count float64
}

// MaxOpportunities bounds [DiscreteCustomer].Periods: 1,000,000.
const MaxOpportunities = 1_000_000

// checkDiscrete validates one BG/BB row.
func checkDiscrete(i int, c DiscreteCustomer) error {
	who := func() string {
		if c.ID != "" {
			return fmt.Sprintf("customers[%d] (%q)", i, c.ID)
		}
		return fmt.Sprintf("customers[%d]", i)
	}
	switch {
	case c.Periods < 1 || c.Periods > MaxOpportunities:
		return invalidf("%s: Periods = %d, must be from 1 to %d", who(), c.Periods, MaxOpportunities)
	case c.Frequency < 0:
		return invalidf("%s: Frequency = %d, must be ≥ 0", who(), c.Frequency)
	case c.Recency < 0 || c.Recency > c.Periods:
		return invalidf("%s: Recency = %d, must be in [0, Periods = %d]", who(), c.Recency, c.Periods)
	case c.Frequency > c.Recency:
		return invalidf("%s: Frequency = %d exceeds Recency = %d", who(), c.Frequency, c.Recency)
	case c.Frequency == 0 && c.Recency != 0:
		return invalidf("%s: Recency = %d with Frequency = 0, must be 0", who(), c.Recency)
	case c.Frequency > 0 && c.Recency == 0:
		return invalidf("%s: Recency = 0 with Frequency = %d, must be ≥ 1", who(), c.Frequency)
	case !(c.Count >= 0) || math.IsInf(c.Count, 0):
		return invalidf("%s: Count = %v, must be finite and ≥ 0", who(), c.Count)
	}
	return nil
}

// BGBB holds the parameters of the beta-geometric/beta-Bernoulli model of
// Fader, Hardie & Shang (2010), "Customer-Base Analysis in a Discrete-Time
// Noncontractual Setting", Marketing Science 29(6). While alive, a customer
// transacts at each opportunity with probability p ~ Beta(Alpha, Beta);
// at the start of each opportunity after the first transaction a customer
// becomes inactive with probability θ ~ Beta(Gamma, Delta).
type BGBB struct {
	Alpha, Beta  float64 // beta distribution of the transaction probability p
	Gamma, Delta float64 // beta distribution of the dropout probability θ
}

// Validate reports an error wrapping [ErrInvalidInput] unless all four
// parameters are finite and positive.
func (m BGBB) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"BGBB.Alpha", m.Alpha}, {"BGBB.Beta", m.Beta}, {"BGBB.Gamma", m.Gamma}, {"BGBB.Delta", m.Delta}} {
		if err := checkPositive(p.name, p.v); err != nil {
			return err
		}
	}
	return nil
}

// String formats the parameters with 4 decimals.
func (m BGBB) String() string {
	return fmt.Sprintf("bgbb alpha=%.4f beta=%.4f gamma=%.4f delta=%.4f", m.Alpha, m.Beta, m.Gamma, m.Delta)
}

// logTerms returns ln L (Fader, Hardie & Shang 2010, eq. 5) and ln of its
// "alive through n" term:
//
//	L = B(α+x, β+n−x)/B(α,β) · B(γ, δ+n)/B(γ,δ)
//	  + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α,β) · B(γ+1, δ+t_x+i)/B(γ,δ).
//
// The terms of the sum follow from the first by the recurrence
// B(u, v+1)/B(u, v) = v/(u+v), so only the first needs log-beta values.
func (m BGBB) logTerms(x, tx, n int) (ll, lAlive float64) {
	a, b, g, d := m.Alpha, m.Beta, m.Gamma, m.Delta
	lab, lgd := numeric.LogBeta(a, b), numeric.LogBeta(g, d)
	fx, ftx, fn := float64(x), float64(tx), float64(n)
	lAlive = numeric.LogBeta(a+fx, b+(fn-fx)) - lab + numeric.LogBeta(g, d+fn) - lgd
	if tx >= n {
		return lAlive, lAlive
	}
	// Σ_i of the terms relative to the first (i = 0), each at most 1.
	l0 := numeric.LogBeta(a+fx, b+(ftx-fx)) - lab + numeric.LogBeta(g+1, d+ftx) - lgd
	sum, term := 1.0, 1.0
	for i, left := 0, n-tx-1; i < left; i++ {
		fi := float64(i)
		term *= (b + (ftx - fx + fi)) / (a + b + ftx + fi) * (d + ftx + fi) / (g + 1 + d + ftx + fi)
		sum += term
		// Each factor is below 1, so the terms decrease: the rest of the
		// sum is at most term times the terms left. Once that is below
		// the sum's last bit, they cannot change it.
		if float64(left-1-i)*term <= 0x1p-54*sum {
			break
		}
	}
	return numeric.LogSumExp(lAlive, l0+math.Log(sum)), lAlive
}

// bbRow is a distinct BG/BB history with its weight.
type bbRow struct {
	x, tx, n int
	w        float64
}

func collapseDiscrete(customers []DiscreteCustomer) ([]bbRow, float64, error) {
	if len(customers) == 0 {
		return nil, 0, invalidf("customers: empty")
	}
	type key struct{ x, tx, n int }
	idx := make(map[key]int)
	var rows []bbRow
	var total float64
	for i, c := range customers {
		if err := checkDiscrete(i, c); err != nil {
			return nil, 0, err
		}
		w := c.Count
		if w == 0 {
			w = 1
		}
		k := key{c.Frequency, c.Recency, c.Periods}
		if j, ok := idx[k]; ok {
			rows[j].w += w
		} else {
			idx[k] = len(rows)
			rows = append(rows, bbRow{k.x, k.tx, k.n, w})
		}
		total += w
	}
	return rows, total, nil
}

// FitBGBB estimates the BG/BB parameters by maximum likelihood from
// discrete-time histories (identical rows merged, Count used as weight).
// The optimiser is BFGS on the log-parameters with central-difference
// gradients; standard errors are reported in the FitInfo ([Estimate]),
// with n the total count of customers. Invalid rows (Frequency >
// Recency > Periods, negative values, Recency ≠ 0 with Frequency 0, a
// NaN or negative Count) or an empty slice give an error wrapping
// [ErrInvalidInput]; failure to converge an error wrapping
// [ErrNoConvergence]. Its cost is that of the log-likelihood times the
// optimiser's evaluations, each summing per distinct row over up to the
// opportunities after its Recency (see [DiscreteCustomer].Periods): with
// histories of hundreds of thousands of opportunities, where the search
// tries small α and γ, a fit can take seconds (two rows of a million
// opportunities took 8 s on one core before failing to converge);
// [FitOptions].MaxIterations bounds it.
func FitBGBB(customers []DiscreteCustomer, opts *FitOptions) (BGBB, FitInfo, error) {
	if err := checkFitOptions(opts); err != nil {
		return BGBB{}, FitInfo{}, err
	}
	rows, n, err := collapseDiscrete(customers)
	if err != nil {
		return BGBB{}, FitInfo{}, err
	}
	if n > 1<<53 { // or +Inf
		return BGBB{}, FitInfo{}, invalidf("customers: the Counts add up to %v, more than 2^53 customers", n)
	}
	info := FitInfo{Customers: int(math.Round(n)), DistinctRows: len(rows)}
	nll := func(th []float64) float64 {
		m := BGBB{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
		if m.Validate() != nil {
			return math.Inf(1)
		}
		var ll float64
		for _, r := range rows {
			l, _ := m.logTerms(r.x, r.tx, r.n)
			ll += r.w * l
		}
		return -ll / n
	}
	starts := [][]float64{
		{0, 0, 0, 0},
		{math.Log(0.5), math.Log(0.5), math.Log(0.5), math.Log(2)},
		{math.Log(2), math.Log(2), math.Log(0.2), math.Log(5)},
	}
	p, err := fitLog("BG/BB", []string{"alpha", "beta", "gamma", "delta"}, numeric.CentralDifference(nll, 1e-6), nll, starts, n, opts, &info)
	if err != nil {
		return BGBB{}, info, err
	}
	return BGBB{p[0], p[1], p[2], p[3]}, info, nil
}

// LogLikelihood returns the total BG/BB log-likelihood of the histories
// under m (rows weighted by Count).
func (m BGBB) LogLikelihood(customers []DiscreteCustomer) (res float64, resErr error) {
	// A log-probability: above 0 (beyond rounding) is lost precision.
	defer checked("BG/BB log-likelihood", math.Inf(-1), 1e-6, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	rows, _, err := collapseDiscrete(customers)
	if err != nil {
		return 0, err
	}
	var ll float64
	for _, r := range rows {
		l, _ := m.logTerms(r.x, r.tx, r.n)
		ll += r.w * l
	}
	return ll, nil
}

// ProbabilityAlive returns the probability that customer c is still alive
// at opportunity Periods+1 (Fader, Hardie & Shang 2010, eq. 11):
//
//	B(α+x, β+n−x)/B(α,β) · B(γ, δ+n+1)/B(γ,δ) / L.
func (m BGBB) ProbabilityAlive(c DiscreteCustomer) (res float64, resErr error) {
	defer checked("BG/BB probability alive", 0, 1, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkDiscrete(0, c); err != nil {
		return 0, err
	}
	ll, lAlive := m.logTerms(c.Frequency, c.Recency, c.Periods)
	// B(γ, δ+n+1)/B(γ, δ+n) = (δ+n)/(γ+δ+n).
	fn := float64(c.Periods)
	return math.Exp(lAlive-ll) * (m.Delta + fn) / (m.Gamma + m.Delta + fn), nil
}

// ConditionalExpectedPurchases returns the expected number of transactions
// of customer c in the next `periods` opportunities, Periods+1 to
// Periods+periods (Fader, Hardie & Shang 2010, eq. 13):
//
//	1/L · B(α+x+1, β+n−x)/B(α,β) · Σ_{j=1}^{n*} B(γ, δ+n+j)/B(γ,δ),
//
// where the sum has the closed form δ/(γ−1) · Γ(γ+δ)/Γ(1+δ) ·
// [Γ(1+δ+n)/Γ(γ+δ+n) − Γ(1+δ+n+n*)/Γ(γ+δ+n+n*)], used for horizons
// past 1,000 opportunities away from γ = 1; within 1e-3 of γ = 1 the
// sum is added up to 1,000,000 opportunities, and past that the closed
// form's limit from a second-order expansion in γ−1 is used (at γ = 1
// the sum is δ [ψ(1+δ+n+n*) − ψ(1+δ+n)]). A result outside
// [0, periods], which only a loss of precision or an overflow in these
// forms could give, is an error wrapping [ErrNoConvergence].
func (m BGBB) ConditionalExpectedPurchases(periods int, c DiscreteCustomer) (res float64, resErr error) {
	defer checked("BG/BB conditional expected purchases", 0, math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkDiscrete(0, c); err != nil {
		return 0, err
	}
	if periods < 0 {
		return 0, invalidf("periods = %d, must be ≥ 0", periods)
	}
	if periods == 0 {
		return 0, nil
	}
	ll, _ := m.logTerms(c.Frequency, c.Recency, c.Periods)
	a, b := m.Alpha, m.Beta
	fx, fn := float64(c.Frequency), float64(c.Periods)
	lp := numeric.LogBeta(a+fx+1, b+(fn-fx)) - numeric.LogBeta(a, b) - ll
	// In one exponent: each alone may overflow or underflow where the
	// product does not (γ = 1000 after 1,000 opportunities: ∞ · 0).
	v := math.Exp(lp + m.logSurvivalSum(fn, periods))
	if !(v >= 0 && v <= float64(periods)*(1+1e-9)) {
		return 0, fmt.Errorf("%w: BG/BB conditional expected purchases: the closed form lost its precision (periods = %d, got %v, outside [0, periods])", ErrNoConvergence, periods, v)
	}
	return v, nil
}

// survivalSum returns Σ_{j=1}^{k} B(γ, δ+n+j)/B(γ, δ), the expected number
// of the opportunities n+1..n+k at which a customer is alive (unconditionally).
func (m BGBB) survivalSum(n float64, k int) float64 { return math.Exp(m.logSurvivalSum(n, k)) }

// logSurvivalSum returns the logarithm of survivalSum, which may be below
// the smallest float64 (γ large, n long) where its product with the
// conditional factor is not.
func (m BGBB) logSurvivalSum(n float64, k int) float64 {
	g, d := m.Gamma, m.Delta
	lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
	switch eps := g - 1; {
	case k > 1000 && math.Abs(eps) > 1e-3:
		// Closed form in log-gamma ratios (each from its asymptotic
		// series at long horizons, where the difference of two
		// log-gamma values keeps no digits), t1 − t2 as
		// −t1·expm1(r2 − r1).
		// (The constant's log-gamma difference and r1 in one exponent:
		// each alone overflows for γ+δ past about 170.)
		r1 := numeric.LogGammaRatio(d+n, 1, g)
		r2 := numeric.LogGammaRatio(d+n+float64(k), 1, g)
		return lg(g+d) - lg(1+d) + r1 + math.Log(-d/eps*math.Expm1(r2-r1))
	case k > 1_000_000:
		// The same near γ = 1, where it is 0/0 (and the sum below would
		// take k steps): with x = 1+δ+n and
		// L(x) = ln Γ(x+ε) − ln Γ(x) = ε ψ(x) + ε²/2 ψ'(x) + O(ε³),
		// t1 − t2 = e^−L(x1) (1 − e^−(L(x2)−L(x1))), and the division
		// by ε is done analytically: D = (L(x2) − L(x1))/ε.
		x1, x2 := 1+d+n, 1+d+n+float64(k)
		D := numeric.Digamma(x2) - numeric.Digamma(x1) + eps/2*(numeric.Trigamma(x2)-numeric.Trigamma(x1))
		l1 := eps*numeric.Digamma(x1) + eps*eps/2*numeric.Trigamma(x1)
		ratio := D // (1 − e^−εD)/ε, whose limit at ε = 0 is D
		if eps != 0 {
			ratio = -math.Expm1(-eps*D) / eps
		}
		return math.Log(d) + lg(g+d) - lg(1+d) - l1 + math.Log(ratio)
	}
	// S_j = B(γ, δ+j)/B(γ, δ) obeys S_j = S_{j−1}·(δ+j−1)/(γ+δ+j−1);
	// summed relative to S_n, whose logarithm is added at the end.
	s := 1.0
	var sum float64
	for j := 1; j <= k; j++ {
		s *= (d + (n + float64(j) - 1)) / (g + d + (n + float64(j) - 1))
		sum += s
	}
	return numeric.LogBeta(g, d+n) - numeric.LogBeta(g, d) + math.Log(sum)
}

// ExpectedPurchases returns the expected number of transactions of a newly
// acquired customer at the first n opportunities:
// α/(α+β) · Σ_{j=1}^{n} B(γ, δ+j)/B(γ,δ), in the closed form
// [BGBB.ConditionalExpectedPurchases] describes for long horizons, whose
// log-gamma ratios come from their asymptotic series there (about 1e-12
// relative away from γ = 1; within 10^-3 of it, past 10^6 opportunities,
// about 1e-8). A result outside [0, n], which only a loss of precision or
// an overflow in these forms could give, is an error wrapping
// [ErrNoConvergence].
func (m BGBB) ExpectedPurchases(n int) (res float64, resErr error) {
	defer checked("BG/BB expected purchases", 0, math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, invalidf("n = %d, must be ≥ 0", n)
	}
	v := m.Alpha / (m.Alpha + m.Beta) * m.survivalSum(0, n)
	if !(v >= 0 && v <= float64(n)*(1+1e-9)) {
		return 0, fmt.Errorf("%w: BG/BB expected purchases: the closed form lost its precision (n = %d, got %v, outside [0, n])", ErrNoConvergence, n, v)
	}
	return v, nil
}
