package clv

import (
	"fmt"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// GammaGamma holds the parameters of the Gamma-Gamma model of monetary value
// (Fader & Hardie 2013, "The Gamma-Gamma Model of Monetary Value"; Fader,
// Hardie & Lee 2005, "RFM and CLV"): each purchase value is Gamma(P, ν)
// distributed with a customer-specific rate ν ~ Gamma(Q, V). V is in
// currency units. The model assumes spend is independent of purchase
// frequency.
type GammaGamma struct {
	P float64 // shape of the gamma distribution of individual purchase values
	Q float64 // shape of the gamma distribution of the customer-level rate ν
	V float64 // rate (inverse scale) of the distribution of ν, in currency units
}

// Validate reports an error wrapping [ErrInvalidInput] unless all three
// parameters are finite and positive.
func (m GammaGamma) Validate() error {
	if err := checkPositive("GammaGamma.P", m.P); err != nil {
		return err
	}
	if err := checkPositive("GammaGamma.Q", m.Q); err != nil {
		return err
	}
	return checkPositive("GammaGamma.V", m.V)
}

// String formats the parameters with 4 decimals.
func (m GammaGamma) String() string {
	return fmt.Sprintf("gammagamma p=%.4f q=%.4f v=%.4f", m.P, m.Q, m.V)
}

// ggData holds the repeat customers used by the Gamma-Gamma model, those
// with identical (Frequency, MonetaryValue) collapsed into weighted rows.
type ggData struct {
	xs   []float64 // distinct frequencies
	rows []ggRow
	wx   []float64 // total weight per distinct x
	// per-distinct-x sums of w·ln m, w·ln x over rows
	sumLogM []float64
	wTotal  float64
	sumM    float64
}

type ggRow struct {
	x    int32
	m, w float64
}

func newGGData(customers []Customer) (*ggData, error) {
	d := &ggData{}
	xi := newIndexer()
	type key struct {
		x int32
		m float64
	}
	rowOf := make(map[key]int)
	for i, c := range customers {
		if c.Frequency < 0 {
			return nil, invalidf("customers[%d] (%q): Frequency = %d, must be ≥ 0", i, c.ID, c.Frequency)
		}
		if c.Frequency == 0 {
			continue
		}
		if err := checkPositive(fmt.Sprintf("customers[%d] (%q): MonetaryValue", i, c.ID), c.MonetaryValue); err != nil {
			return nil, err
		}
		k := key{xi.of(float64(c.Frequency)), c.MonetaryValue}
		if i, ok := rowOf[k]; ok {
			d.rows[i].w++
		} else {
			rowOf[k] = len(d.rows)
			d.rows = append(d.rows, ggRow{x: k.x, m: k.m, w: 1})
		}
		d.wTotal++
		d.sumM += c.MonetaryValue
	}
	if len(d.rows) == 0 {
		return nil, invalidf("customers: no customer with Frequency > 0 (the Gamma-Gamma model is fitted on repeat customers)")
	}
	d.xs = xi.vals
	d.wx = make([]float64, len(d.xs))
	d.sumLogM = make([]float64, len(d.xs))
	for _, r := range d.rows {
		d.wx[r.x] += r.w
		d.sumLogM[r.x] += r.w * math.Log(r.m)
	}
	return d, nil
}

// logLik returns the total Gamma-Gamma log-likelihood of the mean spends
// and, if grad is non-nil, its gradient with respect to (p, q, v).
func (d *ggData) logLik(m GammaGamma, grad []float64) float64 {
	p, q, v := m.P, m.Q, m.V
	lgq := numeric.LogGamma(q)
	var ll, gp, gq, gv float64
	var psiq float64
	if grad != nil {
		psiq = numeric.Digamma(q)
	}
	lv := math.Log(v)
	for k, x := range d.xs {
		px := p * x
		w := d.wx[k]
		// Γ(px+q)/(Γ(px)Γ(q)) v^q x^(px) m^(px−1) / (v+xm)^(px+q), the
		// factors not involving m summed per x.
		ll += w*(numeric.LogGamma(px+q)-numeric.LogGamma(px)-lgq+q*lv+px*math.Log(x)) + (px-1)*d.sumLogM[k]
		if grad != nil {
			psipxq := numeric.Digamma(px + q)
			gp += x * (w*(psipxq-numeric.Digamma(px)+math.Log(x)) + d.sumLogM[k])
			gq += w * (psipxq - psiq + lv)
		}
	}
	for _, r := range d.rows {
		x := d.xs[r.x]
		px := p * x
		l := math.Log(v + x*r.m)
		ll -= r.w * (px + q) * l
		if grad != nil {
			gp -= r.w * x * l
			gq -= r.w * l
			gv -= r.w * (px + q) / (v + x*r.m)
		}
	}
	if grad != nil {
		gv += d.wTotal * q / v
		grad[0], grad[1], grad[2] = gp, gq, gv
	}
	return ll
}

// FitGammaGamma estimates the Gamma-Gamma parameters by maximum likelihood
// from the repeat customers (Frequency > 0) among customers, using their
// Frequency and MonetaryValue (the mean value of the repeat purchases).
// Customers with Frequency 0 are ignored. A repeat customer with a
// MonetaryValue that is not finite and > 0, or the absence of repeat
// customers, gives an error wrapping [ErrInvalidInput]; failure to converge
// gives an error wrapping [ErrNoConvergence].
func FitGammaGamma(customers []Customer, opts *FitOptions) (GammaGamma, FitInfo, error) {
	if err := checkFitOptions(opts); err != nil {
		return GammaGamma{}, FitInfo{}, err
	}
	d, err := newGGData(customers)
	if err != nil {
		return GammaGamma{}, FitInfo{}, err
	}
	info := FitInfo{Customers: int(d.wTotal), DistinctRows: len(d.rows)}
	g3 := make([]float64, 3)
	f := func(th, grad []float64) float64 {
		m := GammaGamma{math.Exp(th[0]), math.Exp(th[1]), math.Exp(th[2])}
		if m.Validate() != nil {
			return math.Inf(1)
		}
		var gp []float64
		if grad != nil {
			gp = g3
		}
		ll := d.logLik(m, gp)
		if grad != nil {
			grad[0] = -gp[0] * m.P / d.wTotal
			grad[1] = -gp[1] * m.Q / d.wTotal
			grad[2] = -gp[2] * m.V / d.wTotal
		}
		return -ll / d.wTotal
	}
	// Start with E[spend] = pv/(q−1) equal to the sample mean.
	mean := d.sumM / d.wTotal
	starts := [][]float64{
		{0, math.Log(2), math.Log(mean)},
		{math.Log(5), math.Log(3), math.Log(2 * mean / 5)},
		{0, 0, 0},
	}
	p, err := fitLog("Gamma-Gamma", []string{"p", "q", "v"}, f, nil, starts, d.wTotal, opts, &info)
	if err != nil {
		return GammaGamma{}, info, err
	}
	return GammaGamma{p[0], p[1], p[2]}, info, nil
}

// LogLikelihood returns the total Gamma-Gamma log-likelihood of the repeat
// customers' mean spends under m (customers with Frequency 0 are ignored).
func (m GammaGamma) LogLikelihood(customers []Customer) (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	d, err := newGGData(customers)
	if err != nil {
		return 0, err
	}
	return d.logLik(m, nil), nil
}

// ExpectedSpend returns the population mean spend per purchase, p·v/(q−1).
// It requires Q > 1 (otherwise the mean is infinite) and returns an error
// wrapping [ErrInvalidInput] if not.
func (m GammaGamma) ExpectedSpend() (float64, error) {
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if !(m.Q > 1) {
		return 0, invalidf("GammaGamma.Q = %v, must exceed 1 for a finite expected spend", m.Q)
	}
	return m.P * m.V / (m.Q - 1), nil
}

// ConditionalExpectedSpend returns the expected mean spend per purchase of
// customer c given its Frequency x and MonetaryValue z̄:
//
//	p(v + x z̄) / (p x + q − 1),
//
// a weighted average of the population mean and z̄. For Frequency 0 it is
// the population mean. It requires Q > 1.
func (m GammaGamma) ConditionalExpectedSpend(c Customer) (float64, error) {
	pop, err := m.ExpectedSpend()
	if err != nil {
		return 0, err
	}
	if c.Frequency < 0 {
		return 0, invalidf("customer %q: Frequency = %d, must be ≥ 0", c.ID, c.Frequency)
	}
	if c.Frequency == 0 {
		return pop, nil
	}
	if err := checkNonNegative(fmt.Sprintf("customer %q: MonetaryValue", c.ID), c.MonetaryValue); err != nil {
		return 0, err
	}
	x := float64(c.Frequency)
	return m.P * (m.V + x*c.MonetaryValue) / (m.P*x + m.Q - 1), nil
}

// ExcludeZeroSpend returns the customers without the repeat buyers
// (Frequency > 0) whose MonetaryValue is exactly 0, and how many it left
// out. [FitGammaGamma] rejects such rows — a zero mean spend has zero
// density under the model — so a data set with free repeat orders (CDNOW's
// master file has one such buyer) must be filtered first, and the count
// reported with the fit. Other rows, including invalid ones (a negative or
// NaN MonetaryValue), are kept so that the fit still reports them. The
// input slice is not modified; the result is a new slice.
func ExcludeZeroSpend(customers []Customer) ([]Customer, int) {
	kept := make([]Customer, 0, len(customers))
	for _, c := range customers {
		if c.Frequency > 0 && c.MonetaryValue == 0 {
			continue
		}
		kept = append(kept, c)
	}
	return kept, len(customers) - len(kept)
}
