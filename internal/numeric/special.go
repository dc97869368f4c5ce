// Package numeric provides the special functions and optimisers used by the
// customer-value models in lifecycle/clv: log-gamma and log-beta in log space,
// the digamma function, numerically stable log-sum-exp helpers, the Gauss
// hypergeometric function 2F1, and two unconstrained minimisers (BFGS with a
// strong-Wolfe line search, and Nelder–Mead with restarts).
//
// Failures are reported as errors: a series that does not converge or an
// optimiser that does not meet its tolerance returns an error wrapping
// ErrNoConvergence, and arguments outside a function's domain return an error
// wrapping ErrDomain. No function in this package panics on bad numbers.
package numeric

import (
	"errors"
	"math"
)

// ErrDomain is returned (wrapped) when an argument lies outside the domain of
// a function, e.g. a non-positive integer c in 2F1 or z > 1.
var ErrDomain = errors.New("numeric: argument out of domain")

// ErrNoConvergence is returned (wrapped) when an iterative method stops before
// meeting its tolerance.
var ErrNoConvergence = errors.New("numeric: no convergence")

// LogGamma returns ln|Γ(x)|. For x > 0 this is ln Γ(x). It returns +Inf at
// the poles (x = 0, -1, -2, ...).
func LogGamma(x float64) float64 {
	if x != 0 && math.Abs(x) < minNormal {
		// Γ(x) = 1/x − γ + O(x): ln|Γ(x)| = −ln|x| to the last bit, from
		// Log, which (math.Log on amd64, Go 1.26) is wrong for subnormal
		// numbers: −709.09 for 5e-324, whose logarithm is −744.44.
		return -Log(math.Abs(x))
	}
	v, _ := math.Lgamma(x)
	return v
}

// minNormal is the smallest normal float64, 2^−1022.
const minNormal = 0x1p-1022

// Log returns ln x, as math.Log does, but right for subnormal x (below
// 2^−1022), where math.Log on amd64 (Go 1.26) is not: it scales x up by
// 2^54 first.
func Log(x float64) float64 {
	if x > 0 && x < minNormal {
		return math.Log(x*0x1p54) - 54*math.Ln2
	}
	return math.Log(x)
}

// LogBeta returns ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a+b) for a, b > 0,
// with the larger argument's two log-gammas taken together by
// [LogGammaRatio] (ln B(1, 10^17) is −39.14; their difference kept no
// digit of it). It returns NaN when a or b is not positive.
func LogBeta(a, b float64) float64 {
	if !(a > 0) || !(b > 0) {
		return math.NaN()
	}
	if a > b {
		a, b = b, a
	}
	if b < 1e4 { // each log-gamma below 10⁵: the difference keeps 12 digits or more
		return LogGamma(a) + LogGamma(b) - LogGamma(a+b)
	}
	return LogGamma(a) - LogGammaRatio(b, a, 0)
}

// LogGammaRatio returns ln Γ(x+a) − ln Γ(x+b) for x+a > 0 and x+b > 0.
// Where x is large against a and b (x ≥ 10^4 and m^5 ≤ 10^-14 x^4, m the
// larger of 1, |a| and |b|) it sums the asymptotic series
// (a−b) ln x + Σ_{k=1}^{3} (−1)^{k+1} [B_{k+1}(a) − B_{k+1}(b)] / (k(k+1) x^k),
// with B the Bernoulli polynomials (the terms left out are below about
// 1e-14): the difference of the two log-gamma values, each about x ln x,
// keeps only the digits float64 holds past them (none at x = 10^16).
// Where a and b are within 0.1 of each other it is the integral of ψ
// from x+b to x+a, after the recurrence ln Γ(y+1) = ln Γ(y) + ln y has
// moved the interval above 10, by three-point Gauss–Legendre (its error,
// about (a−b)⁷ψ⁽⁶⁾/2·10⁶, is below 10⁻¹⁶ of the result there): the difference of two log-gamma values
// would keep only the digits past them (at x = 9999, a−b = 10⁻¹⁰, two
// of sixteen). Elsewhere it is that difference.
func LogGammaRatio(x, a, b float64) float64 {
	m := max(1, math.Abs(a), math.Abs(b))
	if m2, x2 := m*m, x*x; x >= 1e4 && m2*m2*m <= 1e-14*(x2*x2) {
		b2 := func(t float64) float64 { return t*t - t + 1.0/6 }
		b3 := func(t float64) float64 { return t * (t*t - 1.5*t + 0.5) }
		b4 := func(t float64) float64 { return t*t*(t*t-2*t+1) - 1.0/30 }
		return (a-b)*math.Log(x) + (b2(a)-b2(b))/(2*x) - (b3(a)-b3(b))/(6*x*x) + (b4(a)-b4(b))/(12*x*x*x)
	}
	y, d := x+b, a-b
	if d == 0 && y > 0 {
		return 0
	}
	if math.Abs(d) <= 0.1 && y > 0 && y+d > 0 && !math.IsInf(y, 0) {
		// ln Γ(y+d) − ln Γ(y) = [ln Γ(y+1+d) − ln Γ(y+1)] − ln(1 + d/y).
		var acc float64
		for ; y < 10; y++ {
			acc -= math.Log1p(d / y)
		}
		// ∫₀^d ψ(y+t) dt by Gauss–Legendre with nodes d/2·(1 ± √(3/5))
		// and d/2, weights 5/9, 5/9, 8/9 of d/2.
		h, off := d/2, d/2*math.Sqrt(0.6)
		return acc + h*(5*Digamma(y+h-off)+8*Digamma(y+h)+5*Digamma(y+h+off))/9
	}
	return LogGamma(x+a) - LogGamma(x+b)
}

// Digamma returns ψ(x) = d/dx ln Γ(x). It uses the reflection formula for
// x < 0, the recurrence ψ(x) = ψ(x+1) − 1/x to shift x above 10, and the
// asymptotic series beyond that (absolute error below about 1e-14). It returns
// NaN at the poles x = 0, -1, -2, ... and for NaN input.
func Digamma(x float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, -1):
		return math.NaN()
	case math.IsInf(x, 1):
		return math.Inf(1)
	case x <= 0:
		if x == math.Floor(x) {
			return math.NaN()
		}
		// ψ(x) = ψ(1−x) − π / tan(πx), tan taken of π times x less the
		// nearest whole number (exact; tan has period π): π·x rounded
		// for a large x is off by many periods' digits.
		return Digamma(1-x) - math.Pi/math.Tan(math.Pi*(x-math.Round(x)))
	}
	var acc float64
	for x < 10 {
		acc -= 1 / x
		x++
	}
	inv := 1 / x
	inv2 := inv * inv
	// Bernoulli-number series: −Σ B_{2k} / (2k x^{2k}).
	series := inv2 * (1.0/12 - inv2*(1.0/120-inv2*(1.0/252-inv2*(1.0/240-inv2*(1.0/132)))))
	return acc + math.Log(x) - 0.5*inv - series
}

// Log1pExp returns ln(1 + e^x) without overflow for large x or loss of
// precision for very negative x.
func Log1pExp(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// LogSumExp returns ln(e^a + e^b) computed stably. Either argument may be
// −Inf (representing a zero term).
func LogSumExp(a, b float64) float64 {
	if a < b {
		a, b = b, a
	}
	if math.IsInf(a, -1) {
		return a
	}
	return a + math.Log1p(math.Exp(b-a))
}

// LogDiffExp returns ln(e^a − e^b) for a ≥ b, computed stably. It returns
// −Inf when a == b and NaN when a < b.
func LogDiffExp(a, b float64) float64 {
	switch {
	case a < b || math.IsNaN(a) || math.IsNaN(b):
		return math.NaN()
	case a == b || math.IsInf(a, -1):
		return math.Inf(-1)
	}
	d := b - a
	if d > -math.Ln2 {
		return a + math.Log(-math.Expm1(d))
	}
	return a + math.Log1p(-math.Exp(d))
}

// Trigamma returns ψ₁(x) = d²/dx² ln Γ(x) for x > 0. It uses the
// recurrence ψ₁(x) = ψ₁(x+1) + 1/x² to shift x to at least 10 and the
// asymptotic series beyond that (relative error below about 1e-14). It
// returns NaN for x ≤ 0 and NaN input, and 0 at +Inf.
func Trigamma(x float64) float64 {
	switch {
	case !(x > 0):
		return math.NaN()
	case math.IsInf(x, 1):
		return 0
	}
	var acc float64
	for x < 10 {
		acc += 1 / (x * x)
		x++
	}
	inv := 1 / x
	inv2 := inv * inv
	// 1/x + 1/(2x²) + Σ B_{2k}/x^{2k+1}.
	series := inv * (1 + inv*(0.5+inv*(1.0/6-inv2*(1.0/30-inv2*(1.0/42-inv2*(1.0/30-inv2*(5.0/66-inv2*(691.0/2730-inv2*(7.0/6)))))))))
	return acc + series
}
