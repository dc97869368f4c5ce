package clv

import (
	"errors"
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
	xs      []float64 // distinct frequencies
	wx      []float64 // total weight per distinct x
	sumLogM []float64 // Σ w·ln m per distinct x
	// The distinct (x, m) rows, in parts (see newGGData), with their
	// weights; pw[i] is nil when every row of parts[i] has weight 1.
	parts  [][]ggKey
	pw     [][]float64
	rows   int
	wTotal float64
	sumM   float64
}

// ggKey is a repeat customer's frequency index and mean spend.
type ggKey struct {
	m  float64
	xk int32
}

func (k ggKey) hash() uint64 {
	h := uint64(k.xk)*0x9E3779B97F4A7C15 ^ math.Float64bits(k.m)*0xBF58476D1CE4E5B9
	h ^= h >> 31
	h *= 0xD6E8FEB86659FD93
	h ^= h >> 32
	return h
}

// newGGData validates the customers and collapses the repeat customers
// with identical (Frequency, MonetaryValue). At a million customers a
// single hash table (a Go map, or open addressing) spent most of the fit's
// time in cache misses, so the keys are first partitioned by the top bits
// of their hash into parts of a few thousand, and each part is collapsed
// with a small open-addressing table that stays in cache.
func newGGData(customers []Customer) (*ggData, error) {
	d, err := collectGG(customers)
	if err != nil {
		return nil, err
	}
	d.collapse(0, false)
	return d, nil
}

// collectGG validates the customers and puts the repeat customers into the
// hash partitions of d.parts, one row of weight 1 each (d.rows and
// d.wTotal count them, d.sumM sums their spends); collapse finishes d.
func collectGG(customers []Customer) (*ggData, error) {
	d := &ggData{}
	bits := 0
	for len(customers)>>(bits+1) > 16384 {
		bits++
	}
	parts := make([][]ggKey, 1<<bits)
	for p := range parts {
		parts[p] = make([]ggKey, 0, len(customers)>>(bits+1)+16)
	}
	// Frequencies below 1<<12 are indexed through a slice, others through
	// a map.
	var small []int32 // 1 + index into d.xs; 0 = not seen
	var large map[int]int32
	xIndex := func(f int) int32 {
		if f < 1<<12 {
			if f >= len(small) {
				small = append(small, make([]int32, f+1-len(small))...)
			}
			if small[f] == 0 {
				d.xs = append(d.xs, float64(f))
				small[f] = int32(len(d.xs))
			}
			return small[f] - 1
		}
		if large == nil {
			large = make(map[int]int32)
		}
		k, ok := large[f]
		if !ok {
			k = int32(len(d.xs))
			d.xs = append(d.xs, float64(f))
			large[f] = k
		}
		return k
	}
	repeaters := 0
	for i := range customers {
		c := &customers[i]
		if c.Frequency <= 0 {
			if c.Frequency < 0 {
				return nil, invalidf("customers[%d] (%q): Frequency = %d, must be ≥ 0", i, c.ID, c.Frequency)
			}
			continue
		}
		m := c.MonetaryValue
		if !(m > 0) || math.IsInf(m, 0) {
			return nil, invalidf("customers[%d] (%q): MonetaryValue = %v, must be finite and > 0", i, c.ID, m)
		}
		k := ggKey{m, xIndex(c.Frequency)}
		p := k.hash() >> (64 - bits) // 0 when bits = 0
		if bits == 0 {
			p = 0
		}
		parts[p] = append(parts[p], k)
		d.sumM += m
		repeaters++
	}
	if repeaters == 0 {
		return nil, invalidf("customers: no customer with Frequency > 0 (the Gamma-Gamma model is fitted on repeat customers)")
	}
	d.parts, d.pw = parts, make([][]float64, len(parts))
	d.rows, d.wTotal = repeaters, float64(repeaters)
	return d, nil
}

// collapse merges the identical rows of each partition of d (filled by
// collectGG) and fills the per-frequency sums. With moments set it also
// makes the moment pass at v0 (see ggMoments) part by part, each right
// after collapsing it while it is in cache, and returns it.
func (d *ggData) collapse(v0 float64, moments bool) *ggMoments {
	parts := d.parts
	var mo *ggMoments
	var lv []logProd
	if moments {
		mo, lv = &ggMoments{v0: v0}, make([]logProd, len(d.xs))
	}
	largest := 0
	for _, part := range parts {
		largest = max(largest, len(part))
	}
	size := 16
	for size < 2*largest {
		size *= 2
	}
	// Collapse each part in place: slots hold 1 + the row's index in the
	// compacted part, 0 for empty.
	slots := make([]int32, size)
	d.rows = 0
	for p, part := range parts {
		n := 16
		for n < 2*len(part) {
			n *= 2
		}
		clear(slots[:n])
		mask := uint64(n - 1)
		u := 0 // distinct rows so far
	keys:
		for _, k := range part {
			for h := k.hash() & mask; ; h = (h + 1) & mask {
				s := slots[h]
				if s == 0 {
					part[u] = k
					u++
					slots[h] = int32(u)
					continue keys
				}
				if part[s-1] == k {
					if d.pw[p] == nil {
						d.pw[p] = make([]float64, len(part))
						for i := range d.pw[p] {
							d.pw[p][i] = 1
						}
					}
					d.pw[p][s-1]++
					continue keys
				}
			}
		}
		d.parts[p] = part[:u]
		if d.pw[p] != nil {
			d.pw[p] = d.pw[p][:u]
		}
		d.rows += u
		if moments {
			mo.addPart(d.xs, d.parts[p], d.pw[p], lv)
		}
	}
	if moments {
		mo.finish(d.xs, lv)
	}
	d.wx = make([]float64, len(d.xs))
	lm := make([]logProd, len(d.xs))
	for p, part := range d.parts {
		pw := d.pw[p]
		for i, k := range part {
			if pw == nil || pw[i] == 1 {
				d.wx[k.xk]++
				lm[k.xk].mul(k.m)
				continue
			}
			d.wx[k.xk] += pw[i]
			lm[k.xk].extra += pw[i] * math.Log(k.m)
		}
	}
	d.sumLogM = make([]float64, len(d.xs))
	for k := range lm {
		d.sumLogM[k] = lm[k].log()
	}
	return mo
}

// logProd accumulates a sum of logarithms as a product, renormalised by
// its binary exponent, so that a row costs a multiplication instead of a
// logarithm (and rounds less than a long sum of logarithms). Factors
// outside [2^−400, 2^400] are added as logarithms. The zero value is
// empty.
type logProd struct {
	p     float64 // running product, 1 when 0
	e     int     // binary exponent taken out of p
	extra float64 // logarithms added directly
	used  bool
}

func (l *logProd) mul(v float64) {
	if !(v >= 0x1p-400 && v <= 0x1p400) {
		l.extra += numeric.Log(v) // right for subnormal v too
		return
	}
	if !l.used {
		l.p, l.used = 1, true
	}
	l.p *= v
	if l.p > 0x1p500 || l.p < 0x1p-500 {
		fr, e := math.Frexp(l.p)
		l.p, l.e = fr, l.e+e
	}
}

// log returns the sum of the logarithms of the factors.
func (l *logProd) log() float64 {
	if !l.used {
		return l.extra
	}
	return math.Log(l.p) + float64(l.e)*math.Ln2 + l.extra
}

// subsample returns the data of every stride-th row of d.
func (d *ggData) subsample(stride int) *ggData {
	s := &ggData{xs: d.xs, wx: make([]float64, len(d.xs)), sumLogM: make([]float64, len(d.xs))}
	keys := make([]ggKey, 0, d.rows/stride+1)
	ws := make([]float64, 0, d.rows/stride+1)
	j := 0 // index of the next row to take within the current part
	for p, part := range d.parts {
		for ; j < len(part); j += stride {
			k, w := part[j], 1.0
			if d.pw[p] != nil {
				w = d.pw[p][j]
			}
			keys = append(keys, k)
			ws = append(ws, w)
			s.wx[k.xk] += w
			s.sumLogM[k.xk] += w * math.Log(k.m)
			s.wTotal += w
			s.sumM += w * k.m
		}
		j -= len(part)
	}
	s.parts, s.pw, s.rows = [][]ggKey{keys}, [][]float64{ws}, len(keys)
	return s
}

// ggSums are the sums over the rows that carry all of the likelihood's
// dependence on v: with L = ln(v + x·m) and R = 1/(v + x·m),
// b0 = Σ w·L, a0 = Σ w·x·L, b1 = Σ w·R, a1 = Σ w·x·R, b2 = Σ w·R²,
// a2 = Σ w·x·R².
type ggSums struct{ b0, a0, b1, a1, b2, a2 float64 }

// sums makes one pass over the rows at v; the second-order sums b2, a2
// only when second is set.
func (d *ggData) sums(v float64, second bool) ggSums {
	var s ggSums
	for p, part := range d.parts {
		pw := d.pw[p]
		for i, k := range part {
			w, x := 1.0, d.xs[k.xk]
			if pw != nil {
				w = pw[i]
			}
			r := 1 / (v + x*k.m)
			wl, wr := w*math.Log(v+x*k.m), w*r
			s.b0 += wl
			s.a0 += x * wl
			s.b1 += wr
			s.a1 += x * wr
			if second {
				s.b2 += wr * r
				s.a2 += x * wr * r
			}
		}
	}
	return s
}

// ggOrder is the number of terms of the expansion of ggMoments.
const ggOrder = 16

// ggRadius bounds |v−v0|/v0 for ggMoments.sums: every 1/(v0+x·m) is
// at most 1/v0, so the expansion's terms shrink at least by this factor
// each, and 0.1^(ggOrder+1) is 1e-17.
const ggRadius = 0.1

// ggMoments expands the row sums around v0: with R = 1/(v0 + x·m),
//
//	ln(v + x·m)   = ln(v0 + x·m) + Σ_{k≥1} (−1)^(k+1) δ^k R^k / k,
//	1/(v + x·m)   = Σ_{k≥0} (−δ)^k R^(k+1),
//	1/(v + x·m)²  = Σ_{k≥0} (k+1) (−δ)^k R^(k+2),
//
// δ = v − v0, so one pass over the rows for the power sums p_k = Σ w·R^k
// and q_k = Σ w·x·R^k gives ggSums at every v within ggRadius of v0 to
// rounding: Newton's method then iterates without touching the rows.
type ggMoments struct {
	v0, b0, a0 float64
	p, q       [ggOrder + 3]float64 // index k = 1 … ggOrder+2
}

// moments makes one pass over the rows at v0.
func (d *ggData) moments(v0 float64) *ggMoments {
	mo := &ggMoments{v0: v0}
	lv := make([]logProd, len(d.xs))
	for pi, part := range d.parts {
		mo.addPart(d.xs, part, d.pw[pi], lv)
	}
	mo.finish(d.xs, lv)
	return mo
}

// finish adds the logarithm sums lv (per distinct x) into b0 and a0.
func (mo *ggMoments) finish(xs []float64, lv []logProd) {
	for k := range lv {
		l := lv[k].log()
		mo.b0 += l
		mo.a0 += xs[k] * l
	}
}

// addPart adds the rows of one part (weights pw, nil for all 1) to the
// power sums at mo.v0, and Σ w·ln(v0 + x·m) per distinct x to lv.
func (mo *ggMoments) addPart(xs []float64, part []ggKey, pw []float64, lv []logProd) {
	v0 := mo.v0
	i := 0
	if pw == nil {
		// Four rows of weight 1 at a time: the power sums are
		// accumulated once per four rows, and the powers advance in
		// eight independent chains of multiplications by R².
		for ; i+3 < len(part); i += 4 {
			k0, k1, k2, k3 := part[i], part[i+1], part[i+2], part[i+3]
			x0, x1, x2, x3 := xs[k0.xk], xs[k1.xk], xs[k2.xk], xs[k3.xk]
			u0, u1, u2, u3 := v0+x0*k0.m, v0+x1*k1.m, v0+x2*k2.m, v0+x3*k3.m
			lv[k0.xk].mul(u0)
			lv[k1.xk].mul(u1)
			lv[k2.xk].mul(u2)
			lv[k3.xk].mul(u3)
			r0, r1, r2, r3 := 1/u0, 1/u1, 1/u2, 1/u3
			s0, s1, s2, s3 := r0*r0, r1*r1, r2*r2, r3*r3
			a0, a1, a2, a3 := r0, r1, r2, r3 // odd powers
			b0, b1, b2, b3 := s0, s1, s2, s3 // even powers
			for k := 1; k+1 < len(mo.p); k += 2 {
				mo.p[k] += (a0 + a1) + (a2 + a3)
				mo.p[k+1] += (b0 + b1) + (b2 + b3)
				mo.q[k] += (x0*a0 + x1*a1) + (x2*a2 + x3*a3)
				mo.q[k+1] += (x0*b0 + x1*b1) + (x2*b2 + x3*b3)
				a0, a1, a2, a3 = a0*s0, a1*s1, a2*s2, a3*s3
				b0, b1, b2, b3 = b0*s0, b1*s1, b2*s2, b3*s3
			}
			if n := len(mo.p); n%2 == 0 { // the last index is odd
				mo.p[n-1] += (a0 + a1) + (a2 + a3)
				mo.q[n-1] += (x0*a0 + x1*a1) + (x2*a2 + x3*a3)
			}
		}
	}
	for ; i < len(part); i++ {
		k := part[i]
		w, x := 1.0, xs[k.xk]
		u := v0 + x*k.m
		if pw != nil && pw[i] != 1 {
			w = pw[i]
			lv[k.xk].extra += w * math.Log(u)
		} else {
			lv[k.xk].mul(u)
		}
		r := 1 / u
		wp := w
		for j := 1; j < len(mo.p); j++ {
			wp *= r
			mo.p[j] += wp
			mo.q[j] += x * wp
		}
	}
}

// sums returns the row sums at v from the expansion; ok is false when v
// is outside ggRadius of v0.
func (mo *ggMoments) sums(v float64) (s ggSums, ok bool) {
	delta := v - mo.v0
	if !(math.Abs(delta) <= ggRadius*mo.v0) {
		return s, false
	}
	s.b0, s.a0 = mo.b0, mo.a0
	pow := 1.0 // (−δ)^k
	for k := 0; k <= ggOrder; k++ {
		if k > 0 {
			// ln terms: (−1)^(k+1) δ^k / k = −(−δ)^k / k
			s.b0 -= pow * mo.p[k] / float64(k)
			s.a0 -= pow * mo.q[k] / float64(k)
		}
		s.b1 += pow * mo.p[k+1]
		s.a1 += pow * mo.q[k+1]
		s.b2 += float64(k+1) * pow * mo.p[k+2]
		s.a2 += float64(k+1) * pow * mo.q[k+2]
		pow *= -delta
	}
	return s, true
}

// eval returns the total Gamma-Gamma log-likelihood at m, s being the
// sums at m.V. When grad is non-nil it receives the gradient with respect
// to (p, q, v), and when hess is non-nil too the Hessian (row-major 3×3).
// Per repeat customer with frequency x and mean spend m (Fader & Hardie
// 2013, eq. 4):
//
//	ln L = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln v + px ln x
//	       + (px−1) ln m − (px+q) ln(v + x m),
//
// whose terms not involving m are summed once per distinct x.
func (d *ggData) eval(m GammaGamma, s ggSums, grad, hess []float64) float64 {
	p, q, v := m.P, m.Q, m.V
	lv := math.Log(v)
	W := d.wTotal
	ll := W*(q*lv-numeric.LogGamma(q)) - p*s.a0 - q*s.b0
	var gp, gq, hpp, hpq, hqq float64
	for k, x := range d.xs {
		w := d.wx[k]
		if w == 0 {
			continue
		}
		px, lx := p*x, math.Log(x)
		ll += w*(numeric.LogGamma(px+q)-numeric.LogGamma(px)+px*lx) + (px-1)*d.sumLogM[k]
		if grad == nil {
			continue
		}
		psi := numeric.Digamma(px + q)
		gp += x * (w*(psi-numeric.Digamma(px)+lx) + d.sumLogM[k])
		gq += w * psi
		if hess != nil {
			t := numeric.Trigamma(px + q)
			hpp += w * x * x * (t - numeric.Trigamma(px))
			hpq += w * x * t
			hqq += w * t
		}
	}
	if grad != nil {
		grad[0] = gp - s.a0
		grad[1] = gq - W*numeric.Digamma(q) + W*lv - s.b0
		grad[2] = W*q/v - p*s.a1 - q*s.b1
		if hess != nil {
			hqq -= W * numeric.Trigamma(q)
			hpv, hqv := -s.a1, W/v-s.b1
			hvv := -W*q/(v*v) + p*s.a2 + q*s.b2
			copy(hess, []float64{hpp, hpq, hpv, hpq, hqq, hqv, hpv, hqv, hvv})
		}
	}
	return ll
}

// logLik returns the total Gamma-Gamma log-likelihood of the mean spends
// and, if grad is non-nil, its gradient with respect to (p, q, v).
func (d *ggData) logLik(m GammaGamma, grad []float64) float64 {
	return d.eval(m, d.sums(m.V, false), grad, nil)
}

// ggPoint is the mean negative log-likelihood per customer f at the
// log-parameters u with its gradient g and Hessian h (row-major) in u.
type ggPoint struct {
	u, g [3]float64
	h    [9]float64
	f    float64
}

// at evaluates d at the log-parameters u, from the expansion *mo when v
// is within its radius, else after a pass over the rows for a new one
// (counted in passes); ok is false where the likelihood is not finite.
func (d *ggData) at(u [3]float64, mo **ggMoments, passes *int) (pt ggPoint, ok bool) {
	th := [3]float64{math.Exp(u[0]), math.Exp(u[1]), math.Exp(u[2])}
	m := GammaGamma{th[0], th[1], th[2]}
	if m.Validate() != nil {
		return pt, false
	}
	var s ggSums
	if *mo != nil {
		s, ok = (*mo).sums(m.V)
	}
	if !ok {
		*mo = d.moments(m.V)
		*passes++
		s, _ = (*mo).sums(m.V)
	}
	var g [3]float64
	var h [9]float64
	ll := d.eval(m, s, g[:], h[:])
	W := d.wTotal
	pt.u, pt.f = u, -ll/W
	for i := range 3 {
		pt.g[i] = -th[i] * g[i] / W
		for j := range 3 {
			pt.h[i*3+j] = -th[i] * th[j] * h[i*3+j] / W
		}
		pt.h[i*3+i] += pt.g[i]
	}
	for _, v := range append(pt.h[:], pt.f, pt.g[0], pt.g[1], pt.g[2]) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return pt, false
		}
	}
	return pt, true
}

// newton minimises the mean negative log-likelihood of d over the
// log-parameters from u0 (with the moment expansion mo if not nil) by
// Newton's method with the analytic Hessian
// (shifted towards the identity where it is not positive definite) and a
// backtracking line search, until the largest gradient component is at
// most tol. Every iteration is one pass over the rows.
func (d *ggData) newton(u0 [3]float64, mo *ggMoments, tol float64, maxIter int, info *FitInfo) (ggPoint, error) {
	passes := 0
	defer func() { info.Evaluations += passes }()
	pt, ok := d.at(u0, &mo, &passes)
	if !ok {
		return pt, fmt.Errorf("likelihood not finite at the starting point %.4g", u0)
	}
	for it := 0; ; it++ {
		gmax := math.Max(math.Abs(pt.g[0]), math.Max(math.Abs(pt.g[1]), math.Abs(pt.g[2])))
		if gmax <= tol {
			return pt, nil
		}
		if it == maxIter {
			return pt, fmt.Errorf("%d Newton iterations reached (|grad|inf = %.3g > %.3g)", maxIter, gmax, tol)
		}
		info.Iterations++
		step, err := newtonStep(pt.h[:], pt.g[:])
		if err != nil {
			return pt, err
		}
		slope := step[0]*pt.g[0] + step[1]*pt.g[1] + step[2]*pt.g[2]
		// Below this, the decrease is lost in the rounding of f.
		noise := 1e-13 * (1 + math.Abs(pt.f))
		accepted := false
		for t := 1.0; t > 1e-10; t /= 2 {
			u := [3]float64{pt.u[0] + t*step[0], pt.u[1] + t*step[1], pt.u[2] + t*step[2]}
			cand, ok := d.at(u, &mo, &passes)
			if ok && (cand.f <= pt.f+1e-4*t*slope || (-slope <= noise && cand.f <= pt.f+noise)) {
				pt, accepted = cand, true
				break
			}
		}
		if !accepted {
			return pt, fmt.Errorf("line search failed after %d Newton iterations (f = %.10g, |grad|inf = %.3g)", it, pt.f, gmax)
		}
	}
}

// newtonStep returns the step s solving (H + μI) s = −g for the smallest μ
// in 0, 1e-6·D, 1e-5·D, … (D the largest |H_ii|) that makes the matrix
// positive definite, its largest component capped at 2.
func newtonStep(h, g []float64) ([]float64, error) {
	const n = 3
	var dmax float64
	for i := range n {
		dmax = math.Max(dmax, math.Abs(h[i*n+i]))
	}
	a := make([]float64, n*n)
	for mu := 0.0; mu <= 1e6*dmax+1; {
		copy(a, h)
		for i := range n {
			a[i*n+i] += mu
		}
		if l, err := numeric.Cholesky(a, n, 1e-12); err == nil {
			// Solve L Lᵀ s = −g.
			y := make([]float64, n)
			for i := range n {
				v := -g[i]
				for k := range i {
					v -= l[i*n+k] * y[k]
				}
				y[i] = v / l[i*n+i]
			}
			s := make([]float64, n)
			var smax float64
			for i := n - 1; i >= 0; i-- {
				v := y[i]
				for k := i + 1; k < n; k++ {
					v -= l[k*n+i] * s[k]
				}
				s[i] = v / l[i*n+i]
				smax = math.Max(smax, math.Abs(s[i]))
			}
			if smax > 2 {
				for i := range s {
					s[i] *= 2 / smax
				}
			}
			return s, nil
		}
		if mu == 0 {
			mu = 1e-6 * math.Max(dmax, 1e-12)
		} else {
			mu *= 10
		}
	}
	return nil, errors.New("Newton step: Hessian not positive definite after shifting")
}

// FitGammaGamma estimates the Gamma-Gamma parameters by maximum likelihood
// from the repeat customers (Frequency > 0) among customers, using their
// Frequency and MonetaryValue (the mean value of the repeat purchases).
// Customers with Frequency 0 are ignored. A repeat customer with a
// MonetaryValue that is not finite and > 0, or the absence of repeat
// customers, gives an error wrapping [ErrInvalidInput]; failure to converge,
// or a likelihood whose supremum lies on the boundary p → ∞ (too little
// spread between the customers' mean spends), gives an error wrapping
// [ErrNoConvergence].
//
// The optimiser is Newton's method on the log-parameters with the analytic
// gradient and Hessian: all of the likelihood's dependence on v sits in
// six sums over the (collapsed) rows, so an iteration costs one pass over
// them, and the per-frequency terms are evaluated once per distinct
// frequency. With more than 64k repeat customers (counted before identical
// rows are merged) the first iterations run on an evenly spaced subsample
// of about 16k of them (counted in Iterations and
// Evaluations), and the full data take over from its optimum, usually for
// two or three passes. Should Newton's method fail, BFGS is tried from
// three starting points as in the other fits. The standard errors come
// from the analytic Hessian.
func FitGammaGamma(customers []Customer, opts *FitOptions) (GammaGamma, FitInfo, error) {
	if err := checkFitOptions(opts); err != nil {
		return GammaGamma{}, FitInfo{}, err
	}
	d, err := collectGG(customers)
	if err != nil {
		return GammaGamma{}, FitInfo{}, err
	}
	// Start with E[spend] = pv/(q−1) equal to the sample mean.
	mean := d.sumM / d.wTotal
	starts := [][]float64{
		{0, math.Log(2), math.Log(mean)},
		{math.Log(5), math.Log(3), math.Log(2 * mean / 5)},
		{0, 0, 0},
	}
	names := []string{"p", "q", "v"}
	s := opts.settings()
	maxIter := s.MaxIterations
	if maxIter <= 0 {
		maxIter = 200
	}
	u0 := [3]float64{starts[0][0], starts[0][1], starts[0][2]}
	var info FitInfo
	info.Starts = 1
	// The subsample is drawn before identical rows are merged (each row
	// one customer), so that the full data's moment pass can be made at
	// its optimum while the rows are collapsed.
	const minRows, subRows = 1 << 16, 1 << 14
	if d.rows > minRows {
		sub := d.subsample(d.rows / subRows)
		if pt, err := sub.newton(u0, nil, 1e-6, maxIter, &info); err == nil {
			u0 = pt.u
		}
	}
	mo := d.collapse(math.Exp(u0[2]), true)
	info.Evaluations++ // the moment pass
	info.Customers, info.DistinctRows = int(d.wTotal), d.rows
	pt, err := d.newton(u0, mo, s.GradTol, maxIter, &info)
	if err == nil {
		_, err = numeric.Cholesky(pt.h[:], 3, 1e-9)
	}
	if err == nil {
		info.LogLikelihood = -pt.f * d.wTotal
		if err := info.setEstimates("Gamma-Gamma", names, pt.u[:], pt.h[:], d.wTotal); err != nil {
			return GammaGamma{}, info, wrapNoConvergence("Gamma-Gamma standard errors", err)
		}
		m := GammaGamma{math.Exp(pt.u[0]), math.Exp(pt.u[1]), math.Exp(pt.u[2])}
		if err := d.ridge(m); err != nil {
			return GammaGamma{}, info, err
		}
		if err := info.identified(); err != nil {
			return GammaGamma{}, info, err
		}
		return m, info, nil
	}
	// Fall back on BFGS from each start.
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
	p, err := fitLog("Gamma-Gamma", names, f, nil, starts, d.wTotal, opts, &info)
	if err != nil {
		return GammaGamma{}, info, err
	}
	m := GammaGamma{p[0], p[1], p[2]}
	if err := d.ridge(m); err != nil {
		return GammaGamma{}, info, err
	}
	if err := info.identified(); err != nil {
		return GammaGamma{}, info, err
	}
	return m, info, nil
}

// ridge returns an error wrapping [ErrNoConvergence] when the likelihood
// is no lower at ten times m's p and a tenth of its v (the same mean
// spend): then it keeps growing towards p → ∞, where every customer's
// spends are alike, and m is only where the optimiser stopped on the way to
// that boundary (a few repeat customers whose mean spends barely differ).
// At an interior maximum it is clearly lower.
func (d *ggData) ridge(m GammaGamma) error {
	ll := d.logLik(m, nil)
	far := d.logLik(GammaGamma{m.P * 10, m.Q, m.V / 10}, nil)
	if far >= ll-1e-7*math.Max(1, math.Abs(ll)) {
		return fmt.Errorf("%w: Gamma-Gamma: the likelihood still grows towards p → ∞ with p·v fixed (log-likelihood %.9g at p = %.4g, %.9g at 10p): the maximum lies on the boundary", ErrNoConvergence, ll, m.P, far)
	}
	return nil
}

// LogLikelihood returns the total Gamma-Gamma log-likelihood of the repeat
// customers' mean spends under m (customers with Frequency 0 are ignored).
func (m GammaGamma) LogLikelihood(customers []Customer) (res float64, resErr error) {
	defer checked("Gamma-Gamma log-likelihood", math.Inf(-1), math.MaxFloat64, &res, &resErr)
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
func (m GammaGamma) ExpectedSpend() (res float64, resErr error) {
	defer checked("Gamma-Gamma expected spend", 0, math.MaxFloat64, &res, &resErr)
	if err := m.Validate(); err != nil {
		return 0, err
	}
	if !(m.Q > 1) {
		return 0, invalidf("GammaGamma.Q = %v, must exceed 1 for a finite expected spend", m.Q)
	}
	// In the order that neither overflows nor leaves the normal range
	// where another would not (p·v past the largest float64, with q
	// large, has a finite mean).
	return bestProduct(m.P*m.V/(m.Q-1), m.P*(m.V/(m.Q-1)), m.P/(m.Q-1)*m.V), nil
}

// bestProduct returns the first of vs, the same product taken in
// different orders, that is a normal float64 (not zero, subnormal or
// infinite), or else the first that is finite and not zero, or else the
// first finite one, or else the first.
func bestProduct(vs ...float64) float64 {
	for _, v := range vs {
		if a := math.Abs(v); a >= 0x1p-1022 && a <= math.MaxFloat64 {
			return v
		}
	}
	for _, v := range vs {
		if v != 0 && !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v
		}
	}
	for _, v := range vs {
		if !math.IsInf(v, 0) && !math.IsNaN(v) {
			return v
		}
	}
	return vs[0]
}

// ConditionalExpectedSpend returns the expected mean spend per purchase of
// customer c given its Frequency x and MonetaryValue z̄:
//
//	p(v + x z̄) / (p x + q − 1),
//
// a weighted average of the population mean and z̄. For Frequency 0 it is
// the population mean. It requires Q > 1. It reads only c's Frequency
// (which must not be negative) and, when Frequency is above 0, its
// MonetaryValue (which must be finite and not negative); c's other fields
// are not checked.
func (m GammaGamma) ConditionalExpectedSpend(c Customer) (res float64, resErr error) {
	defer checked("Gamma-Gamma conditional expected spend", 0, math.MaxFloat64, &res, &resErr)
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
	// As the weighted average w z̄ + (1−w) pop, w = p x/(p x + q − 1),
	// which stays finite wherever z̄ is: p(v + x z̄) overflows first.
	x := float64(c.Frequency)
	r := (m.Q - 1) / m.P / x // (1−w)/w, not through p·x, which may overflow
	if r <= 1 {
		return r/(1+r)*pop + 1/(1+r)*c.MonetaryValue, nil
	}
	// w/(1−w) = 1/r, from p/(q−1): r itself may overflow where z̄'s
	// share, z̄/r, is not negligible.
	inv := m.P / (m.Q - 1) * x
	return 1/(1+inv)*pop + bestProduct(c.MonetaryValue*inv, c.MonetaryValue*m.P/(m.Q-1)*x)/(1+inv), nil
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
