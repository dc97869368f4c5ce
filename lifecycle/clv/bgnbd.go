package clv

import (
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// BGNBD holds the parameters of the beta-geometric/NBD model of Fader,
// Hardie & Lee (2005), "Counting Your Customers the Easy Way", Marketing
// Science 24(2). While active, a customer buys as a Poisson process with rate
// λ ~ Gamma(shape R, rate Alpha); after each purchase the customer drops out
// with probability p ~ Beta(A, B). Alpha is in the time unit of the data.
type BGNBD struct {
	R     float64 // shape of the gamma distribution of purchase rates
	Alpha float64 // rate (inverse scale) of that gamma distribution, in the data's time unit
	A     float64 // first shape parameter of the beta distribution of dropout probabilities
	B     float64 // second shape parameter of that beta distribution
}

// Validate reports an error wrapping [ErrInvalidInput] unless all four
// parameters are finite and positive.
func (m BGNBD) Validate() error {
	for _, p := range []struct {
		name string
		v    float64
	}{{"BGNBD.R", m.R}, {"BGNBD.Alpha", m.Alpha}, {"BGNBD.A", m.A}, {"BGNBD.B", m.B}} {
		if err := checkPositive(p.name, p.v); err != nil {
			return err
		}
	}
	return nil
}

// String formats the parameters with 4 decimals.
func (m BGNBD) String() string {
	return fmt.Sprintf("bgnbd r=%.4f alpha=%.4f a=%.4f b=%.4f", m.R, m.Alpha, m.A, m.B)
}

// bgRow is a collapsed customer with Frequency > 0.
type bgRow struct {
	x, t, tx int32 // indices into xs, ts, txs
	w        float64
}

// bgData is a BG/NBD data set with identical customers collapsed.
type bgData struct {
	xs, ts, txs []float64
	wx          []float64 // total weight per distinct x (x > 0)
	w0          []float64 // weight of Frequency-0 customers per distinct T
	rows        []bgRow   // customers with Frequency > 0
	wTotal      float64
	sumX, sumT  float64
	distinct    int
}

func newBGData(customers []Customer) (*bgData, error) {
	tb, sumX, sumT, err := collapseCustomers(customers)
	if err != nil {
		return nil, err
	}
	d := &bgData{wTotal: float64(len(customers)), sumX: sumX, sumT: sumT, distinct: len(tb.keys)}
	xi, ti, txi := newIndexer(), newIndexer(), newIndexer()
	for i, k := range tb.keys {
		w := tb.counts[i]
		t := ti.of(k.t)
		if k.x == 0 {
			for int(t) >= len(d.w0) {
				d.w0 = append(d.w0, 0)
			}
			d.w0[t] += w
			continue
		}
		d.rows = append(d.rows, bgRow{x: xi.of(float64(k.x)), t: t, tx: txi.of(k.tx), w: w})
	}
	d.xs, d.ts, d.txs = xi.vals, ti.vals, txi.vals
	for len(d.w0) < len(d.ts) {
		d.w0 = append(d.w0, 0)
	}
	d.wx = make([]float64, len(d.xs))
	for _, r := range d.rows {
		d.wx[r.x] += r.w
	}
	return d, nil
}

// bgEval evaluates the BG/NBD log-likelihood and its gradient.
type bgEval struct {
	d *bgData
	// per distinct x
	g, dgr, dga, dgb, c2, invB, sw2 []float64
	// per distinct T and t_x
	lt, it, ltx, itx []float64
}

func newBGEval(d *bgData) *bgEval {
	nx := len(d.xs)
	return &bgEval{
		d: d,
		g: make([]float64, nx), dgr: make([]float64, nx), dga: make([]float64, nx),
		dgb: make([]float64, nx), c2: make([]float64, nx), invB: make([]float64, nx),
		sw2: make([]float64, nx),
		lt:  make([]float64, len(d.ts)), it: make([]float64, len(d.ts)),
		ltx: make([]float64, len(d.txs)), itx: make([]float64, len(d.txs)),
	}
}

// logLik returns the total log-likelihood at m; if grad is non-nil it
// receives the gradient with respect to (r, α, a, b).
func (e *bgEval) logLik(m BGNBD, grad []float64) float64 {
	d := e.d
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	var psir, psiab, psib float64
	if grad != nil {
		psir, psiab, psib = numeric.Digamma(r), numeric.Digamma(a+b), numeric.Digamma(b)
	}
	for k, x := range d.xs {
		// Terms depending on x only: ln Γ(r+x)/Γ(r) + ln B(a, b+x)/B(a, b)
		// and ln(a / (b+x−1)).
		// (As ratios of log-gammas: the differences of log-betas kept no
		// digit at a and b near 10¹⁶, and gave +250 for −0.64.)
		e.g[k] = numeric.LogGammaRatio(r, x, 0) + numeric.LogGammaRatio(b, x, 0) - numeric.LogGammaRatio(a+b, x, 0)
		e.c2[k] = math.Log(a / (b + (x - 1)))
		e.invB[k] = 1 / (b + (x - 1))
		if grad != nil {
			psiabx := numeric.Digamma(a + b + x)
			e.dgr[k] = numeric.Digamma(r+x) - psir
			e.dga[k] = psiab - psiabx
			e.dgb[k] = numeric.Digamma(b+x) - psiabx - psib + psiab
		}
		e.sw2[k] = 0
	}
	for j, t := range d.ts {
		e.lt[j] = math.Log(al + t)
		e.it[j] = 1 / (al + t)
	}
	for j, t := range d.txs {
		e.ltx[j] = math.Log(al + t)
		e.itx[j] = 1 / (al + t)
	}
	var ll, sR, sAl float64
	// Frequency-0 customers: ln L = r ln α − r ln(α+T).
	for j, w := range d.w0 {
		if w == 0 {
			continue
		}
		ll -= w * r * e.lt[j]
		sR -= w * e.lt[j]
		sAl -= w * r * e.it[j]
	}
	// Repeat customers: ln L = g(x) + r ln α − (r+x) ln(α+T) + ln(1 + e^δ),
	// δ = ln(a/(b+x−1)) + (r+x) ln((α+T)/(α+t_x)).
	for _, row := range d.rows {
		k := row.x
		rx := r + d.xs[k]
		lT, lTx := e.lt[row.t], e.ltx[row.tx]
		delta := e.c2[k] + rx*(lT-lTx)
		ex := math.Exp(-math.Abs(delta))
		var l, w2 float64
		if delta > 0 {
			l = delta + math.Log1p(ex)
			w2 = 1 / (1 + ex)
		} else {
			l = math.Log1p(ex)
			w2 = ex / (1 + ex)
		}
		w := row.w
		ll += w * (e.g[k] - rx*lT + l)
		if grad != nil {
			sR += w * (w2*(lT-lTx) - lT)
			sAl += w * rx * (w2*(e.it[row.t]-e.itx[row.tx]) - e.it[row.t])
			e.sw2[k] += w * w2
		}
	}
	lnAl := math.Log(al)
	ll += d.wTotal * r * lnAl
	if grad != nil {
		gr := sR + d.wTotal*lnAl
		var ga, gb float64
		for k := range d.xs {
			gr += d.wx[k] * e.dgr[k]
			ga += d.wx[k]*e.dga[k] + e.sw2[k]/a
			gb += d.wx[k]*e.dgb[k] - e.sw2[k]*e.invB[k]
		}
		grad[0], grad[1], grad[2], grad[3] = gr, sAl+d.wTotal*r/al, ga, gb
	}
	return ll
}

// FitBGNBD estimates the BG/NBD parameters by maximum likelihood from the
// calibration RFM rows (Frequency, Recency, T) of customers. Customers with
// identical rows are collapsed into weighted rows first. The optimiser is
// BFGS on the log-parameters with analytic gradients, started from a
// moment-based guess and, if that fails, from two further points.
//
// Invalid rows (negative or NaN values, Recency > T, Recency ≠ 0 with
// Frequency 0) or an empty slice give an error wrapping [ErrInvalidInput];
// failure to converge (for example when nobody repeats, so the maximum lies
// at the boundary) gives an error wrapping [ErrNoConvergence].
func FitBGNBD(customers []Customer, opts *FitOptions) (BGNBD, FitInfo, error) {
	if err := checkFitOptions(opts); err != nil {
		return BGNBD{}, FitInfo{}, err
	}
	d, err := newBGData(customers)
	if err != nil {
		return BGNBD{}, FitInfo{}, err
	}
	info := FitInfo{Customers: len(customers), DistinctRows: d.distinct}
	ev := newBGEval(d)
	g4 := make([]float64, 4)
	f := func(th, grad []float64) float64 {
		m := BGNBD{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2]), math.Exp(th[3])}
		if m.Validate() != nil {
			return math.Inf(1)
		}
		var gp []float64
		if grad != nil {
			gp = g4
		}
		ll := ev.logLik(m, gp)
		if grad != nil {
			// Chain rule to log-parameters, scaled to the mean per customer.
			grad[0] = -gp[0] * m.R / d.wTotal
			grad[1] = -gp[1] * m.Alpha / d.wTotal
			grad[2] = -gp[2] * m.A / d.wTotal
			grad[3] = -gp[3] * m.B / d.wTotal
		}
		return -ll / d.wTotal
	}
	// Moment-based scale for α: purchase rate ≈ Σx / ΣT = r/α.
	rate := (d.sumX + 1) / (d.sumT + 1)
	starts := [][]float64{
		{0, math.Log(1 / rate), 0, 0},
		{math.Log(0.5), math.Log(0.5 / rate), math.Log(0.5), math.Log(3)},
		{math.Log(0.1), math.Log(0.1), math.Log(0.1), math.Log(0.1)},
	}
	p, err := fitLog("BG/NBD", []string{"r", "alpha", "a", "b"}, f, nil, starts, d.wTotal, opts, &info)
	if err != nil {
		return BGNBD{}, info, err
	}
	return BGNBD{p[0], p[1], p[2], p[3]}, info, nil
}

// LogLikelihood returns the total BG/NBD log-likelihood of the customers'
// calibration rows under m (Fader, Hardie & Lee 2005, eq. 6).
func (m BGNBD) LogLikelihood(customers []Customer) (res float64, resErr error) {
	defer checked("BG/NBD log-likelihood", math.Inf(-1), math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	d, err := newBGData(customers)
	if err != nil {
		return 0, err
	}
	return newBGEval(d).logLik(m, nil), nil
}

// logOdds returns ln[(a/(b+x−1)) ((α+T)/(α+t_x))^(r+x)], the log of the
// odds that a repeat customer has dropped out; −Inf for Frequency 0.
func (m BGNBD) logOdds(c Customer) float64 {
	if c.Frequency == 0 {
		return math.Inf(-1)
	}
	x := float64(c.Frequency)
	return math.Log(m.A/(m.B+x-1)) + (m.R+x)*(math.Log(m.Alpha+c.T)-math.Log(m.Alpha+c.Recency))
}

// ProbabilityAlive returns P(customer still active at T | Frequency,
// Recency, T). It is 1 for customers with no repeat purchases (the model
// lets customers drop out only after a purchase).
func (m BGNBD) ProbabilityAlive(c Customer) (res float64, resErr error) {
	defer checked("BG/NBD probability alive", 0, 1, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkCustomer(c); err != nil {
		return 0, err
	}
	return 1 / (1 + math.Exp(m.logOdds(c))), nil
}

// ConditionalExpectedPurchases returns the expected number of purchases of
// customer c in the next t time units after T (Fader, Hardie & Lee 2005,
// eq. 10). Where the hypergeometric function loses its precision (b in the
// hundreds and t many times α+T: the result would leave the bounds an
// active customer's posterior rate sets, 0 to t(r+x)/(α+T)) the error wraps
// [ErrNoConvergence] instead of giving a wrong number; so do
// MBG/NBD's, and ExpectedPurchases.
func (m BGNBD) ConditionalExpectedPurchases(t float64, c Customer) (res float64, resErr error) {
	defer checked("BG/NBD conditional expected purchases", 0, math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkCustomer(c); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	v, err := m.expectedRepeat(float64(c.Frequency), c.T, t)
	if err != nil {
		return 0, err
	}
	return v / (1 + math.Exp(m.logOdds(c))), nil
}

// ExpectedPurchases returns E[X(t)], the expected number of repeat
// purchases of a newly acquired customer in the t time units after the
// first purchase (Fader, Hardie & Lee 2005, eq. 9).
func (m BGNBD) ExpectedPurchases(t float64) (res float64, resErr error) {
	defer checked("BG/NBD expected purchases", 0, math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if err := checkHorizon(t); err != nil {
		return 0, err
	}
	return m.expectedRepeat(0, 0, t)
}

// expectedRepeat returns
//
//	(a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) 2F1(r+x, b+x; a+b+x−1; z)]
//
// with z = t/(α+T+t): the expected purchases in (T, T+t] of an active
// customer. By Euler's transformation the bracket equals
// 1 − (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z); writing δ = a−1 and
// (δ)_n = δ(1+δ)_(n−1) lets the 1/(a−1) factor cancel analytically, which is
// stable at and near a = 1.
func (m BGNBD) expectedRepeat(x, T, t float64) (float64, error) {
	if t == 0 {
		return 0, nil
	}
	r, al, a, b := m.R, m.Alpha, m.A, m.B
	z := t / (al + T + t)
	delta := a - 1
	A, C := a+b-1-r, a+b+x-1
	lz := math.Log1p(-z) // ln(1−z)
	if z > 0.5 {
		// 1−z from its own quotient: z rounds to 1 for t far beyond α+T,
		// where 1−z does not.
		lz = math.Log((al + T) / (al + T + t))
	}
	pw := math.Exp(delta * lz)
	var head float64 // (1 − (1−z)^δ)/δ
	if delta == 0 {
		head = -lz
	} else {
		head = -math.Expm1(delta*lz) / delta
	}
	var s float64
	if z <= 0.9 || math.Abs(delta) < 1e-3 {
		// S = Σ_{n≥1} (A)_n (1+δ)_(n−1) / ((C)_n n!) z^n
		term := A / C * z
		s = term
		size := math.Abs(term) // Σ |term|: the terms of A < 0 alternate, and may cancel
		for n := 1; term != 0; n++ {
			fn := float64(n)
			term *= (A + fn) * (delta + fn) / ((C + fn) * (fn + 1)) * z
			s += term
			size += math.Abs(term)
			// Once the term ratio q stays below 1 the tail is at most
			// |term|·q/(1−q).
			// (Not while C+n is still to pass 0: the ratio has a pole
			// there, and larger terms come after it.)
			q := math.Max(z, math.Abs((A+fn+1)*(delta+fn+1)/((C+fn+1)*(fn+2))*z))
			if q < 1 && C+fn+1 > 0 && math.Abs(term)*q/(1-q) <= 1e-16*math.Abs(s) {
				break
			}
			if n > 10_000_000 || math.IsNaN(s) || math.IsInf(s, 0) {
				return 0, fmt.Errorf("%w: BG/NBD expected purchases: series did not converge (t = %v, z = %v)", ErrNoConvergence, t, z)
			}
		}
		if v := head - pw*s; size*math.Abs(pw)+math.Abs(head) > maxCancel*math.Abs(v) {
			return m.expectedRepeatDirect(x, T, t, z, lz)
		}
		return m.bounded(C*(head-pw*s), x, T, t, z)
	}
	if bound, ok := tailBound(A, delta, C, lz); ok && bound < -40 {
		// (1−z)^δ 2F1(A, δ; C; z) → 0 as z → 1, and here it is below
		// e^−40 (see tailBound). The limit, C/δ, is the expected
		// purchases of a customer over a horizon without end (and where
		// z rounds to 1, the series could not be summed).
		return C / delta, nil
	}
	f, err := numeric.Hyp2F1Comp(A, delta, C, math.Exp(lz)) // 1−z, exact where z rounds to 1
	if err != nil {
		return 0, fmt.Errorf("%w: BG/NBD expected purchases: %w", ErrNoConvergence, err)
	}
	return m.bounded(C*(1-pw*f)/delta, x, T, t, z)
}

// maxCancel bounds how many times the sum of the sizes of its terms a
// sum of terms of both signs may be: each size carries a rounding of
// 2⁻⁵³ of it, so past it fewer than about 9 digits are left.
const maxCancel = 1e7

// expectedRepeatDirect is expectedRepeat by the formula as written,
// (C/δ)·[1 − (1−z)^(r+x) 2F1(r+x, b+x; C; z)], for where the Euler form's
// series cancels (its A = a+b−1−r is then negative: r far above a+b,
// whose terms alternate), with δ not near 0; where this one cancels too,
// an error wrapping ErrNoConvergence.
func (m BGNBD) expectedRepeatDirect(x, T, t, z, lz float64) (float64, error) {
	delta, C := m.A-1, m.A+m.B+x-1
	fail := func(cause error) (float64, error) {
		err := fmt.Errorf("%w: BG/NBD expected purchases: the series' terms cancel (t = %v, z = %v): too few digits left", ErrNoConvergence, t, z)
		if cause != nil {
			err = fmt.Errorf("%w; by the formula as written: %w", err, cause)
		}
		return 0, err
	}
	if math.Abs(delta) < 1e-3 {
		return fail(nil)
	}
	f, err := numeric.Hyp2F1(m.R+x, m.B+x, C, z)
	if err != nil {
		return fail(err)
	}
	p := math.Exp((m.R+x)*lz) * f
	if v := 1 - p; 1+math.Abs(p) > maxCancel*math.Abs(v) {
		return fail(nil)
	}
	return m.bounded(C/delta*(1-p), x, T, t, z)
}

// tailBound returns the log of a bound on (1−z)^δ 2F1(A, δ; C; z), with
// lz = ln(1−z), where A, δ and C are positive (so are the series' terms,
// and the 2F1 grows with z up to its value at 1 where that is finite):
// where C−A−δ > 0, ln((1−z)^δ) + ln 2F1(A, δ; C; 1), Gauss's
// Γ(C)Γ(C−A−δ)/(Γ(C−A)Γ(C−δ)) — which may be far above 1, so that the
// power alone bounds nothing; where C−A−δ < 0, by Euler's transformation
// (1−z)^(C−A) 2F1(C−A, C−δ; C; z), bounded the same way by
// Γ(C)Γ(A+δ−C)/(Γ(A)Γ(δ)). Otherwise (a parameter not positive, or
// C−A−δ = 0, where the 2F1 grows like ln) it returns false.
func tailBound(A, delta, C, lz float64) (float64, bool) {
	if !(A > 0 && delta > 0 && C > 0) {
		return 0, false
	}
	lg := numeric.LogGamma
	switch s := C - A - delta; {
	case s > 0:
		return delta*lz + lg(C) + lg(s) - lg(C-A) - lg(C-delta), true
	case s < 0:
		return (C-A)*lz + lg(C) + lg(-s) - lg(A) - lg(delta), true
	}
	return 0, false
}

// bounded returns v, expectedRepeat's result, where it is a finite number
// an active customer's purchases can reach, and otherwise an error: such
// a customer buys at most at the posterior mean rate (r+x)/(α+T) over t,
// dropping out or not, so a value outside [0, t(r+x)/(α+T)] is the
// cancellation of the 2F1 or of the series (b in the hundreds and t many
// times α+T; α and b near the float limit), not an answer.
func (m BGNBD) bounded(v, x, T, t, z float64) (float64, error) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("%w: BG/NBD expected purchases: not a finite number at t = %v", ErrNoConvergence, t)
	}
	if bound := t * (m.R + x) / (m.Alpha + T); !(v >= -1e-9*bound && v <= bound*(1+1e-9)) {
		return 0, fmt.Errorf("%w: BG/NBD expected purchases: the 2F1 lost its precision (t = %v, z = %v, got %v, outside [0, %v])", ErrNoConvergence, t, z, v, bound)
	}
	return max(v, 0), nil
}
