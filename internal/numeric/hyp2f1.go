package numeric

import (
	"errors"
	"fmt"
	"math"
)

// maxSeriesTerms bounds the number of terms summed by the 2F1 power series.
const maxSeriesTerms = 5_000_000

// maxCancel bounds how many times the sum of its terms' sizes a series or
// a transformation's terms may be: each size carries a rounding of 2⁻⁵³
// of it, so the result keeps about 9 of its 16 digits at the bound.
const maxCancel = 1e7

// cancelLimit returns how small the sum of a transformation's two terms
// may be against the larger, where each term is the exponential of a sum
// of logarithms whose sizes add to span: each then carries a relative
// error of about 2⁻⁵³·span (log-gammas of 10⁴ are 8·10⁴ each), which the
// cancellation multiplies; at the limit about 9 digits are left.
func cancelLimit(span float64) float64 {
	return max(1/maxCancel, 0x1p-53*max(span, 1)*1e9)
}

// Hyp2F1 returns the Gauss hypergeometric function 2F1(a, b; c; z) for real
// arguments and z ≤ 1.
//
// Method: the defining power series for 0 ≤ z ≤ 0.9; Pfaff's transformation
// 2F1(a,b;c;z) = (1−z)^(−a) 2F1(a, c−b; c; z/(z−1)) for z < 0 (or the same
// with a and b swapped, where that series' terms keep one sign and the
// other's do not); the linear
// transformation to 1−z (Abramowitz & Stegun 15.3.6) for 0.9 < z < 1 when
// c−a−b is not within 1e-3 of an integer, and the (slowly converging) power
// series otherwise; Gauss's theorem at z = 1 when c−a−b > 0. When a or b is a
// non-positive integer the series is a polynomial and is summed directly.
//
// Errors wrap ErrDomain (NaN arguments, c a non-positive integer, z > 1, or
// z = 1 with c−a−b ≤ 0) or ErrNoConvergence (the series did not reach
// double precision within its term budget, its terms or the
// transformation's cancel so that fewer than about 9 digits are left, or
// the result overflowed).
func Hyp2F1(a, b, c, z float64) (float64, error) {
	if math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(c) || math.IsNaN(z) ||
		math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsInf(c, 0) || math.IsInf(z, 0) {
		return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; %v): non-finite argument", ErrDomain, a, b, c, z)
	}
	if isNonPositiveInt(c) {
		return math.NaN(), fmt.Errorf("%w: hyp2f1: c = %v is a non-positive integer", ErrDomain, c)
	}
	if z > 1 {
		return math.NaN(), fmt.Errorf("%w: hyp2f1: z = %v > 1 (branch cut)", ErrDomain, z)
	}
	if a == 0 || b == 0 || z == 0 {
		return 1, nil
	}
	if (isNonPositiveInt(a) || isNonPositiveInt(b)) && z >= -1 {
		return hypSeries(a, b, c, z)
	}
	if z == 1 {
		s := c - a - b
		if s <= 0 {
			return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; 1) diverges (c−a−b = %v ≤ 0)", ErrDomain, a, b, c, s)
		}
		return hypFinite(gammaRatio([]float64{c, s}, []float64{c - a, c - b}), a, b, c, z)
	}
	if z < 0 {
		// Pfaff on a or, 2F1 being symmetric in a and b, on b: the one
		// whose series has terms of one sign where only it has (with a
		// b > c, say, 2F1(a, c−b; c; w) alternates and may cancel to
		// nothing: 2F1(1, 100; 1; −½) is 1.5⁻¹⁰⁰, 2F1(100, 0; 1; ⅓) = 1).
		p, q := a, b
		if !(a > 0 && c-b >= 0 && c > 0) && b > 0 && c-a >= 0 && c > 0 {
			p, q = b, a
		}
		w := z / (z - 1) // in (0, 1)
		poly := isNonPositiveInt(a) || isNonPositiveInt(b)
		f, err := Hyp2F1(p, c-q, c, w)
		if err != nil && !poly {
			return math.NaN(), err
		}
		v := math.Pow(1-z, -p) * f
		if poly && (err != nil || math.IsInf(v, 0) || math.IsNaN(v)) {
			// A polynomial whose Pfaff factor overflowed (z near
			// −MaxFloat64; 0 × ∞ is NaN), or whose transformed sum
			// cancelled: summed as it is.
			return hypSeries(a, b, c, z)
		}
		return hypFinite(v, a, b, c, z)
	}
	if z <= 0.9 {
		return hypSeries(a, b, c, z)
	}
	return Hyp2F1Comp(a, b, c, 1-z)
}

// Hyp2F1Comp returns 2F1(a, b; c; 1−y) for 0 < y < 0.1, with y = 1−z
// given as such: where z is within about 1e-16 of 1 it rounds to 1, but y
// does not, so the value is exact for horizons z cannot express.
//
// Method: the linear transformation to y (Abramowitz & Stegun 15.3.6)
// when c−a−b is not within 1e-3 of an integer (where its terms cancel to
// fewer than about 9 digits, the power series in z = 1−y if a, b > −1,
// c > 0 and it needs at most about 100,000 terms: its terms past the
// first then keep one sign; else an error wrapping ErrNoConvergence);
// otherwise the power series
// in z = 1−y, which converges slowly (the closer y is to 0, the more
// slowly): if it does not within its term budget, the error wraps
// ErrNoConvergence. Errors are otherwise as for Hyp2F1; y outside
// (0, 0.1) wraps ErrDomain.
func Hyp2F1Comp(a, b, c, y float64) (float64, error) {
	switch {
	case math.IsNaN(a) || math.IsNaN(b) || math.IsNaN(c) || math.IsNaN(y) ||
		math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsInf(c, 0):
		return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; 1−%v): non-finite argument", ErrDomain, a, b, c, y)
	case !(y > 0 && y < 0.1):
		return math.NaN(), fmt.Errorf("%w: hyp2f1 at 1−y: y = %v is outside (0, 0.1)", ErrDomain, y)
	case isNonPositiveInt(c):
		return math.NaN(), fmt.Errorf("%w: hyp2f1: c = %v is a non-positive integer", ErrDomain, c)
	case a == 0 || b == 0:
		return 1, nil
	case isNonPositiveInt(a) || isNonPositiveInt(b):
		return hypSeries(a, b, c, 1-y)
	}
	if v, ok := hypLargeC(a, b, c, 1-y); ok {
		return v, nil
	}
	v, err := hypComp(a, b, c, y)
	if err != nil && errors.Is(err, ErrNoConvergence) && a > -1 && b > -1 && c > 0 && seriesTerms(max(a, 0), max(b, 0), c, 1-y) <= directMax {
		// The transformation's terms cancelled: the series, whose terms
		// past the first keep one sign (a, b > −1, c > 0: each of (a)ₙ,
		// (b)ₙ keeps its sign from n = 1), in at most about directMax
		// terms; where they cancel the leading 1, hypSeries says so.
		return hypSeries(a, b, c, 1-y)
	}
	return v, err
}

// hypComp is Hyp2F1Comp past its checks and large-c series: the
// transformations to y.
func hypComp(a, b, c, y float64) (float64, error) {
	s := c - a - b
	if n := math.Round(s); math.Abs(s-n) < 1e-3 {
		switch {
		case y >= 1e-4: // at most about 500,000 terms
			return hypSeries(a, b, c, 1-y)
		case math.Abs(s-n) <= 1e-9 && n >= 0:
			return hypIntegerGap(a, b, int(n), y)
		case math.Abs(s-n) <= 1e-9:
			// Euler: F(a,b;c;z) = (1−z)^(c−a−b) F(c−a, c−b; c; z), whose
			// c−a−b is −n.
			f, err := Hyp2F1Comp(c-a, c-b, c, y)
			if err != nil {
				return math.NaN(), err
			}
			v := math.Pow(y, s) * f
			if math.IsInf(v, 0) || math.IsNaN(v) {
				return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; 1−%v): result not finite", ErrNoConvergence, a, b, c, y)
			}
			return v, nil
		}
		// 1e-9 < |c−a−b−n| < 1e-3 and y small: 15.3.6, whose two terms
		// are about 1/|c−a−b−n| times the value and cancel, losing that
		// many digits (at most 9 of 16).
	}
	// A&S 15.3.6.
	var total, size float64
	var span float64 // the sizes of a term's log-gammas (see cancelLimit)
	if g, gs := gammaRatioSpan([]float64{c, s}, []float64{c - a, c - b}); g != 0 {
		span = max(span, gs)
		f, err := hypSeries(a, b, 1-s, y)
		if err != nil {
			return math.NaN(), err
		}
		total += g * f
		size += math.Abs(g * f)
	}
	if g, gs := gammaRatioSpan([]float64{c, -s}, []float64{a, b}); g != 0 {
		span = max(span, gs+math.Abs(s*math.Log(y)))
		f, err := hypSeries(c-a, c-b, 1+s, y)
		if err != nil {
			return math.NaN(), err
		}
		t := g * math.Pow(y, s) * f
		total += t
		size += math.Abs(t)
	}
	if math.IsInf(total, 0) || math.IsNaN(total) {
		return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; 1−%v): result not finite", ErrNoConvergence, a, b, c, y)
	}
	// The two terms may cancel: by about 1/|c−a−b−n| near an integer n
	// (the digits the comment above allows), and past maxCancel
	// elsewhere, which leaves too few digits.
	limit := 1 / cancelLimit(span)
	if gap := math.Abs(s - math.Round(s)); gap < 1e-3 {
		limit = math.Max(limit, 4/gap)
	}
	if size > limit*math.Abs(total) {
		return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; 1−%v): the linear transformation's terms cancel (sizes %.3g, sum %.3g): too few digits left", ErrNoConvergence, a, b, c, y, size, total)
	}
	return total, nil
}

// hypLargeC returns 2F1(a, b; c; z) for 0 < z ≤ 1 by its power series,
// and true, where c is large against a and b: then the series' terms fall
// fast even at z = 1 (2F1(½, ½; 10⁹; 1−10⁻¹⁶) is 1 + 2.5·10⁻¹⁰ after
// four terms), while the forms of Hyp2F1Comp sum up to c terms (a
// billion, for seconds). With c ≥ 1000 and (|a|+1)(|b|+1) + |a| + |b| ≤
// c/4, each ratio of consecutive terms is at most ½ in size for the
// first c/4 terms (and the terms past those are below 2^−186 of the
// last one summed), so the rest of the sum is at most the last term: it
// stops when that is below the sum's precision, within 64 terms, or
// returns false.
func hypLargeC(a, b, c, z float64) (float64, bool) {
	A, B := math.Abs(a), math.Abs(b)
	if !(c >= 1e3 && (A+1)*(B+1)+A+B <= c/4) {
		return 0, false
	}
	sum, term := 1.0, 1.0
	for n := range 64 {
		fn := float64(n)
		term *= (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		sum += term
		if math.Abs(term) <= 1e-17*math.Abs(sum) {
			return sum, true
		}
	}
	return 0, false
}

// hypFinite returns v, the value of 2F1(a, b; c; z), or an error wrapping
// ErrNoConvergence where it is not a finite number (an overflow).
func hypFinite(v, a, b, c, z float64) (float64, error) {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; %v): result not finite", ErrNoConvergence, a, b, c, z)
	}
	return v, nil
}

// hypIntegerGap returns 2F1(a, b; a+b+m; 1−y) for an integer m ≥ 0 and
// 0 < y < 0.1, where A&S 15.3.6 has poles that cancel: the limit form
// (DLMF 15.8.10, A&S 15.3.10–15.3.11)
//
//	Γ(c)/(Γ(a+m)Γ(b+m)) Σ_{k<m} (a)_k (b)_k (m−k−1)!/k! (−y)^k
//	− Γ(c)/(Γ(a)Γ(b)) (−y)^m Σ_{k≥0} (a+m)_k (b+m)_k/(k! (k+m)!) y^k
//	  · [ln y − ψ(k+1) − ψ(k+m+1) + ψ(a+k+m) + ψ(b+k+m)]
//
// with c = a+b+m. Neither a nor b is a non-positive integer (Hyp2F1Comp
// sums those polynomials directly).
func hypIntegerGap(a, b float64, m int, y float64) (float64, error) {
	fm := float64(m)
	c := a + b + fm
	var head float64
	if m > 0 {
		term := 1.0 // (a)_k (b)_k (m−k−1)!/k! (−y)^k, from k = 0: (m−1)!
		for k := 1; k < m; k++ {
			term *= float64(k)
		}
		for k := 0; k < m; k++ {
			head += term
			if k+1 < m {
				fk := float64(k)
				term *= (a + fk) * (b + fk) / (fk + 1) / (fm - fk - 1) * -y
			}
		}
		head *= gammaRatio([]float64{c}, []float64{a + fm, b + fm})
	}
	// The tail: Σ t_k [ln y − ψ(k+1) − ψ(k+m+1) + ψ(a+k+m) + ψ(b+k+m)],
	// t_k = (a+m)_k (b+m)_k/(k! (k+m)!) y^k, from t_0 = 1/m!.
	t := 1.0
	for k := 2; k <= m; k++ {
		t /= float64(k)
	}
	ly := math.Log(y)
	var tail float64
	for k := 0; k < maxSeriesTerms; k++ {
		fk := float64(k)
		d := ly - Digamma(fk+1) - Digamma(fk+fm+1) + Digamma(a+fk+fm) + Digamma(b+fk+fm)
		tail += t * d
		if math.IsInf(tail, 0) || math.IsNaN(tail) {
			return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; 1−%v): result not finite", ErrNoConvergence, a, b, c, y)
		}
		t *= (a + fm + fk) * (b + fm + fk) / ((fk + 1) * (fk + fm + 1)) * y
		if t == 0 || k > 0 && math.Abs(t*d)*4 <= 1e-17*math.Abs(tail) && math.Abs(t)*4 <= 1e-17*math.Abs(tail) {
			break
		}
	}
	sign := 1.0
	if m%2 == 1 {
		sign = -1
	}
	v := head - gammaRatio([]float64{c}, []float64{a, b})*sign*math.Pow(y, fm)*tail
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; 1−%v): result not finite", ErrNoConvergence, a, b, c, y)
	}
	return v, nil
}

// hypSeries sums the 2F1 power series Σ (a)_n (b)_n / ((c)_n n!) z^n for
// |z| < 1 (or a terminating series), stopping when a geometric bound on the
// remaining tail is below double-precision rounding of the sum.
func hypSeries(a, b, c, z float64) (float64, error) {
	v, _, err := hypSeriesN(a, b, c, z, maxSeriesTerms)
	return v, err
}

// hypSeriesN is hypSeries with at most limit terms; it also returns how
// many it summed. Where the terms are of both signs and cancel, the sum
// keeps only the digits the sum of their sizes leaves it: past
// maxCancel, an error wrapping ErrNoConvergence, not a wrong number.
func hypSeriesN(a, b, c, z float64, limit int) (float64, int, error) {
	sum, term := 1.0, 1.0
	size := 1.0 // Σ |term|
	az := math.Abs(z)
	n := 0
	done := func(n int) (float64, int, error) {
		if size > maxCancel*math.Abs(sum) {
			return math.NaN(), n, fmt.Errorf("%w: hyp2f1 series (%v, %v; %v; %v): its terms cancel (their sizes sum to %.3g, the series to %.3g): too few digits left", ErrNoConvergence, a, b, c, z, size, sum)
		}
		return sum, n, nil
	}
	for ; n < limit; n++ {
		fn := float64(n)
		term *= (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		if term == 0 {
			return done(n + 1)
		}
		sum += term
		size += math.Abs(term)
		if math.IsInf(sum, 0) || math.IsNaN(sum) {
			return math.NaN(), n + 1, fmt.Errorf("%w: hyp2f1 series (%v, %v; %v; %v) overflowed", ErrNoConvergence, a, b, c, z)
		}
		// Ratio of the next term to this one; once it stays below 1 the
		// tail is bounded by a geometric series with ratio q. Not while
		// c+n is still to pass 0 (c negative): the ratio has a pole
		// there, and terms far larger than the sum so far come after it
		// (2F1(1, 301; −98.001; 0.09) looked summed at its 40th term).
		next := math.Abs((a + fn + 1) * (b + fn + 1) / ((c + fn + 1) * (fn + 2)) * z)
		q := math.Max(next, az)
		if q < 1 && c+fn+1 > 0 && math.Abs(term)*q/(1-q) <= 1e-17*math.Abs(sum) {
			return done(n + 1)
		}
	}
	return math.NaN(), n, fmt.Errorf("%w: hyp2f1 series (%v, %v; %v; %v) did not converge in %d terms",
		ErrNoConvergence, a, b, c, z, limit)
}

// gammaRatio returns Π Γ(num_i) / Π Γ(den_i), with signs, computed in log
// space. A pole in the denominator yields 0.
func gammaRatio(num, den []float64) float64 {
	v, _ := gammaRatioSpan(num, den)
	return v
}

// gammaRatioSpan is gammaRatio that also returns the sum of the sizes of
// the log-gammas it took (see cancelLimit).
func gammaRatioSpan(num, den []float64) (ratio, span float64) {
	var lg float64
	sign := 1
	for _, x := range num {
		v, s := math.Lgamma(x)
		lg += v
		span += math.Abs(v)
		sign *= s
	}
	for _, x := range den {
		if isNonPositiveInt(x) {
			return 0, span
		}
		v, s := math.Lgamma(x)
		lg -= v
		span += math.Abs(v)
		sign *= s
	}
	return float64(sign) * math.Exp(lg), span
}

func isNonPositiveInt(x float64) bool {
	return x <= 0 && x == math.Floor(x)
}

// LogHyp2F1 returns ln 2F1(a, b; c; z) for a, b, c > 0 and 0 ≤ z < 1, where
// the function is positive and may exceed the float64 range (it grows like
// (1−z)^(c−a−b) as z → 1 when c < a+b).
//
// Method: the power series summed with a running log scale for z ≤ 0.9
// or when c−a−b is within 1e-3 of an integer; otherwise the linear
// transformation to 1−z (Abramowitz & Stegun 15.3.6) with both terms in
// signed log space, and where its terms cancel to fewer than about 9
// digits, the series again if it needs at most about 100,000 terms (its
// terms are all positive: no digit is lost). Errors wrap ErrDomain or
// ErrNoConvergence as for Hyp2F1.
func LogHyp2F1(a, b, c, z float64) (float64, error) {
	v, _, err := LogHyp2F1N(a, b, c, z, maxSeriesTerms)
	return v, err
}

// LogHyp2F1N is LogHyp2F1 with at most limit terms in each series it
// sums (LogHyp2F1's limit is 5,000,000); it also returns how many terms
// it summed in all, so that a caller can bound the work of many calls
// (a series that needs more than limit is an ErrNoConvergence error).
func LogHyp2F1N(a, b, c, z float64, limit int) (float64, int, error) {
	if !(a > 0) || !(b > 0) || !(c > 0) || !(z >= 0) || !(z < 1) ||
		math.IsInf(a, 0) || math.IsInf(b, 0) || math.IsInf(c, 0) {
		return math.NaN(), 0, fmt.Errorf("%w: loghyp2f1(%v, %v; %v; %v): need a, b, c > 0 and 0 ≤ z < 1", ErrDomain, a, b, c, z)
	}
	if z == 0 {
		return 0, 0, nil
	}
	s := c - a - b
	if z <= 0.9 || math.Abs(s-math.Round(s)) < 1e-3 {
		return logHypSeries(a, b, c, z, limit)
	}
	v, used, err := logHyp1536(a, b, c, z, s, limit)
	if err != nil && errors.Is(err, ErrNoConvergence) && seriesTerms(a, b, c, z) <= directMax {
		// The transformation's terms cancelled: the series, whose terms
		// are all positive, keeps every digit, in at most about
		// directMax terms.
		d, n, err := logHypSeries(a, b, c, z, limit-used)
		return d, used + n, err
	}
	return v, used, err
}

// logHyp1536 is LogHyp2F1N's linear transformation to 1−z (A&S 15.3.6),
// s = c−a−b, in signed log space: an error wrapping ErrNoConvergence
// where a series or the two terms cancel.
func logHyp1536(a, b, c, z, s float64, limit int) (float64, int, error) {
	used := 0
	var span float64 // the largest sum of sizes of a term's logarithms (see cancelLimit)
	y := 1 - z
	ly := math.Log(y)
	lgc, _ := math.Lgamma(c)
	var logs [2]float64
	var signs [2]float64
	// Term 1: Γ(c)Γ(s)/(Γ(c−a)Γ(c−b)) · 2F1(a, b; 1−s; y).
	// Term 2: Γ(c)Γ(−s)/(Γ(a)Γ(b)) · y^s · 2F1(c−a, c−b; 1+s; y).
	terms := [2]struct {
		g      float64    // argument of the Γ in the numerator besides c
		den    [2]float64 // arguments of the Γs in the denominator
		fa, fb float64
		fc     float64
		pow    float64
	}{
		{s, [2]float64{c - a, c - b}, a, b, 1 - s, 0},
		{-s, [2]float64{a, b}, c - a, c - b, 1 + s, s},
	}
	for i, t := range terms {
		if isNonPositiveInt(t.den[0]) || isNonPositiveInt(t.den[1]) {
			logs[i], signs[i] = math.Inf(-1), 0
			continue
		}
		lg, sg := math.Lgamma(t.g)
		ld0, sd0 := math.Lgamma(t.den[0])
		ld1, sd1 := math.Lgamma(t.den[1])
		f, n, err := hypSeriesN(t.fa, t.fb, t.fc, y, limit)
		used += n
		if err != nil {
			return math.NaN(), used, err
		}
		if f == 0 {
			logs[i], signs[i] = math.Inf(-1), 0
			continue
		}
		sf := 1.0
		if f < 0 {
			sf = -1
		}
		logs[i] = lgc + lg - ld0 - ld1 + math.Log(math.Abs(f)) + t.pow*ly
		span = max(span, math.Abs(lgc)+math.Abs(lg)+math.Abs(ld0)+math.Abs(ld1)+math.Abs(t.pow*ly))
		signs[i] = float64(sg*sd0*sd1) * sf
	}
	lmax := math.Max(logs[0], logs[1])
	v := signs[0]*math.Exp(logs[0]-lmax) + signs[1]*math.Exp(logs[1]-lmax)
	if !(v > cancelLimit(span)) || math.IsInf(lmax, 0) || math.IsNaN(lmax) {
		return math.NaN(), used, fmt.Errorf("%w: loghyp2f1(%v, %v; %v; %v): cancellation in the 1−z transformation", ErrNoConvergence, a, b, c, z)
	}
	return lmax + math.Log(v), used, nil
}

// directMax is how many terms LogHyp2F1 sums directly rather than take
// the linear transformation to 1−z: the series' terms are all positive,
// so its sum keeps every digit, while the transformation's two terms may
// cancel (2F1(400.001, 100.001; 401.001; 0.91) is e^239.54; they gave
// e^271.09).
const directMax = 100_000

// seriesTerms estimates how many terms the series of 2F1(a, b; c; z)
// needs, for a, b, c > 0 and 0 < z < 1: its terms grow while the ratio
// of one to the one before, (a+n)(b+n)z/((c+n)(n+1)), is above 1, up to
// the positive root n* of (1−z)n² − ((a+b)z − c − 1)n − (abz − c), then
// fall by about z a term, to below 10⁻¹⁷ of the sum within about
// 40/(1−z) more.
func seriesTerms(a, b, c, z float64) float64 {
	p, q, r := 1-z, (a+b)*z-c-1, a*b*z-c
	peak := 0.0
	if d := q*q + 4*p*r; d > 0 {
		peak = math.Max(0, (q+math.Sqrt(d))/(2*p))
	}
	return peak + 40/p
}

// logHypSeries sums the 2F1 series for positive a, b, c and 0 < z < 1 (all
// terms positive) with a running log scale, returning the log of the sum.
// It sums at most limit terms, and returns how many it summed.
func logHypSeries(a, b, c, z float64, limit int) (float64, int, error) {
	var logScale float64
	sum, term := 1.0, 1.0
	n := 0
	for ; n < limit; n++ {
		fn := float64(n)
		term *= (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		sum += term
		if sum > 1e250 {
			logScale += math.Log(sum)
			term /= sum
			sum = 1
		}
		q := math.Max(z, (a+fn+1)*(b+fn+1)/((c+fn+1)*(fn+2))*z)
		if q < 1 && term*q/(1-q) <= 1e-17*sum {
			return logScale + math.Log(sum), n + 1, nil
		}
	}
	return math.NaN(), n, fmt.Errorf("%w: loghyp2f1 series (%v, %v; %v; %v) did not converge in %d terms",
		ErrNoConvergence, a, b, c, z, limit)
}
