package clv

import (
	"errors"
	"math"

	"github.com/clmkit/clm/internal/numeric"
)

// paretoEval evaluates the Pareto/NBD log-likelihood of collapsed rows with
// its analytic gradient.
//
// Following Fader & Hardie's note (2005), the likelihood of a row is
//
//	L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s + s·I ],
//	I = ∫_{t_x}^{T} (α+τ)^−(r+x) (β+τ)^−(s+1) dτ.
//
// With m = max(α, β), expanding the smaller factor binomially around the
// larger one and integrating term by term gives
//
//	I = (m+t_x)^−a S(z₁) − (m+T)^−a S(z₂),  S(z) = Σₙ (b)ₙ/n! · zⁿ/(a+n),
//
// with a = r+s+x, z_i = |α−β|/(m+t_i), and b = s+1 when α ≥ β, b = r+x
// otherwise (a·S is the 2F1(a, b; a+1; z) of the note). The series and its
// derivatives in a, b and z are summed together, which gives the gradient
// in (r, α, s, β) for the price of the value. Rows whose z₁ exceeds 0.98
// (the series converges slowly there) use [ParetoNBD.logTerms], which
// transforms 2F1 to 1−z, with a central-difference gradient. The rows'
// log-likelihoods are added with Neumaier's compensated summation: at a
// million customers the plain sum's rounding noise (about 1e-12 of the
// total) hid the last BFGS steps.
//
// The series depend on a row only through (x, t_x) and (x, T), which many
// rows share (every customer without repeat purchases has t_x = 0), so
// they are summed once per distinct pair and evaluation.
type paretoEval struct {
	rows []rfmRow
	xs   []float64 // distinct frequencies
	ts   []float64 // distinct T
	// per row: indices of x, of (x, t_x) and (x, T) in pts, of T in ts
	xk, p1, p2, tk []int32
	pts            []paretoPoint
	// per distinct x: ln Γ(r+x) − ln Γ(r), ψ(r+x)
	lg, psi []float64
	// per point: l = −a ln(m+t) + ln S(z), its gradient, whether usable
	pl  []float64
	pdl [][4]float64
	pok []bool
	// per distinct T: ln(α+T), ln(β+T)
	lat, lbt []float64
	// budget is what is left of the series terms the rows that fall back
	// on logTerms may sum in the whole fit (fitSeriesTerms); slow is the
	// row at which it ran out (budget ≤ 0 then).
	budget int
	slow   rfmRow
}

// fitSeriesTerms bounds the series terms FitParetoNBD's fall-backs sum
// in all: well under a second of work. A row whose series converge slowly
// (a huge frequency against a small time scale, say) costs up to 18
// series of up to 5 million terms an evaluation, and a fit makes
// hundreds: minutes, before failing anyway. The fits of CDNOW and of a
// million synthetic customers spend none of it, the degenerate sample's
// (everyone bought at T) about 2 million terms.
const fitSeriesTerms = 50_000_000

// paretoPoint is a distinct (x, t) at which the series are summed.
type paretoPoint struct {
	xk int32
	t  float64
}

func newParetoEval(rows []rfmRow) *paretoEval {
	n := len(rows)
	e := &paretoEval{rows: rows, xk: make([]int32, n), p1: make([]int32, n), p2: make([]int32, n), tk: make([]int32, n), budget: fitSeriesTerms}
	xi, ti := newIndexer(), newIndexer()
	pi := make(map[paretoPoint]int32)
	point := func(p paretoPoint) int32 {
		k, ok := pi[p]
		if !ok {
			k = int32(len(e.pts))
			pi[p] = k
			e.pts = append(e.pts, p)
		}
		return k
	}
	for i, r := range rows {
		k := xi.of(r.x)
		e.xk[i], e.tk[i] = k, ti.of(r.t)
		e.p1[i] = point(paretoPoint{k, r.tx})
		e.p2[i] = point(paretoPoint{k, r.t})
	}
	e.xs, e.ts = xi.vals, ti.vals
	e.lg, e.psi = make([]float64, len(e.xs)), make([]float64, len(e.xs))
	e.pl, e.pdl, e.pok = make([]float64, len(e.pts)), make([][4]float64, len(e.pts)), make([]bool, len(e.pts))
	e.lat, e.lbt = make([]float64, len(e.ts)), make([]float64, len(e.ts))
	return e
}

// hypSums sums S(z) = Σₙ cₙ zⁿ/(a+n), cₙ = (b)ₙ/n!, with its derivatives
// in a (−sa), b (sb) and z (sz), for a, b > 0 and 0 ≤ z < 1. ok is false
// if the series needs more than 20000 terms or grows past 1e250.
func hypSums(a, b, z float64) (s0, sa, sb, sz float64, ok bool) {
	inv := 1 / a
	s0, sa = inv, inv*inv
	if z == 0 {
		return s0, sa, 0, b / (a + 1), true
	}
	cz, h := 1.0, 0.0 // cₙ zⁿ and Σ_{k<n} 1/(b+k)
	var szn float64   // Σ n cₙ zⁿ/(a+n)
	for n := 1; n <= 20000; n++ {
		fn := float64(n)
		bk := b + (fn - 1)
		cz *= bk / fn * z
		h += 1 / bk
		inv := 1 / (a + fn)
		t := cz * inv
		s0 += t
		sa += t * inv
		sb += t * h
		szn += fn * t
		// The term ratio q bounds the tails: Σ t·q^k, Σ (n+k) t q^k and
		// Σ t (h + k/(b+n)) q^k.
		q := (b + fn) / (fn + 1) * z * (a + fn) / (a + fn + 1)
		if q < 1 {
			tail := t * q / (1 - q)
			if tail <= 1e-17*s0 && (fn*tail+tail/(1-q)) <= 1e-16*szn && tail*(h+1/(b+fn)/(1-q)) <= 1e-16*sb {
				return s0, sa, sb, szn / z, true
			}
		}
		if s0 > 1e250 {
			return 0, 0, 0, 0, false
		}
	}
	return 0, 0, 0, 0, false
}

// logLik returns the total log-likelihood at m and, if grad is non-nil,
// its gradient with respect to (r, α, s, β). ok is false where the
// likelihood is not finite.
func (e *paretoEval) logLik(m ParetoNBD, grad []float64) (float64, bool) {
	r, al, s, be := m.R, m.Alpha, m.S, m.Beta
	lgr := numeric.LogGamma(r)
	var psir float64
	if grad != nil {
		psir = numeric.Digamma(r)
	}
	for k, x := range e.xs {
		e.lg[k] = numeric.LogGamma(r+x) - lgr
		if grad != nil {
			e.psi[k] = numeric.Digamma(r+x) - psir
		}
	}
	lal, lbe := math.Log(al), math.Log(be)
	d := math.Abs(al - be)
	aGE := al >= be
	mx := be
	if aGE {
		mx = al
	}
	for k, p := range e.pts {
		x := e.xs[p.xk]
		a, b := r+s+x, s+1
		if !aGE {
			b = r + x
		}
		z := d / (mx + p.t)
		e.pok[k] = false
		if z > 0.98 {
			continue // slow series: the row falls back on logTerms
		}
		s0, sa, sb, sz, ok := hypSums(a, b, z)
		if !ok {
			continue
		}
		lm := math.Log(mx + p.t)
		e.pl[k] = -a*lm + math.Log(s0)
		e.pok[k] = true
		if grad != nil {
			e.pdl[k] = paretoDl(aGE, a, al, be, p.t, lm, s0, sa, sb, sz)
		}
	}
	for j, T := range e.ts {
		e.lat[j], e.lbt[j] = math.Log(al+T), math.Log(be+T)
	}
	var gr, gal, gs, gbe, wsum float64
	var ll kahan
	common := r*lal + s*lbe
	for i, row := range e.rows {
		x, tx, T, w := row.x, row.tx, row.t, row.w
		k1, k2 := e.p1[i], e.p2[i]
		wsum += w
		if !e.pok[k1] || !e.pok[k2] {
			// The 1−z transformation of logTerms, numerical derivatives.
			l, _, err := m.logTermsN(x, tx, T, &e.budget)
			if err != nil {
				if errors.Is(err, errSeriesBudget) && e.slow == (rfmRow{}) {
					e.slow = row
				}
				return math.NaN(), false
			}
			k := e.xk[i]
			ll.add(w * l)
			if grad != nil {
				g := m.rowGradient(x, tx, T, &e.budget)
				gr += w * (g[0] - e.psi[k] - lal)
				gal += w * (g[1] - r/al)
				gs += w * (g[2] - lbe)
				gbe += w * (g[3] - s/be)
			}
			continue
		}
		rx := r + x
		lAT, lBT := e.lat[e.tk[i]], e.lbt[e.tk[i]]
		p1 := -rx*lAT - s*lBT
		// p2 = ln s + ln I, I = e^l1 − e^l2 (0 when t_x = T).
		l1, l2 := e.pl[k1], e.pl[k2]
		if !(l2 < l1) {
			ll.add(w * (e.lg[e.xk[i]] + common + p1))
			if grad != nil {
				gr -= w * lAT
				gal -= w * rx / (al + T)
				gs -= w * lBT
				gbe -= w * s / (be + T)
			}
			continue
		}
		oneMinus := -math.Expm1(l2 - l1) // 1 − ρ, ρ = e^(l2−l1)
		p2 := math.Log(s) + l1 + math.Log(oneMinus)
		lse := numeric.LogSumExp(p1, p2)
		ll.add(w * (e.lg[e.xk[i]] + common + lse))
		if grad != nil {
			w1 := math.Exp(p1 - lse)
			w2 := 1 - w1
			rho := 1 - oneMinus
			d1, d2 := &e.pdl[k1], &e.pdl[k2]
			c := w2 / oneMinus
			gr += w * (-w1*lAT + c*(d1[0]-rho*d2[0]))
			gal += w * (-w1*rx/(al+T) + c*(d1[1]-rho*d2[1]))
			gs += w * (-w1*lBT + c*(d1[2]-rho*d2[2]) + w2/s)
			gbe += w * (-w1*s/(be+T) + c*(d1[3]-rho*d2[3]))
		}
	}
	// The gradient of the terms common to every row:
	// ln Γ(r+x) − ln Γ(r) + r ln α + s ln β.
	if grad != nil {
		for i, row := range e.rows {
			gr += row.w * e.psi[e.xk[i]]
		}
		grad[0] = gr + wsum*lal
		grad[1] = gal + wsum*r/al
		grad[2] = gs + wsum*lbe
		grad[3] = gbe + wsum*s/be
	}
	v := ll.sum()
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v, false
	}
	return v, true
}

// kahan is a running sum with Neumaier's compensation.
type kahan struct{ s, c float64 }

func (k *kahan) add(v float64) {
	t := k.s + v
	if math.Abs(k.s) >= math.Abs(v) {
		k.c += (k.s - t) + v
	} else {
		k.c += (v - t) + k.s
	}
	k.s = t
}

func (k *kahan) sum() float64 { return k.s + k.c }

// paretoDl returns the gradient in (r, α, s, β) of
// l = −a ln(m+t) + ln S(z), z = |α−β|/(m+t), from the sums of hypSums.
func paretoDl(aGE bool, a, al, be, t, lm, s0, sa, sb, sz float64) [4]float64 {
	da := -lm - sa/s0
	db := sb / s0
	dz := sz / s0
	if aGE { // m = α, b = s+1, z = (α−β)/(α+t)
		u := al + t
		return [4]float64{da, -a/u + dz*(be+t)/(u*u), da + db, -dz / u}
	}
	// m = β, b = r+x, z = (β−α)/(β+t)
	u := be + t
	return [4]float64{da + db, -dz / u, da, -a/u + dz*(al+t)/(u*u)}
}

// rowGradient returns the gradient of one row's log-likelihood (from
// logTerms) in (r, α, s, β) by central differences on the log scale.
func (m ParetoNBD) rowGradient(x, tx, T float64, budget *int) [4]float64 {
	const h = 1e-6
	var g [4]float64
	p := [4]float64{m.R, m.Alpha, m.S, m.Beta}
	for j := range p {
		up, dn := p, p
		up[j] *= math.Exp(h)
		dn[j] *= math.Exp(-h)
		lu, _, err1 := ParetoNBD{up[0], up[1], up[2], up[3]}.logTermsN(x, tx, T, budget)
		ld, _, err2 := ParetoNBD{dn[0], dn[1], dn[2], dn[3]}.logTermsN(x, tx, T, budget)
		if err1 != nil || err2 != nil {
			g[j] = math.NaN()
			continue
		}
		g[j] = (lu - ld) / (2 * h) / p[j]
	}
	return g
}
