package clv

import (
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// MBGNBD holds the parameters of the modified beta-geometric/NBD model of
// Batislam, Denizel & Filiztekin (2007), "Empirical validation and
// comparison of models for customer base analysis", International Journal
// of Research in Marketing 24(3). It is the BG/NBD model except that a
// customer may also drop out right after the first purchase (time 0), so
// a customer without repeat purchases is not certainly alive: while
// active, a customer buys as a Poisson process with rate
// λ ~ Gamma(shape R, rate Alpha); at time 0 and after each purchase the
// customer drops out with probability p ~ Beta(A, B). Alpha is in the
// time unit of the data.
type MBGNBD struct {
	R     float64 // shape of the gamma distribution of purchase rates
	Alpha float64 // rate (inverse scale) of that gamma distribution, in the data's time unit
	A     float64 // first shape parameter of the beta distribution of dropout probabilities
	B     float64 // second shape parameter of that beta distribution
}

// Validate reports an error wrapping [ErrInvalidInput] unless all four
// parameters are finite and positive.
func (m MBGNBD) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"MBGNBD.R", m.R}, {"MBGNBD.Alpha", m.Alpha}, {"MBGNBD.A", m.A}, {"MBGNBD.B", m.B}} {
		if err := checkPositive(p.name, p.v); err != nil {
			return err
		}
	}
	return nil
}

// String formats the parameters with 4 decimals.
func (m MBGNBD) String() string {
	return fmt.Sprintf("mbgnbd r=%.4f alpha=%.4f a=%.4f b=%.4f", m.R, m.Alpha, m.A, m.B)
}

// mbgEval evaluates the MBG/NBD log-likelihood of collapsed rows with its
// gradient, computing the terms that depend on x alone once per distinct
// x and the logarithms of α+T and α+t_x once per distinct time.
type mbgEval struct {
	rows          []rfmRow
	xk, tk, txk   []int32 // per row: indices into xs, ts
	xs, ts        []float64
	g, c2, invB   []float64 // per x: ln Γ(r+x)/Γ(r) + ln B(a,b+x+1)/B(a,b); ln(a/(b+x)); 1/(b+x)
	dgr, dga, dgb []float64 // per x: derivatives of g in r, a, b
	lt, it        []float64 // per time: ln(α+t), 1/(α+t)
}

func newMBGEval(rows []rfmRow) *mbgEval {
	n := len(rows)
	e := &mbgEval{rows: rows, xk: make([]int32, n), tk: make([]int32, n), txk: make([]int32, n)}
	xi, ti := newIndexer(), newIndexer()
	for i, r := range rows {
		e.xk[i], e.tk[i], e.txk[i] = xi.of(r.x), ti.of(r.t), ti.of(r.tx)
	}
	e.xs, e.ts = xi.vals, ti.vals
	nx := len(e.xs)
	e.g, e.c2, e.invB = make([]float64, nx), make([]float64, nx), make([]float64, nx)
	e.dgr, e.dga, e.dgb = make([]float64, nx), make([]float64, nx), make([]float64, nx)
	e.lt, e.it = make([]float64, len(e.ts)), make([]float64, len(e.ts))
	return e
}

// logLik returns the total MBG/NBD log-likelihood at m and, if grad is
// non-nil, its gradient with respect to (r, α, a, b). Per customer
// (Batislam et al. 2007, eq. 3):
//
//	L = Γ(r+x) α^r / Γ(r) · B(a, b+x+1)/B(a, b)
//	    · [ (α+T)^−(r+x) + a/(b+x) · (α+t_x)^−(r+x) ].
func (e *mbgEval) logLik(m MBGNBD, grad []float64) float64 {
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	lal := math.Log(al)
	var psir, psiab, psib float64
	if grad != nil {
		psir, psiab, psib = numeric.Digamma(r), numeric.Digamma(a+b), numeric.Digamma(b)
	}
	for k, x := range e.xs {
		// (As ratios of log-gammas: see BG/NBD's.)
		e.g[k] = numeric.LogGammaRatio(r, x, 0) + numeric.LogGammaRatio(b, x+1, 0) - numeric.LogGammaRatio(a+b, x+1, 0)
		e.c2[k] = math.Log(a / (b + x))
		e.invB[k] = 1 / (b + x)
		if grad != nil {
			psiabx := numeric.Digamma(a + b + x + 1)
			e.dgr[k] = numeric.Digamma(r+x) - psir
			e.dga[k] = psiab - psiabx
			e.dgb[k] = numeric.Digamma(b+x+1) - psiabx - psib + psiab
		}
	}
	for j, t := range e.ts {
		e.lt[j] = math.Log(al + t)
		e.it[j] = 1 / (al + t)
	}
	var ll, wsum, gr, gal, ga, gb float64
	for i, row := range e.rows {
		k, x, w := e.xk[i], row.x, row.w
		rx := r + x
		lT, lTx := e.lt[e.tk[i]], e.lt[e.txk[i]]
		u1 := -rx * lT
		u2 := e.c2[k] - rx*lTx
		// ln(e^u1 + e^u2) and the weight e^u2/(e^u1 + e^u2), one exp.
		d := u2 - u1
		ex := math.Exp(-math.Abs(d))
		lse, w2 := u1+math.Log1p(ex), ex/(1+ex)
		if d > 0 {
			lse, w2 = u2+math.Log1p(ex), 1/(1+ex)
		}
		ll += w * (e.g[k] + lse)
		wsum += w
		if grad != nil {
			w1 := 1 - w2
			gr += w * (e.dgr[k] - w1*lT - w2*lTx)
			gal -= w * rx * (w1*e.it[e.tk[i]] + w2*e.it[e.txk[i]])
			ga += w * (e.dga[k] + w2/a)
			gb += w * (e.dgb[k] - w2*e.invB[k])
		}
	}
	ll += wsum * r * lal
	if grad != nil {
		grad[0], grad[1], grad[2], grad[3] = gr+wsum*lal, gal+wsum*r/al, ga, gb
	}
	return ll
}

// FitMBGNBD estimates the MBG/NBD parameters by maximum likelihood from the
// calibration RFM rows (Frequency, Recency, T) of customers, collapsing
// identical rows first. The optimiser is BFGS on the log-parameters with
// analytic gradients; standard errors are reported in the FitInfo as for
// [FitBGNBD]. Errors are as for [FitBGNBD].
func FitMBGNBD(customers []Customer, opts *FitOptions) (MBGNBD, FitInfo, error) {
	if err := checkFitOptions(opts); err != nil {
		return MBGNBD{}, FitInfo{}, err
	}
	rows, sumT, err := collapseRFM(customers)
	if err != nil {
		return MBGNBD{}, FitInfo{}, err
	}
	n := float64(len(customers))
	info := FitInfo{Customers: len(customers), DistinctRows: len(rows)}
	var sumX float64
	for _, r := range rows {
		sumX += r.w * r.x
	}
	ev := newMBGEval(rows)
	g4 := make([]float64, 4)
	f := func(th, grad []float64) float64 {
		m := MBGNBD{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
		if m.Validate() != nil {
			return math.Inf(1)
		}
		var gp []float64
		if grad != nil {
			gp = g4
		}
		ll := ev.logLik(m, gp)
		if grad != nil {
			grad[0] = -gp[0] * m.R / n
			grad[1] = -gp[1] * m.Alpha / n
			grad[2] = -gp[2] * m.A / n
			grad[3] = -gp[3] * m.B / n
		}
		return -ll / n
	}
	rate := (sumX + 1) / (sumT + 1)
	starts := [][]float64{
		{0, math.Log(1 / rate), 0, 0},
		{math.Log(0.5), math.Log(0.5 / rate), math.Log(0.5), math.Log(3)},
		{math.Log(0.1), math.Log(0.1), math.Log(0.1), math.Log(0.1)},
	}
	p, err := fitLog("MBG/NBD", []string{"r", "alpha", "a", "b"}, f, nil, starts, n, opts, &info)
	if err != nil {
		return MBGNBD{}, info, err
	}
	return MBGNBD{p[0], p[1], p[2], p[3]}, info, nil
}

// LogLikelihood returns the total MBG/NBD log-likelihood of the customers'
// calibration rows under m.
func (m MBGNBD) LogLikelihood(customers []Customer) (res float64, resErr error) {
	defer checked("MBG/NBD log-likelihood", math.Inf(-1), math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	rows, _, err := collapseRFM(customers)
	if err != nil {
		return 0, err
	}
	return newMBGEval(rows).logLik(m, nil), nil
}

// logOdds returns ln[(a/(b+x)) ((α+T)/(α+t_x))^(r+x)], the log of the odds
// that the customer has dropped out.
func (m MBGNBD) logOdds(c Customer) float64 {
	x := float64(c.Frequency)
	return math.Log(m.A/(m.B+x)) + (m.R+x)*(math.Log(m.Alpha+c.T)-math.Log(m.Alpha+c.Recency))
}

// ProbabilityAlive returns P(customer still active at T | Frequency,
// Recency, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)). Unlike BG/NBD it
// is below 1 for customers without repeat purchases.
func (m MBGNBD) ProbabilityAlive(c Customer) (res float64, resErr error) {
	defer checked("MBG/NBD probability alive", 0, 1, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkCustomer(c); err != nil {
		return 0, err
	}
	return 1 / (1 + math.Exp(m.logOdds(c))), nil
}

// ConditionalExpectedPurchases returns the expected number of purchases of
// customer c in the next t time units after T (Batislam et al. 2007):
//
//	(a+b+x)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x+1; a+b+x; t/(α+T+t))]
//	· P(alive),
//
// the BG/NBD expression with b replaced by b+1 (the posterior of the
// dropout probability of an active customer is Beta(a, b+x+1)), evaluated
// stably at and near a = 1.
func (m MBGNBD) ConditionalExpectedPurchases(t float64, c Customer) (res float64, resErr error) {
	defer checked("MBG/NBD conditional expected purchases", 0, math.MaxFloat64, &res, &resErr)
	alive, err := m.ProbabilityAlive(c)
	if err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	v, err := BGNBD{m.R, m.Alpha, m.A, m.B + 1}.expectedRepeat(float64(c.Frequency), c.T, t)
	if err != nil {
		return 0, fmt.Errorf("MBG/NBD: %w", err)
	}
	return v * alive, nil
}

// ExpectedPurchases returns E[X(t)], the expected number of repeat
// purchases of a newly acquired customer in the t time units after the
// first purchase: b/(a−1) · [1 − (α/(α+t))^r 2F1(r, b+1; a+b; t/(α+t))].
func (m MBGNBD) ExpectedPurchases(t float64) (res float64, resErr error) {
	defer checked("MBG/NBD expected purchases", 0, math.MaxFloat64, &res, &resErr)
	return m.ConditionalExpectedPurchases(t, Customer{})
}
