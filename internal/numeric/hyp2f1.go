package numeric

import (
	"fmt"
	"math"
)

// maxSeriesTerms bounds the number of terms summed by the 2F1 power series.
const maxSeriesTerms = 5_000_000

// Hyp2F1 returns the Gauss hypergeometric function 2F1(a, b; c; z) for real
// arguments and z ≤ 1.
//
// Method: the defining power series for 0 ≤ z ≤ 0.9; Pfaff's transformation
// 2F1(a,b;c;z) = (1−z)^(−a) 2F1(a, c−b; c; z/(z−1)) for z < 0; the linear
// transformation to 1−z (Abramowitz & Stegun 15.3.6) for 0.9 < z < 1 when
// c−a−b is not within 1e-3 of an integer, and the (slowly converging) power
// series otherwise; Gauss's theorem at z = 1 when c−a−b > 0. When a or b is a
// non-positive integer the series is a polynomial and is summed directly.
//
// Errors wrap ErrDomain (NaN arguments, c a non-positive integer, z > 1, or
// z = 1 with c−a−b ≤ 0) or ErrNoConvergence (the series did not reach
// double precision within its term budget, or the result overflowed).
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
		return gammaRatio([]float64{c, s}, []float64{c - a, c - b}), nil
	}
	if z < 0 {
		w := z / (z - 1) // in (0, 1)
		f, err := Hyp2F1(a, c-b, c, w)
		if err != nil {
			return math.NaN(), err
		}
		return math.Pow(1-z, -a) * f, nil
	}
	if z <= 0.9 {
		return hypSeries(a, b, c, z)
	}
	s := c - a - b
	if math.Abs(s-math.Round(s)) < 1e-3 {
		return hypSeries(a, b, c, z)
	}
	// A&S 15.3.6.
	y := 1 - z
	var total float64
	if g := gammaRatio([]float64{c, s}, []float64{c - a, c - b}); g != 0 {
		f, err := hypSeries(a, b, 1-s, y)
		if err != nil {
			return math.NaN(), err
		}
		total += g * f
	}
	if g := gammaRatio([]float64{c, -s}, []float64{a, b}); g != 0 {
		f, err := hypSeries(c-a, c-b, 1+s, y)
		if err != nil {
			return math.NaN(), err
		}
		total += g * math.Pow(y, s) * f
	}
	if math.IsInf(total, 0) || math.IsNaN(total) {
		return math.NaN(), fmt.Errorf("%w: hyp2f1(%v, %v; %v; %v): result not finite", ErrNoConvergence, a, b, c, z)
	}
	return total, nil
}

// hypSeries sums the 2F1 power series Σ (a)_n (b)_n / ((c)_n n!) z^n for
// |z| < 1 (or a terminating series), stopping when a geometric bound on the
// remaining tail is below double-precision rounding of the sum.
func hypSeries(a, b, c, z float64) (float64, error) {
	sum, term := 1.0, 1.0
	az := math.Abs(z)
	for n := 0; n < maxSeriesTerms; n++ {
		fn := float64(n)
		term *= (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		if term == 0 {
			return sum, nil
		}
		sum += term
		if math.IsInf(sum, 0) || math.IsNaN(sum) {
			return math.NaN(), fmt.Errorf("%w: hyp2f1 series (%v, %v; %v; %v) overflowed", ErrNoConvergence, a, b, c, z)
		}
		// Ratio of the next term to this one; once it stays below 1 the
		// tail is bounded by a geometric series with ratio q.
		next := math.Abs((a + fn + 1) * (b + fn + 1) / ((c + fn + 1) * (fn + 2)) * z)
		q := math.Max(next, az)
		if q < 1 && math.Abs(term)*q/(1-q) <= 1e-17*math.Abs(sum) {
			return sum, nil
		}
	}
	return math.NaN(), fmt.Errorf("%w: hyp2f1 series (%v, %v; %v; %v) did not converge in %d terms",
		ErrNoConvergence, a, b, c, z, maxSeriesTerms)
}

// gammaRatio returns Π Γ(num_i) / Π Γ(den_i), with signs, computed in log
// space. A pole in the denominator yields 0.
func gammaRatio(num, den []float64) float64 {
	var lg float64
	sign := 1
	for _, x := range num {
		v, s := math.Lgamma(x)
		lg += v
		sign *= s
	}
	for _, x := range den {
		if isNonPositiveInt(x) {
			return 0
		}
		v, s := math.Lgamma(x)
		lg -= v
		sign *= s
	}
	return float64(sign) * math.Exp(lg)
}

func isNonPositiveInt(x float64) bool {
	return x <= 0 && x == math.Floor(x)
}
